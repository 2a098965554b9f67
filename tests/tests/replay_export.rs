//! `ledgerbot replay export`: the events of a range as JSON Lines and CSV (stored
//! JSON copied through, with each event's hash), and the accountant's tax ledger and
//! receipts register as CSV and XLSX, from read models the tool rebuilt from the
//! store (no worker ever ran here).

use serde_json::Value;
use tests::TestContext;
use tests::app::run_ledgerbot;
use tests::history::{business, things};

#[tokio::test]
async fn events_the_tax_ledger_and_the_receipts_are_exported_for_auditors_and_accountants() {
    let context = TestContext::new().await;
    business(&context.pool).await;
    let env = context.env();
    let dir = std::env::temp_dir().join(format!("lbt_export_{}", context.id));
    std::fs::create_dir_all(&dir).expect("a folder");
    let path = |name: &str| dir.join(name).display().to_string();

    let all = run_ledgerbot(&["replay", "export", "events"], &env).await;
    assert_eq!(all.code, Some(0), "{all:?}");
    let exported: Vec<Value> = all
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let stored: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT global_position, payload::text, encode(hash, 'hex') FROM events ORDER BY global_position",
    )
    .fetch_all(&context.pool)
    .await
    .expect("reads");
    assert_eq!(exported.len(), stored.len());
    for (event, (position, payload, hash)) in exported.iter().zip(&stored) {
        assert_eq!(event["position"].as_i64(), Some(*position));
        assert_eq!(event["hash"].as_str(), Some(hash.as_str()));
        let stored_payload: Value = serde_json::from_str(payload).expect("JSON");
        assert_eq!(event["payload"], stored_payload);
    }

    // A range: one order's events from its third position on.
    let order = things::COURSEWORK_DONE.to_string();
    let positions: Vec<i64> = sqlx::query_scalar(
        "SELECT global_position FROM events WHERE aggregate_type = 'Order' AND aggregate_id = $1 ORDER BY 1",
    )
    .bind(&order)
    .fetch_all(&context.pool)
    .await
    .expect("reads");
    let (from, to) = (
        positions[2].to_string(),
        positions[positions.len() - 1].to_string(),
    );
    let ranged = run_ledgerbot(
        &[
            "replay",
            "export",
            "events",
            "--type",
            "Order",
            "--id",
            &order,
            "--from",
            &from,
            "--to",
            &to,
            "--format",
            "csv",
            "--out",
            &path("order.csv"),
        ],
        &env,
    )
    .await;
    assert_eq!(ranged.code, Some(0), "{ranged:?}");
    let csv = std::fs::read_to_string(dir.join("order.csv")).expect("written");
    let rows: Vec<&str> = csv.split("\r\n").filter(|line| !line.is_empty()).collect();
    assert_eq!(
        rows[0],
        "position,recorded_at,aggregate_type,aggregate_id,sequence,event_type,event_version,metadata,payload,hash"
    );
    assert_eq!(
        rows.len() - 1,
        positions.len() - 3,
        "from included, to excluded: {csv}"
    );
    assert!(
        rows[1].starts_with(&format!("{},", positions[2])),
        "{}",
        rows[1]
    );
    let by_time = run_ledgerbot(
        &[
            "replay",
            "export",
            "events",
            "--from",
            "2100-01-01T00:00:00Z",
        ],
        &env,
    )
    .await;
    assert_eq!(
        (by_time.code, by_time.stdout.as_str()),
        (Some(0), ""),
        "nothing that late"
    );

    // The accountant's files come from the read models, built here from the store.
    let rebuilt = run_ledgerbot(&["replay", "rebuild", "tax_ledger"], &env).await;
    assert_eq!(rebuilt.code, Some(0), "{rebuilt:?}");
    let lines: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rm_tax_lines WHERE tax_month = '2026-11-01'")
            .fetch_one(&context.pool)
            .await
            .expect("counts");
    assert!(lines > 3, "the week's payments and refunds are taxed");
    let ledger = run_ledgerbot(
        &[
            "replay",
            "export",
            "tax-ledger",
            "2026-11",
            "--format",
            "csv",
            "--out",
            &path("ledger.csv"),
        ],
        &env,
    )
    .await;
    assert_eq!(ledger.code, Some(0), "{ledger:?}");
    let ledger_csv = std::fs::read_to_string(dir.join("ledger.csv")).expect("the lines");
    assert_eq!(
        ledger_csv.matches("\r\n").count() as i64,
        lines + 1,
        "{ledger_csv}"
    );
    let months = std::fs::read_to_string(dir.join("ledger.months.csv")).expect("the totals");
    let totals: Vec<&str> = months
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .collect();
    assert_eq!(totals.len(), 2, "{months}");
    assert!(totals[1].starts_with("2026-11,"), "{months}");
    let workbook = run_ledgerbot(
        &[
            "replay",
            "export",
            "tax-ledger",
            "2026",
            "--out",
            &path("ledger.xlsx"),
        ],
        &env,
    )
    .await;
    assert_eq!(workbook.code, Some(0), "{workbook:?}");
    let bytes = std::fs::read(dir.join("ledger.xlsx")).expect("written");
    assert!(
        bytes.starts_with(b"PK\x03\x04") && bytes.len() > 4_000,
        "an XLSX (zip) file"
    );

    let receipts = run_ledgerbot(
        &[
            "replay",
            "export",
            "receipts",
            "2026-11",
            "--format",
            "csv",
            "--out",
            &path("receipts.csv"),
        ],
        &env,
    )
    .await;
    assert_eq!(receipts.code, Some(0), "{receipts:?}");
    let register = std::fs::read_to_string(dir.join("receipts.csv")).expect("written");
    assert!(
        register.starts_with("received_on,payment_id,"),
        "{register}"
    );
    assert!(
        register.contains("annul"),
        "the refunded payments are annulled: {register}"
    );
    let receipts_book = run_ledgerbot(
        &[
            "replay",
            "export",
            "receipts",
            "2026-11",
            "--out",
            &path("receipts.xlsx"),
        ],
        &env,
    )
    .await;
    assert_eq!(receipts_book.code, Some(0), "{receipts_book:?}");
    assert!(
        std::fs::read(dir.join("receipts.xlsx"))
            .expect("written")
            .starts_with(b"PK\x03\x04")
    );

    for bad in [
        vec!["replay", "export", "events", "--format", "xml"],
        vec!["replay", "export", "events", "--from", "yesterday"],
        vec![
            "replay",
            "export",
            "tax-ledger",
            "2026-13",
            "--out",
            "x.csv",
        ],
        vec!["replay", "export", "receipts", "2026", "--out", "x.csv"],
        vec!["replay", "export", "events", "--type", "Invoice"],
    ] {
        let refused = run_ledgerbot(&bad, &env).await;
        assert_eq!(refused.code, Some(2), "{bad:?}: {refused:?}");
        assert!(refused.stderr.contains("ledgerbot:"), "{refused:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    context.cleanup().await;
}
