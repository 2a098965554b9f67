//! Liveness (the process answers) and readiness (its dependencies answer).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{AppState, CHECK_TIMEOUT};

pub async fn live() -> Json<Value> {
    Json(json!({ "status": "live" }))
}

/// 200 when Postgres answers a query and NATS is connected with JetStream enabled;
/// otherwise 503 with the reason for each failing dependency.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (postgres, nats) = tokio::join!(check_postgres(&state), check_nats(&state));
    let ready = postgres.is_ok() && nats.is_ok();
    let verdict = |check: Result<(), String>| match check {
        Ok(()) => "ok".to_owned(),
        Err(reason) => reason,
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": { "postgres": verdict(postgres), "nats": verdict(nats) },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

async fn check_postgres(state: &AppState) -> Result<(), String> {
    let query = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool);
    match tokio::time::timeout(CHECK_TIMEOUT, query).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(format!("Postgres query failed: {error}")),
        Err(_) => Err(format!(
            "Postgres did not answer within {} s",
            CHECK_TIMEOUT.as_secs()
        )),
    }
}

async fn check_nats(state: &AppState) -> Result<(), String> {
    let connection = state.nats.connection_state();
    if connection != async_nats::connection::State::Connected {
        return Err(format!("NATS is not connected (state: {connection})"));
    }
    // A raw account-info request: it works with every JetStream-enabled server version
    // and fails with "no responders" when JetStream is off.
    let request = state.nats.request("$JS.API.INFO", bytes::Bytes::new());
    match tokio::time::timeout(CHECK_TIMEOUT, request).await {
        Ok(Ok(reply)) => match serde_json::from_slice::<Value>(&reply.payload) {
            Ok(info) if info.get("error").is_none() => Ok(()),
            Ok(info) => Err(format!("JetStream is not available: {}", info["error"])),
            Err(error) => Err(format!("JetStream answered something unreadable: {error}")),
        },
        Ok(Err(error)) => Err(format!("JetStream is not available: {error}")),
        Err(_) => Err(format!(
            "JetStream did not answer within {} s",
            CHECK_TIMEOUT.as_secs()
        )),
    }
}
