//! What goes wrong during the drill, in order, each once the load has made a share of
//! its calls: the relay killed (SIGKILL) and started again, a worker killed and
//! started again, NATS stopped for a while, Postgres crashed and restarted, then the
//! relay and a worker killed together.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Plan;
use super::product::Product;
use crate::app::LedgerbotProcess;

/// What was done, and when (seconds since the faults began, calls made by then).
#[derive(Debug, Default)]
pub struct FaultLog {
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    KillRelay,
    KillWorker(usize),
    StopNats,
    CrashPostgres,
    KillRelayAndWorker(usize),
}

const SCHEDULE: [(f64, Fault); 5] = [
    (0.10, Fault::KillRelay),
    (0.25, Fault::KillWorker(0)),
    (0.40, Fault::StopNats),
    (0.60, Fault::CrashPostgres),
    (0.80, Fault::KillRelayAndWorker(1)),
];

/// Inflicts the schedule on `product` as `progress` (calls made) passes each share of
/// the plan's calls; answers once the last fault is over.
pub async fn inflict(product: &mut Product, plan: &Plan, progress: Arc<AtomicU64>) -> FaultLog {
    let mut log = FaultLog::default();
    let began = Instant::now();
    let env = product.env();
    for (share, fault) in SCHEDULE {
        let due = (plan.calls as f64 * share) as u64;
        // The callers stop only once the faults are over; one that stalls must not
        // hold the drill forever.
        let waiting = Instant::now();
        while progress.load(Ordering::Relaxed) < due && waiting.elapsed() < Duration::from_secs(120)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let at = format!(
            "at {:>5.1} s, {:>6} calls:",
            began.elapsed().as_secs_f64(),
            progress.load(Ordering::Relaxed)
        );
        let what = match fault {
            Fault::KillRelay => {
                kill(&mut product.relay).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
                product.relay = Some(LedgerbotProcess::start(&["relay"], &env).await);
                "SIGKILL the relay, start a new one 1 s later".to_owned()
            }
            Fault::KillWorker(n) => {
                kill(&mut product.workers[n % plan.workers]).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
                product.workers[n % plan.workers] =
                    Some(LedgerbotProcess::start(&["workers"], &env).await);
                format!("SIGKILL worker {n}, start a new one 1 s later")
            }
            Fault::StopNats => {
                product.nats.stop().await;
                tokio::time::sleep(plan.nats_outage).await;
                product.nats.resume().await;
                format!(
                    "NATS stopped (killed) for {} s, then started on its store",
                    plan.nats_outage.as_secs()
                )
            }
            Fault::CrashPostgres => {
                let stopped = Instant::now();
                product.postgres.crash_restart().await;
                product.postgres.wait_ready().await;
                format!(
                    "Postgres stopped as in a crash (pg_ctl -m immediate) and started again: back in {:.1} s",
                    stopped.elapsed().as_secs_f64()
                )
            }
            Fault::KillRelayAndWorker(n) => {
                kill(&mut product.relay).await;
                kill(&mut product.workers[n % plan.workers]).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
                product.relay = Some(LedgerbotProcess::start(&["relay"], &env).await);
                product.workers[n % plan.workers] =
                    Some(LedgerbotProcess::start(&["workers"], &env).await);
                format!("SIGKILL the relay and worker {n} together, start new ones 1 s later")
            }
        };
        println!("[drill] {at} {what}");
        log.lines.push(format!("{at} {what}"));
    }
    log
}

async fn kill(process: &mut Option<LedgerbotProcess>) {
    if let Some(process) = process.take() {
        process.kill().await;
    }
}
