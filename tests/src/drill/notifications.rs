//! YooKassa's side of the drill: every payment that reaches a final status and every
//! refund at the YooKassa-compatible server is notified to the API process's webhook
//! several times, the copies shuffled among everything else waiting, as YooKassa's
//! redeliveries arrive. An answer other than 200 (the API restarting, Postgres away)
//! is delivered again later, as YooKassa does.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::product::Product;
use crate::paying::WEBHOOK;
use crate::random_history::Dice;
use crate::yookassa_fake::FakeYooKassa;

/// What was delivered.
#[derive(Debug, Default, Clone)]
pub struct Delivered {
    /// Different notifications (one per payment or refund event).
    pub distinct: u64,
    pub payments: u64,
    pub refunds: u64,
    /// Deliveries answered 200.
    pub accepted: u64,
    /// Deliveries answered otherwise (or not at all), and so made again.
    pub retried: u64,
    /// Deliveries still not answered 200 two minutes after the load ended.
    pub undelivered: u64,
}

pub struct Deliverer {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Delivered>,
}

impl Deliverer {
    pub fn start(product: &Product, copies: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let yookassa = product.yookassa.clone();
        let url = product.api_url(WEBHOOK);
        let task = tokio::spawn(deliver(yookassa, url, copies, stop.clone()));
        Self { stop, task }
    }

    /// Delivers what is still waiting (every final payment and refund there is now)
    /// and answers what was delivered.
    pub async fn finish(self) -> Delivered {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the deliverer does not panic")
    }
}

/// The notifications of everything final at YooKassa not yet queued.
fn newly_final(
    yookassa: &FakeYooKassa,
    queued: &mut HashSet<String>,
    found: &mut Delivered,
) -> Vec<Value> {
    let books = yookassa.books();
    let mut fresh = Vec::new();
    for (id, payment) in &books.payments {
        let event = match payment["status"].as_str() {
            Some("succeeded") => "payment.succeeded",
            Some("canceled") => "payment.canceled",
            _ => continue,
        };
        if queued.insert(format!("payment:{id}")) {
            found.payments += 1;
            fresh.push(json!({"type": "notification", "event": event, "object": payment}));
        }
    }
    for (id, refund) in &books.refunds {
        if refund["status"] == "succeeded" && queued.insert(format!("refund:{id}")) {
            found.refunds += 1;
            fresh.push(
                json!({"type": "notification", "event": "refund.succeeded", "object": refund}),
            );
        }
    }
    fresh
}

async fn deliver(
    yookassa: FakeYooKassa,
    url: String,
    copies: usize,
    stop: Arc<AtomicBool>,
) -> Delivered {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let mut dice = Dice::new(17);
    let mut queued = HashSet::new();
    let mut waiting: Vec<Value> = Vec::new();
    let mut delivered = Delivered::default();
    let mut stopped_at: Option<std::time::Instant> = None;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        if stopping && stopped_at.is_none() {
            stopped_at = Some(std::time::Instant::now());
        }
        if stopped_at.is_some_and(|at| at.elapsed() > Duration::from_secs(120)) {
            delivered.undelivered = waiting.len() as u64;
            return delivered;
        }
        for notification in newly_final(&yookassa, &mut queued, &mut delivered) {
            delivered.distinct += 1;
            for _ in 0..copies {
                // Anywhere among what waits: out of order.
                let at = dice.below(waiting.len() + 1);
                waiting.insert(at, notification.clone());
            }
        }
        if waiting.is_empty() {
            if stopping {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let batch: Vec<Value> = waiting.drain(..waiting.len().min(32)).collect();
        let answers = join_all(batch.iter().map(|body| client.post(&url).json(body).send())).await;
        let mut failed = false;
        for (body, answer) in batch.into_iter().zip(answers) {
            match answer {
                Ok(response) if response.status().is_success() => delivered.accepted += 1,
                _ => {
                    delivered.retried += 1;
                    failed = true;
                    let at = dice.below(waiting.len() + 1);
                    waiting.insert(at, body);
                }
            }
        }
        if failed {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
