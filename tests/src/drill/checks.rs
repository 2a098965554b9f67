//! What must hold after the drill, checked against the store, the read models, the
//! YooKassa-compatible server's books and `ledgerbot replay rebuild all --verify`.

use std::collections::{HashMap, HashSet};
use std::fmt;

use rust_decimal::Decimal;
use serde_json::Value;

use super::product::Product;
use crate::app::run_ledgerbot;
use crate::random_history::Tally;

/// What the checks saw (`facts`) and what failed (`problems`; none when all held).
#[derive(Debug, Default)]
pub struct Findings {
    pub facts: Vec<String>,
    pub problems: Vec<String>,
}

impl Findings {
    pub fn held(&self) -> bool {
        self.problems.is_empty()
    }

    pub(super) fn expect(&mut self, held: bool, fact: String) {
        if held {
            self.facts.push(fact);
        } else {
            self.problems.push(fact);
        }
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for fact in &self.facts {
            writeln!(f, "[drill] held: {fact}")?;
        }
        for problem in &self.problems {
            writeln!(f, "[drill] FAILED: {problem}")?;
        }
        Ok(())
    }
}

/// Rows of `sql`'s single count.
async fn count(product: &Product, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&product.pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

pub async fn check(product: &Product, tally: &Tally) -> Findings {
    let mut findings = Findings::default();

    // Every accepted call's write is in the store.
    let stored: HashSet<(String, i64)> =
        sqlx::query_as::<_, (String, i64)>("SELECT aggregate_id, sequence FROM events")
            .fetch_all(&product.pool)
            .await
            .expect("the store reads")
            .into_iter()
            .collect();
    let missing: Vec<String> = tally
        .written
        .iter()
        .filter(|written| written.sequence > 0)
        .filter(|written| {
            !stored.contains(&(written.aggregate_id.clone(), written.sequence as i64))
        })
        .map(|written| format!("{}@{}", written.aggregate_id, written.sequence))
        .collect();
    findings.expect(
        missing.is_empty(),
        format!(
            "every one of the {} calls answered with success has its event in the store (missing: {:?})",
            tally.written.len(),
            missing.iter().take(10).collect::<Vec<_>>()
        ),
    );

    // Money: once each.
    let doubles = [
        (
            "a payment succeeded twice",
            "SELECT count(*) FROM (SELECT aggregate_id FROM events WHERE event_type = 'PaymentSucceeded' GROUP BY 1 HAVING count(*) > 1) d",
        ),
        (
            "a refund succeeded twice",
            "SELECT count(*) FROM (SELECT aggregate_id, payload -> 'RefundSucceeded' ->> 'refund_id' FROM events WHERE event_type = 'RefundSucceeded' GROUP BY 1, 2 HAVING count(*) > 1) d",
        ),
        (
            "a YooKassa refund recorded twice",
            "SELECT count(*) FROM (SELECT payload -> 'RefundSucceeded' ->> 'provider_refund_id' FROM events WHERE event_type = 'RefundSucceeded' GROUP BY 1 HAVING count(*) > 1) d",
        ),
        (
            "credits granted twice for one reference",
            "SELECT count(*) FROM (SELECT aggregate_id, payload -> 'CreditsGranted' ->> 'reason', payload -> 'CreditsGranted' ->> 'reference' FROM events WHERE event_type = 'CreditsGranted' GROUP BY 1, 2, 3 HAVING count(*) > 1) d",
        ),
        (
            "credits taken back twice for one operation",
            "SELECT count(*) FROM (SELECT aggregate_id, payload -> 'CreditsRevoked' ->> 'operation_id' FROM events WHERE event_type = 'CreditsRevoked' GROUP BY 1, 2 HAVING count(*) > 1) d",
        ),
        (
            "a spend refunded twice",
            "SELECT count(*) FROM (SELECT aggregate_id, payload -> 'SpendRefunded' ->> 'operation_id' FROM events WHERE event_type = 'SpendRefunded' GROUP BY 1, 2 HAVING count(*) > 1) d",
        ),
    ];
    for (what, sql) in doubles {
        let found = count(product, sql).await;
        findings.expect(found == 0, format!("never {what} ({found} found)"));
    }
    let paid = count(
        product,
        "SELECT count(*) FROM events WHERE event_type = 'PaymentSucceeded'",
    )
    .await;
    let refunded = count(
        product,
        "SELECT count(*) FROM events WHERE event_type = 'RefundSucceeded'",
    )
    .await;
    findings.facts.push(format!(
        "{paid} payments succeeded and {refunded} refunds, each once"
    ));

    // At YooKassa: no payment refunded beyond what was paid.
    let over_refunded = {
        let books = product.yookassa.books();
        let mut refunded: HashMap<String, Decimal> = HashMap::new();
        for refund in books.refunds.values() {
            if refund["status"] == "succeeded"
                && let (Some(payment), Some(amount)) =
                    (refund["payment_id"].as_str(), money(&refund["amount"]))
            {
                *refunded.entry(payment.to_owned()).or_default() += amount;
            }
        }
        refunded
            .iter()
            .filter(|(payment, total)| {
                books
                    .payments
                    .get(*payment)
                    .and_then(|payment| money(&payment["amount"]))
                    .is_none_or(|paid| **total > paid)
            })
            .count()
    };
    findings.expect(
        over_refunded == 0,
        format!("no payment refunded at YooKassa beyond its amount ({over_refunded} found)"),
    );

    // Nothing set aside, nothing held back.
    for (what, sql) in [
        (
            "events parked by the relay",
            "SELECT count(*) FROM outbox_parked",
        ),
        (
            "events parked by a projection",
            "SELECT count(*) FROM projection_parked",
        ),
        (
            "aggregates held back for a retry",
            "SELECT count(*) FROM projection_retrying",
        ),
        ("events left in the outbox", "SELECT count(*) FROM outbox"),
    ] {
        let found = count(product, sql).await;
        findings.expect(found == 0, format!("no {what} ({found} found)"));
    }

    // The read models equal what the store rebuilds.
    let verified = run_ledgerbot(
        &["replay", "rebuild", "all", "--verify", "--json"],
        &product.env(),
    )
    .await;
    let reports: Vec<Value> = verified
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let differences: i64 = reports
        .iter()
        .map(|report| {
            report["comparison"]["difference_count"]
                .as_i64()
                .unwrap_or(1)
        })
        .sum();
    let rows: i64 = reports
        .iter()
        .flat_map(|report| {
            report["comparison"]["rows"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|pair| pair[1].as_i64().unwrap_or_default())
        .sum();
    for report in reports
        .iter()
        .filter(|report| report["comparison"]["difference_count"] != 0)
    {
        let mut shown = report.to_string();
        shown.truncate(2_000);
        findings
            .problems
            .push(format!("the rebuilt read model differs: {shown}"));
    }
    findings.expect(
        verified.code == Some(0) && differences == 0 && !reports.is_empty(),
        format!(
            "`replay rebuild all --verify`: {} read models, {rows} rows compared, {differences} differences (exit {:?}){}",
            reports.len(),
            verified.code,
            if verified.code == Some(0) || !reports.is_empty() { String::new() } else { format!(": {}", verified.stderr.trim()) }
        ),
    );
    findings
}

fn money(amount: &Value) -> Option<Decimal> {
    amount["value"]
        .as_str()
        .and_then(|value| value.parse().ok())
}
