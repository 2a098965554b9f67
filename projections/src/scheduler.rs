//! Timed reactions, run every `interval` by whichever instance holds the
//! scheduler's advisory lock at that moment:
//! - points past their lifetime → `ExpirePoints` on their accounts;
//! - a booking starting within `booking_reminder_ahead` → a reminder to the client
//!   and the master;
//! - a ticket whose customer has waited `ticket_reminder_after` without a staff answer
//!   → a reminder to its assignee (or the staff group);
//! - an unpaid booking whose hold has passed (`unpaid_bookings`, the write side's own
//!   table, kept by the store with each order event) → `ReleaseUnpaidHold`, which
//!   cancels it "not paid in time" and so frees its slot.
//!
//! Every action is idempotent (expiry lapses what is left; a reminder's id is its
//! booking slot or the customer message it is about; a released booking is
//! cancelled, and the aggregate leaves a cancelled or paid one alone), so a rerun, or
//! two instances overlapping, change nothing. Reminders go to their own table
//! (`scheduled_reminders`), not to the notifications read model.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::command::{CommandContext, Commands, ErrorKind};
use domain::credit::CreditCommand;
use domain::order::OrderCommand;
use serde_json::json;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use crate::read_models::notifications::reminders::store;
use crate::read_models::notifications::{Notice, Recipient};

/// The advisory lock key only one scheduler run holds at a time.
const LOCK_KEY: i64 = 0x4c65_6467_5363_6864; // "LedgSchd"

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerSettings {
    pub interval: Duration,
    pub booking_reminder_ahead: chrono::Duration,
    pub ticket_reminder_after: chrono::Duration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            booking_reminder_ahead: chrono::Duration::hours(24),
            ticket_reminder_after: chrono::Duration::hours(4),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("expiring points of {account}: {message}")]
    Command { account: String, message: String },
    #[error("releasing the unpaid booking {order}: {message}")]
    Release { order: String, message: String },
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// False when another instance held the lock and this run did nothing.
    pub ran: bool,
    pub accounts_expired: usize,
    pub booking_reminders: usize,
    pub ticket_reminders: usize,
    /// Unpaid bookings whose hold had passed, released.
    pub holds_released: usize,
}

pub struct Scheduler {
    pool: PgPool,
    commands: Arc<Commands>,
    settings: SchedulerSettings,
}

impl Scheduler {
    pub fn new(pool: PgPool, commands: Arc<Commands>, settings: SchedulerSettings) -> Self {
        Self {
            pool,
            commands,
            settings,
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        info!(interval = ?self.settings.interval, "scheduler running");
        loop {
            // The first round waits one interval: a starting fleet does not scan at once,
            // and the workers have a moment to catch up.
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.settings.interval) => {}
            }
            match self.run_once(Utc::now()).await {
                Ok(report) if report.ran => {
                    if report
                        != (RunReport {
                            ran: true,
                            ..RunReport::default()
                        })
                    {
                        info!(?report, "scheduled jobs ran");
                    }
                }
                Ok(_) => {}
                Err(error) => warn!(%error, "scheduled jobs failed; retrying next round"),
            }
        }
        info!("scheduler stopped");
    }

    /// One round as of `now`. Holds a session advisory lock on one connection for
    /// the round, so rounds of several instances never overlap.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<RunReport, SchedulerError> {
        Ok(
            crate::advisory::while_holding(&self.pool, LOCK_KEY, self.jobs(now))
                .await?
                .unwrap_or_default(),
        )
    }

    async fn jobs(&self, now: DateTime<Utc>) -> Result<RunReport, SchedulerError> {
        Ok(RunReport {
            ran: true,
            accounts_expired: self.expire_points(now).await?,
            booking_reminders: self.booking_reminders(now).await?,
            ticket_reminders: self.ticket_reminders(now).await?,
            holds_released: self.release_unpaid_holds(now).await?,
        })
    }

    /// Accounts with points left in lots past their expiry get `ExpirePoints`.
    async fn expire_points(&self, now: DateTime<Utc>) -> Result<usize, SchedulerError> {
        let accounts: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT account_id FROM rm_credit_lots \
             WHERE remaining > 0 AND expires_at <= $1 ORDER BY account_id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let who = CommandContext::system("scheduler");
        for account in &accounts {
            match self
                .commands
                .credits
                .execute(account, CreditCommand::ExpirePoints { now }, &who)
                .await
            {
                Ok(_) => {}
                Err(error)
                    if matches!(
                        error.kind,
                        ErrorKind::Unavailable | ErrorKind::Conflict | ErrorKind::Internal
                    ) =>
                {
                    return Err(SchedulerError::Command {
                        account: account.clone(),
                        message: error.message,
                    });
                }
                Err(error) => {
                    warn!(account, reason = %error.message, "points could not be expired")
                }
            }
        }
        Ok(accounts.len())
    }

    /// Unpaid bookings whose hold has passed by `now` are released (cancelled).
    async fn release_unpaid_holds(&self, now: DateTime<Utc>) -> Result<usize, SchedulerError> {
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT order_id FROM unpaid_bookings WHERE hold_until <= $1 \
             ORDER BY hold_until LIMIT 1000",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let who = CommandContext::system("scheduler");
        let mut released = 0;
        for order in &due {
            match self
                .commands
                .orders
                .execute(order, OrderCommand::ReleaseUnpaidHold { at: now }, &who)
                .await
            {
                Ok(committed) => released += usize::from(!committed.events.is_empty()),
                Err(error) if error.is_transient() || error.kind == ErrorKind::Internal => {
                    return Err(SchedulerError::Release {
                        order: order.clone(),
                        message: error.message,
                    });
                }
                Err(error) => warn!(order, reason = %error.message, "hold not released"),
            }
        }
        Ok(released)
    }

    async fn booking_reminders(&self, now: DateTime<Utc>) -> Result<usize, SchedulerError> {
        let due: Vec<(String, Uuid, Uuid, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT order_id, customer_id, master_id, service_name, starts_at FROM rm_bookings \
             WHERE status = 'booked' AND starts_at > $1 AND starts_at <= $2 ORDER BY starts_at",
        )
        .bind(now)
        .bind(now + self.settings.booking_reminder_ahead)
        .fetch_all(&self.pool)
        .await?;
        let mut connection = self.pool.acquire().await?;
        for (order_id, customer, master, service, starts_at) in &due {
            // A rescheduled booking is a new slot: it is reminded of again.
            let cause = format!("reminder:booking:{order_id}:{}", starts_at.to_rfc3339());
            let params = json!({"order_id": order_id, "title": service, "starts_at": starts_at});
            for (recipient, template) in [
                (*customer, "booking_reminder"),
                (*master, "master_booking_reminder"),
            ] {
                let notice = Notice {
                    recipient: Recipient::User(recipient),
                    template,
                    params: params.clone(),
                };
                store(&mut connection, &cause, &notice, now).await?;
            }
        }
        Ok(due.len())
    }

    async fn ticket_reminders(&self, now: DateTime<Utc>) -> Result<usize, SchedulerError> {
        let waiting: Vec<(String, String, Option<Uuid>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT ticket_id, title, assignee_id, last_customer_message_at FROM rm_tickets \
             WHERE status IN ('open', 'in_progress') AND last_customer_message_at <= $1 \
               AND (last_staff_message_at IS NULL OR last_staff_message_at < last_customer_message_at) \
             ORDER BY last_customer_message_at",
        )
        .bind(now - self.settings.ticket_reminder_after)
        .fetch_all(&self.pool)
        .await?;
        let mut connection = self.pool.acquire().await?;
        for (ticket_id, title, assignee, waiting_since) in &waiting {
            let cause = format!("reminder:ticket:{ticket_id}:{}", waiting_since.to_rfc3339());
            let notice = Notice {
                recipient: assignee
                    .map(Recipient::User)
                    .unwrap_or(Recipient::StaffGroup),
                template: "staff_ticket_unanswered",
                params: json!({"ticket_id": ticket_id, "title": title, "waiting_since": waiting_since}),
            };
            store(&mut connection, &cause, &notice, now).await?;
        }
        Ok(waiting.len())
    }
}
