//! A scripted, deterministic history of commands, so read models built from it can be
//! compared across runs and databases.

use chrono::{DateTime, TimeZone, Utc};
use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use sqlx::PgPool;

fn day(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// 12 credit accounts with grants, spends, a refund, points and their expiry,
/// a subscription and monthly allowances: 70-odd events.
pub async fn credits(pool: &PgPool) {
    let commands = Commands::over(pool.clone());
    let who = CommandContext::system("script");
    for account in 0..12u32 {
        let id = format!("acct-{account:02}");
        let run = |command: CreditCommand| {
            let commands = &commands;
            let who = &who;
            let id = id.clone();
            async move {
                commands
                    .credits
                    .execute(&id, command, who)
                    .await
                    .expect("scripted command")
            }
        };
        run(CreditCommand::Grant {
            amount: 100 + u64::from(account),
            reason: GrantReason::Purchase,
            reference: format!("payment-{account}"),
            expires_at: None,
        })
        .await;
        run(CreditCommand::GrantMonthlyAllowance {
            month: "2026-11".to_owned(),
            amount: 10,
        })
        .await;
        run(CreditCommand::Grant {
            amount: 20,
            reason: GrantReason::LoyaltyCashback,
            reference: format!("order-{account}"),
            expires_at: Some(day(20)),
        })
        .await;
        for operation in 0..(account % 4 + 1) {
            run(CreditCommand::Spend {
                amount: 7 + u64::from(operation),
                reason: "image generation".to_owned(),
                operation_id: format!("gen-{account}-{operation}"),
                at: day(10),
            })
            .await;
        }
        if account % 3 == 0 {
            run(CreditCommand::RefundSpend {
                operation_id: format!("gen-{account}-0"),
                at: day(11),
            })
            .await;
        }
        if account % 5 == 0 {
            run(CreditCommand::ActivateSubscription {
                plan: "pro".to_owned(),
                period_end: day(30),
                credits_per_period: 300,
            })
            .await;
        }
        run(CreditCommand::ExpirePoints { now: day(21) }).await;
    }
}
