//! The plain-transaction baseline the load benchmarks print next to Ledgerbot's
//! figures: a minimal axum endpoint, `POST /spend {"account": n, "amount": a}`, whose
//! spend is one locked transaction on a balance row (no events, no read models), as a
//! plain web service would write it.

use axum::extract::State;
use axum::routing::post;
use serde_json::Value;
use sqlx::PgPool;

/// A spend as a plain web service would do it: lock the balance row, check, update,
/// record the spend, commit.
pub async fn serve(pool: PgPool, accounts: usize) -> std::net::SocketAddr {
    sqlx::query(
        "CREATE TABLE plain_balances (account bigint PRIMARY KEY, balance bigint NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("the baseline's table");
    sqlx::query("CREATE TABLE plain_spends (id bigserial PRIMARY KEY, account bigint NOT NULL, amount bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())")
        .execute(&pool)
        .await
        .expect("the baseline's table");
    sqlx::query("INSERT INTO plain_balances SELECT n, 1000000 FROM generate_series(0, $1 - 1) n")
        .bind(accounts as i64)
        .execute(&pool)
        .await
        .expect("balances");
    async fn spend(
        State(pool): State<PgPool>,
        axum::Json(body): axum::Json<Value>,
    ) -> axum::http::StatusCode {
        let (account, amount) = (
            body["account"].as_i64().unwrap_or(0),
            body["amount"].as_i64().unwrap_or(1),
        );
        let outcome = async {
            let mut transaction = pool.begin().await?;
            let balance: i64 = sqlx::query_scalar(
                "SELECT balance FROM plain_balances WHERE account = $1 FOR UPDATE",
            )
            .bind(account)
            .fetch_one(&mut *transaction)
            .await?;
            if balance < amount {
                return Ok::<_, sqlx::Error>(axum::http::StatusCode::CONFLICT);
            }
            sqlx::query("UPDATE plain_balances SET balance = balance - $2 WHERE account = $1")
                .bind(account)
                .bind(amount)
                .execute(&mut *transaction)
                .await?;
            sqlx::query("INSERT INTO plain_spends (account, amount) VALUES ($1, $2)")
                .bind(account)
                .bind(amount)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            Ok(axum::http::StatusCode::OK)
        };
        outcome
            .await
            .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE)
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    let router = axum::Router::new()
        .route("/spend", post(spend))
        .with_state(pool);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    address
}
