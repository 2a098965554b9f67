//! The README's data dictionary is the truth about the read models: every `rm_`
//! table and view, every column in order with its type, and nothing that is not in
//! the database; and the analysts' role made by `ledgerbot replay analyst-role`
//! reads exactly those and nothing else.

use std::collections::BTreeMap;

use sqlx::{Connection, PgConnection};
use tests::app::run_ledgerbot;
use tests::{TestContext, admin_database_url};

/// relation -> columns (name, type) in order, as the README's section lists them.
fn documented() -> BTreeMap<String, Vec<(String, String)>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("the README");
    let section = readme
        .split("\n## Data dictionary\n")
        .nth(1)
        .expect("the README has a '## Data dictionary' section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut relations: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        if let Some(heading) = line.strip_prefix("### `") {
            let name = heading.split('`').next().unwrap_or_default().to_owned();
            assert!(
                relations.insert(name.clone(), Vec::new()).is_none(),
                "{name} twice"
            );
            current = Some(name);
        } else if let (Some(name), Some(row)) = (&current, line.strip_prefix("| `")) {
            let mut cells = row.split(" | ");
            let column = cells
                .next()
                .unwrap_or_default()
                .trim_end_matches('`')
                .to_owned();
            let kind = cells.next().unwrap_or_default().trim().to_owned();
            let meaning = cells
                .next()
                .unwrap_or_default()
                .trim_end_matches('|')
                .trim();
            assert!(meaning.len() > 8, "{name}.{column} has no meaning written");
            if let Some(columns) = relations.get_mut(name) {
                columns.push((column, kind));
            }
        }
    }
    relations
}

#[tokio::test]
async fn the_readme_documents_every_read_model_table_and_column_as_the_database_has_it() {
    let context = TestContext::new().await;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid \
         WHERE n.nspname = 'public' AND c.relname LIKE 'rm\\_%' AND c.relkind IN ('r', 'v') \
           AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY c.relname, a.attnum",
    )
    .fetch_all(&context.pool)
    .await
    .expect("reads the catalogue");
    let mut database: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (relation, column, kind) in rows {
        database.entry(relation).or_default().push((column, kind));
    }
    let readme = documented();
    let missing: Vec<&String> = database
        .keys()
        .filter(|name| !readme.contains_key(*name))
        .collect();
    let gone: Vec<&String> = readme
        .keys()
        .filter(|name| !database.contains_key(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "read models the README does not document: {missing:?}"
    );
    assert!(
        gone.is_empty(),
        "the README documents relations the database lacks: {gone:?}"
    );
    for (name, columns) in &database {
        assert_eq!(
            &readme[name], columns,
            "the README's columns of {name} (name, type, in order) differ from the database's"
        );
    }
    context.cleanup().await;
}

#[tokio::test]
async fn an_analyst_reads_the_read_models_and_nothing_else() {
    let context = TestContext::new().await;
    let role = format!("lbt_analyst_{}", &context.id[..12]);
    let mut env = context.env();
    env.push((
        "LBT_ANALYST_PASSWORD".into(),
        "s3cret'; DROP TABLE events; --".into(),
    ));
    let made = run_ledgerbot(
        &[
            "replay",
            "analyst-role",
            &role,
            "--password-env",
            "LBT_ANALYST_PASSWORD",
        ],
        &env,
    )
    .await;
    assert_eq!(made.code, Some(0), "{made:?}");
    assert!(
        made.stdout
            .starts_with(&format!("created {role} (may log in)")),
        "{}",
        made.stdout
    );
    let again = run_ledgerbot(
        &[
            "replay",
            "analyst-role",
            &role,
            "--password-env",
            "LBT_ANALYST_PASSWORD",
        ],
        &env,
    )
    .await;
    assert!(
        again.stdout.starts_with(&format!("updated {role}")),
        "{again:?}"
    );
    let stored: String = sqlx::query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
        .bind(&role)
        .fetch_one(&context.pool)
        .await
        .expect("reads");
    assert!(
        stored.starts_with("SCRAM-SHA-256$4096:"),
        "a verifier, never the password: {stored}"
    );

    let options: sqlx::postgres::PgConnectOptions = context.database_url.parse().expect("a URL");
    let mut analyst = PgConnection::connect_with(
        &options
            .username(&role)
            .password("s3cret'; DROP TABLE events; --"),
    )
    .await
    .expect("the analyst logs in");
    for readable in [
        "rm_orders",
        "rm_order_pool",
        "rm_user_overview",
        "rm_tax_lines",
        "rm_credit_statement",
    ] {
        sqlx::query(&format!("SELECT count(*) FROM {readable}"))
            .execute(&mut analyst)
            .await
            .unwrap_or_else(|error| panic!("{readable}: {error}"));
    }
    for hidden in [
        "events",
        "snapshots",
        "outbox",
        "telegram_identities",
        "auth_refresh_tokens",
        "auth_login_codes",
        "user_directory",
        "payment_requests",
        "bot_dialogues",
        "projection_checkpoints",
        "notification_parties",
    ] {
        let refused = sqlx::query(&format!("SELECT count(*) FROM {hidden}"))
            .execute(&mut analyst)
            .await
            .expect_err(hidden);
        let code = refused
            .as_database_error()
            .and_then(|error| error.code())
            .map(|code| code.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{hidden}: {refused}");
    }
    let write = sqlx::query("DELETE FROM rm_orders")
        .execute(&mut analyst)
        .await
        .expect_err("read-only");
    assert!(write.to_string().contains("permission denied"), "{write}");
    analyst.close().await.ok();

    let bad = run_ledgerbot(&["replay", "analyst-role", "Robert'); DROP"], &env).await;
    assert_eq!(bad.code, Some(2), "{bad:?}");
    let runner: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&context.pool)
        .await
        .expect("reads");
    let superuser = run_ledgerbot(&["replay", "analyst-role", &runner], &env).await;
    assert_eq!(
        superuser.code,
        Some(2),
        "a privileged role is never narrowed: {superuser:?}"
    );

    context.cleanup().await;
    let mut admin = PgConnection::connect(&admin_database_url())
        .await
        .expect("connects");
    sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
        .execute(&mut admin)
        .await
        .expect("the role goes");
}
