//! The bot against the fake Bot API, in one run of `ledgerbot serve` (relay,
//! workers, API and bot in one process, as `serve` runs them):
//!
//! 1. Updates handled per second by the dispatcher: `LEDGERBOT_BENCH_UPDATES`
//!    (10,000) mixed updates from `LEDGERBOT_BENCH_USERS` (1,000) registered users
//!    (/help, /balance, /orders, /referral, a menu button, plain text), next to a
//!    baseline of as many updates from strangers (the cheapest path: the inbox, one
//!    lookup, one answer). Printed: updates/s, and p50/p95 of the handler's own time
//!    (`bot_updates.handling_ms`) and of arrival to handled.
//! 2. Notification lag at `LEDGERBOT_BENCH_RATE` (100) events/s for
//!    `LEDGERBOT_BENCH_SECONDS` (10): credit grants to the users in turn, from the
//!    moment the writer learnt its command committed to the notice's row in the
//!    notifications read model (the baseline: the pipeline without the bot) and to
//!    the sendMessage call at the fake (p50/p95/p99).
//!
//! Run: `cargo bench -p tests --bench bot_throughput` (servers as for the tests).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::command::CommandContext;
use domain::credit::{CreditCommand, GrantReason};
use futures_util::{StreamExt, stream};
use tests::TestContext;
use tests::telegram_fake::{FakeTelegram, TgUser};
use tokio::sync::Mutex;

const FIRST_USER: i64 = 50_000_000;
const FIRST_STRANGER: i64 = 60_000_000;
/// Grants are told apart by their amount: this plus the grant's number.
const AMOUNT_BASE: u64 = 1_000_000;

#[tokio::main]
async fn main() {
    let updates = tests::bench_setting("LEDGERBOT_BENCH_UPDATES", 10_000) as i64;
    let users = tests::bench_setting("LEDGERBOT_BENCH_USERS", 1_000) as i64;
    let rate = tests::bench_setting("LEDGERBOT_BENCH_RATE", 100);
    let seconds = tests::bench_setting("LEDGERBOT_BENCH_SECONDS", 10);
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    // Telegram's overall limit (25 a second here) would make every figure 25: the
    // dispatcher and the sender are measured with it raised, as with Telegram's paid
    // broadcasts (LEDGERBOT_BOT_SENDS_PER_SECOND).
    let mut settings = tests::api_client::settings(&context);
    settings.bot.api_url = telegram.url();
    settings.bot.long_poll_secs = 1;
    settings.bot.sends_per_second = 1_000;
    settings.bot_username = Some(tests::telegram_fake::BOT_USERNAME.to_owned());
    let app = tests::app::spawn_app_with_bot(settings).await;
    let core = app.state.core.clone();

    let mut user_ids = Vec::new();
    for chunk in (0..users).collect::<Vec<_>>().chunks(100) {
        let signed: Vec<_> = stream::iter(chunk.to_vec())
            .map(|index| {
                let core = core.clone();
                async move {
                    let profile = tests::people::telegram(FIRST_USER + index, "Клиент");
                    core.sign_in(&profile, None, Utc::now())
                        .await
                        .expect("signs in")
                        .user_id
                }
            })
            .buffered(8)
            .collect()
            .await;
        user_ids.extend(signed);
    }
    wait_until(&context, "SELECT count(*) FROM rm_users", users).await;
    quiet(&context).await;

    let strangers = (0..updates)
        .map(|n| {
            (
                TgUser::new(FIRST_STRANGER + n % users, "Гость", "ru"),
                "/help",
            )
        })
        .collect();
    let baseline = handle(&context, &telegram, strangers).await;
    let texts = [
        "/help",
        "/balance",
        "/orders",
        "/referral",
        "button",
        "hello",
    ];
    let mixed = (0..updates)
        .map(|n| {
            let user = TgUser::new(FIRST_USER + n % users, "Клиент", "ru");
            (user, texts[(n as usize / users as usize) % texts.len()])
        })
        .collect();
    let mixed = handle(&context, &telegram, mixed).await;
    println!(
        "bot dispatcher, {updates} updates from {users} users (fake Bot API, sends paced at 1,000/s, same run):"
    );
    baseline.print("strangers (baseline)");
    mixed.print("mixed commands");
    println!(
        "  ratio: mixed runs at {:.2}x the baseline's rate",
        mixed.per_second / baseline.per_second
    );

    quiet(&context).await;
    notification_lag(&context, &telegram, &core, &user_ids, rate, seconds).await;

    app.stop().await;
    context.cleanup().await;
}

struct Handled {
    per_second: f64,
    handling: (f64, f64),
    arrival_to_handled: (f64, f64),
}

impl Handled {
    fn print(&self, what: &str) {
        println!(
            "  {what:<22} {:>7.0} updates/s  handler p50 {:>5.1} ms p95 {:>5.1} ms  arrival→handled p50 {:>7.1} ms p95 {:>7.1} ms",
            self.per_second,
            self.handling.0,
            self.handling.1,
            self.arrival_to_handled.0,
            self.arrival_to_handled.1
        );
    }
}

/// Feeds `updates` at once and waits until every one is handled.
async fn handle(
    context: &TestContext,
    telegram: &FakeTelegram,
    updates: Vec<(TgUser, &str)>,
) -> Handled {
    let first = telegram.feed(serde_json::json!({})) + 1;
    let started = Instant::now();
    for (user, text) in &updates {
        if *text == "button" {
            telegram.press(user, 1, "menu:balance");
        } else {
            telegram.write(user, text);
        }
    }
    let count = updates.len() as i64;
    let query = format!(
        "SELECT count(*) FROM bot_updates WHERE update_id >= {first} AND handled_at IS NOT NULL"
    );
    wait_until(context, &query, count).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (handling_p50, handling_p95, arrival_p50, arrival_p95): (f64, f64, f64, f64) =
        sqlx::query_as(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY handling_ms), \
                    percentile_cont(0.95) WITHIN GROUP (ORDER BY handling_ms), \
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM handled_at - received_at) * 1000), \
                    percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM handled_at - received_at) * 1000) \
             FROM bot_updates WHERE update_id >= $1",
        )
        .bind(first)
        .fetch_one(&context.pool)
        .await
        .expect("figures");
    Handled {
        per_second: count as f64 / elapsed,
        handling: (handling_p50, handling_p95),
        arrival_to_handled: (arrival_p50, arrival_p95),
    }
}

async fn notification_lag(
    context: &TestContext,
    telegram: &FakeTelegram,
    core: &Arc<domain::use_cases::Core>,
    users: &[uuid::Uuid],
    rate: u64,
    seconds: u64,
) {
    let total = rate * seconds;
    let committed: Arc<Mutex<HashMap<u64, DateTime<Utc>>>> = Arc::default();
    let seen_in_read_model = tokio::spawn(watch_read_model(context.pool.clone(), total));
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let mut writers = Vec::new();
    for n in 0..total {
        ticker.tick().await;
        let (core, committed) = (core.clone(), committed.clone());
        let account = users[n as usize % users.len()].to_string();
        writers.push(tokio::spawn(async move {
            core.commands
                .credits
                .execute(
                    &account,
                    CreditCommand::Grant {
                        amount: AMOUNT_BASE + n,
                        reason: GrantReason::Promo,
                        reference: format!("bench-{n}"),
                        expires_at: None,
                    },
                    &CommandContext::system("bench"),
                )
                .await
                .expect("granted");
            committed.lock().await.insert(AMOUNT_BASE + n, Utc::now());
        }));
    }
    for writer in writers {
        writer.await.expect("the writer finishes");
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let sent = loop {
        let sent = sent_grants(telegram);
        if sent.len() as u64 >= total || Instant::now() > deadline {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seen = seen_in_read_model.await.expect("the watcher finishes");
    let committed = committed.lock().await;
    let lags = |moments: &HashMap<u64, DateTime<Utc>>| {
        let mut lags: Vec<f64> = moments
            .iter()
            .filter_map(|(amount, at)| {
                let from = committed.get(amount)?;
                Some((*at - *from).num_microseconds()? as f64 / 1_000.0)
            })
            .collect();
        lags.sort_by(f64::total_cmp);
        lags
    };
    let (to_row, to_send) = (lags(&seen), lags(&sent));
    println!("notification lag at {rate} events/s for {seconds} s ({total} credit grants):");
    for (what, lags) in [
        ("commit → read-model row (baseline)", &to_row),
        ("commit → sendMessage", &to_send),
    ] {
        println!(
            "  {what:<36} p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms  ({} of {total})",
            percentile(lags, 0.50),
            percentile(lags, 0.95),
            percentile(lags, 0.99),
            lags.len()
        );
    }
}

/// When each grant's sendMessage came, by amount.
fn sent_grants(telegram: &FakeTelegram) -> HashMap<u64, DateTime<Utc>> {
    telegram
        .calls("sendMessage")
        .into_iter()
        .filter_map(|call| {
            let text = call.body["text"].as_str()?;
            if !text.contains("Начислено кредитов") {
                return None;
            }
            let amount = text
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|number| number.parse::<u64>().ok())
                .find(|number| *number >= AMOUNT_BASE)?;
            Some((amount, call.wall))
        })
        .collect()
}

/// When each grant's notice first showed in the read model (looked for every 5 ms).
async fn watch_read_model(pool: sqlx::PgPool, total: u64) -> HashMap<u64, DateTime<Utc>> {
    let mut seen = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while (seen.len() as u64) < total && Instant::now() < deadline {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT params ->> 'amount' FROM rm_notifications WHERE template = 'credits_granted' \
             AND (params ->> 'amount')::numeric >= 1000000",
        )
        .fetch_all(&pool)
        .await
        .expect("reads");
        let now = Utc::now();
        for (amount,) in rows {
            if let Ok(amount) = amount.parse::<u64>()
                && amount >= AMOUNT_BASE
            {
                seen.entry(amount).or_insert(now);
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    seen
}

fn percentile(sorted: &[f64], share: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * share).round() as usize;
    sorted[index]
}

async fn wait_until(context: &TestContext, query: &str, wanted: i64) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let count: i64 = sqlx::query_scalar(query)
            .fetch_one(&context.pool)
            .await
            .expect("counts");
        if count >= wanted {
            return;
        }
        assert!(Instant::now() < deadline, "{query}: {count} of {wanted}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every notice so far was delivered (or given up on).
async fn quiet(context: &TestContext) {
    wait_until(
        context,
        "SELECT CASE WHEN count(*) = 0 THEN 1::bigint ELSE 0::bigint END FROM rm_notifications n \
         WHERE NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.notification_id = n.notification_id)",
        1,
    )
    .await;
}
