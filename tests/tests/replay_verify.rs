//! `ledgerbot replay verify`, `checkpoint` and `keygen`: the events' hash chain,
//! computed by the database at insert and recomputed by the real binary, finds each
//! kind of tampering at its aggregate and sequence; a signed checkpoint finds what a
//! chain cannot (a whole stream or a last event removed, a history rewritten with
//! its chain recomputed); a checkpoint that was altered or signed by another key is
//! refused.

use serde_json::Value;
use sqlx::PgPool;
use tests::TestContext;
use tests::app::run_ledgerbot;
use tests::history::business;

/// Aggregates of the scripted week with at least `events` events, by type.
async fn aggregates_with(pool: &PgPool, events: i64) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, max(sequence) FROM events \
         GROUP BY 1, 2 HAVING count(*) >= $1 ORDER BY 1, 2",
    )
    .bind(events)
    .fetch_all(pool)
    .await
    .expect("reads")
}

/// Runs `statements` as a tamperer with the database's owner rights would: with the
/// append-only (and, for a forged row, the chain) trigger switched off.
async fn tamper(pool: &PgPool, statements: &[&str]) {
    let mut transaction = pool.begin().await.expect("begins");
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_append_only")
        .execute(&mut *transaction)
        .await
        .expect("disables");
    for statement in statements {
        sqlx::query(statement)
            .execute(&mut *transaction)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_append_only")
        .execute(&mut *transaction)
        .await
        .expect("enables");
    transaction.commit().await.expect("commits");
}

fn report(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

/// The findings as (kind, type, id, sequence-ish) for comparison.
fn findings(report: &Value) -> Vec<(String, String, String, i64)> {
    let mut found: Vec<(String, String, String, i64)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            let number = ["sequence", "from", "checkpoint_sequence"]
                .iter()
                .find_map(|key| finding[*key].as_i64())
                .unwrap_or(-1);
            (
                finding["finding"].as_str().unwrap_or_default().to_owned(),
                finding["aggregate_type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                finding["aggregate_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                number,
            )
        })
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn verify_finds_every_kind_of_tampering_at_its_aggregate_and_sequence() {
    let context = TestContext::new().await;
    business(&context.pool).await;
    // As after the relay has published everything.
    sqlx::query("DELETE FROM outbox")
        .execute(&context.pool)
        .await
        .expect("empties the outbox");
    let env = context.env();
    let dir = std::env::temp_dir().join(format!("lbt_verify_{}", context.id));
    std::fs::create_dir_all(&dir).expect("a folder");
    let key = dir.join("auditor.key");
    let checkpoint = dir.join("week.checkpoint");
    let (key_arg, checkpoint_arg) = (key.display().to_string(), checkpoint.display().to_string());

    // The Rust definition of the hash equals the database's: every stored link holds.
    let clean = run_ledgerbot(&["replay", "verify", "--json"], &env).await;
    assert_eq!(clean.code, Some(0), "{clean:?}");
    let clean = report(&clean.stdout);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&context.pool)
        .await
        .expect("counts");
    assert_eq!(clean["events"].as_i64(), Some(stored));
    assert_eq!(clean["finding_count"], 0);

    let made = run_ledgerbot(&["replay", "keygen", &key_arg], &env).await;
    assert_eq!(made.code, Some(0), "{made:?}");
    let public_key = made.stdout.trim().to_owned();
    assert_eq!(public_key.len(), 64, "{public_key}");
    let again = run_ledgerbot(&["replay", "keygen", &key_arg], &env).await;
    assert_eq!(again.code, Some(2), "a key is never overwritten: {again:?}");
    let signed = run_ledgerbot(
        &[
            "replay",
            "checkpoint",
            "--key",
            &key_arg,
            "--out",
            &checkpoint_arg,
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(signed.code, Some(0), "{signed:?}");
    assert_eq!(report(&signed.stdout)["public_key"], public_key.as_str());

    // Six aggregates, one tampering each.
    let long = aggregates_with(&context.pool, 3).await;
    assert!(
        long.len() >= 6,
        "the week has enough long histories: {long:?}"
    );
    let [changed, deleted_row, forged, whole, tail, rewritten] =
        std::array::from_fn(|index| long[index].clone());
    let at = |(kind, id, _): &(String, String, i64)| {
        format!("aggregate_type = '{kind}' AND aggregate_id = '{id}'")
    };
    tamper(
        &context.pool,
        &[
            &format!(
                "UPDATE events SET payload = '{{\"forged\": true}}' WHERE {} AND sequence = 2",
                at(&changed)
            ),
            &format!("DELETE FROM events WHERE {} AND sequence = 2", at(&deleted_row)),
            "ALTER TABLE events DISABLE TRIGGER events_hash_chain",
            &format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, hash) \
                 SELECT aggregate_type, aggregate_id, sequence + 1, event_type, event_version, payload, metadata, hash \
                 FROM events WHERE {} AND sequence = {}",
                at(&forged),
                forged.2
            ),
            "ALTER TABLE events ENABLE TRIGGER events_hash_chain",
            &format!("DELETE FROM events WHERE {}", at(&whole)),
            &format!("DELETE FROM events WHERE {} AND sequence = {}", at(&tail), tail.2),
            // A careful tamperer changes the first event and recomputes the chain
            // after it with the database's own function: every link holds again.
            &format!(
                "UPDATE events SET payload = '{{\"rewritten\": true}}' WHERE {} AND sequence = 1",
                at(&rewritten)
            ),
            &format!(
                "DO $$ DECLARE e events; previous bytea; BEGIN \
                 FOR e IN SELECT * FROM events WHERE {} ORDER BY sequence LOOP \
                   previous := events_hash(previous, e); \
                   UPDATE events SET hash = previous WHERE aggregate_type = e.aggregate_type AND aggregate_id = e.aggregate_id AND sequence = e.sequence; \
                 END LOOP; END $$",
                at(&rewritten)
            ),
        ],
    )
    .await;
    // And a projection that claims an event the store lacks.
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection, aggregate_type, aggregate_id, sequence) \
         VALUES ('orders', $1, $2, $3)",
    )
    .bind(&tail.0)
    .bind(&tail.1)
    .bind(tail.2)
    .execute(&context.pool)
    .await
    .expect("a checkpoint");

    let chains = run_ledgerbot(&["replay", "verify", "--json"], &env).await;
    assert_eq!(chains.code, Some(1), "{chains:?}");
    let chains = report(&chains.stdout);
    let finding =
        |kind: &str, (aggregate_type, aggregate_id, _): &(String, String, i64), n: i64| {
            (
                kind.to_owned(),
                aggregate_type.clone(),
                aggregate_id.clone(),
                n,
            )
        };
    let mut expected = vec![
        finding("broken_link", &changed, 2),
        finding("missing_events", &deleted_row, 2),
        finding("broken_link", &forged, forged.2 + 1),
        finding("dangling_reference", &tail, tail.2),
    ];
    expected.sort();
    assert_eq!(
        findings(&chains),
        expected,
        "without a checkpoint, the chain finds the changed, deleted and forged rows, and the projection's claim: {chains:#}"
    );

    let signed_by_other = run_ledgerbot(
        &[
            "replay",
            "verify",
            "--against",
            &checkpoint_arg,
            "--public-key",
            &"ab".repeat(32),
        ],
        &env,
    )
    .await;
    assert_eq!(signed_by_other.code, Some(1), "{signed_by_other:?}");
    assert!(
        signed_by_other.stderr.contains("not by the key given"),
        "{signed_by_other:?}"
    );

    let against = run_ledgerbot(
        &[
            "replay",
            "verify",
            "--against",
            &checkpoint_arg,
            "--public-key",
            &public_key,
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(against.code, Some(1), "{against:?}");
    let against = report(&against.stdout);
    expected.extend([
        finding("missing_stream", &whole, whole.2),
        finding("missing_tail", &tail, tail.2),
        finding("head_rewritten", &rewritten, rewritten.2),
    ]);
    expected.sort();
    assert_eq!(
        findings(&against),
        expected,
        "against the checkpoint, also the stream, the tail and the rewritten history: {against:#}"
    );
    assert_eq!(against["checkpoint"]["public_key"], public_key.as_str());

    let text = run_ledgerbot(
        &[
            "replay",
            "verify",
            "--against",
            &checkpoint_arg,
            "--public-key",
            &public_key,
        ],
        &env,
    )
    .await;
    assert_eq!(text.code, Some(1));
    for line in [
        format!("broken link: {} {} #2", changed.0, changed.1),
        format!("missing event: {} {} #2", deleted_row.0, deleted_row.1),
        format!("missing stream: {} {}", whole.0, whole.1),
        format!(
            "missing tail: {} {} ends at #{}",
            tail.0,
            tail.1,
            tail.2 - 1
        ),
        format!(
            "rewritten: {} {} #{}",
            rewritten.0, rewritten.1, rewritten.2
        ),
        "NOT verified: 7 finding(s)".to_owned(),
    ] {
        assert!(text.stdout.contains(&line), "{line:?} in {}", text.stdout);
    }

    // A checkpoint is only ever checked against the key the auditor kept.
    let unpinned = run_ledgerbot(&["replay", "verify", "--against", &checkpoint_arg], &env).await;
    assert_eq!(unpinned.code, Some(2), "{unpinned:?}");

    // A tampered log gets no signature.
    let refused = dir.join("refused.checkpoint");
    let refused_arg = refused.display().to_string();
    let unsigned = run_ledgerbot(
        &[
            "replay",
            "checkpoint",
            "--key",
            &key_arg,
            "--out",
            &refused_arg,
        ],
        &env,
    )
    .await;
    assert_eq!(unsigned.code, Some(1), "{unsigned:?}");
    assert!(!refused.exists(), "nothing written");

    // A checkpoint edited to hide the removals is refused.
    let original = std::fs::read_to_string(&checkpoint).expect("reads");
    let edited: String = original
        .lines()
        .filter(|line| !line.contains(&format!("\"aggregate_id\":\"{}\"", whole.1)))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(edited, original);
    std::fs::write(&checkpoint, edited).expect("writes");
    let edited = run_ledgerbot(
        &[
            "replay",
            "verify",
            "--against",
            &checkpoint_arg,
            "--public-key",
            &public_key,
        ],
        &env,
    )
    .await;
    assert_eq!(edited.code, Some(1), "{edited:?}");
    assert!(
        edited.stderr.contains("do not match the signed digest"),
        "{edited:?}"
    );

    let _ = std::fs::remove_dir_all(&dir);
    context.cleanup().await;
}
