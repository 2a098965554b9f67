//! Read models: plain tables with real columns, fed by projection workers, and the
//! queries over them. Each read model's file (or folder) is the only writer of its
//! tables and offers the queries entry points answer from, as methods of
//! [`ReadModels`]: lists with filters and cursors, one thing with what belongs to it,
//! reports. A query decides who may read what (by the permission table and the row);
//! after a write it first waits until its read model shows it.

pub mod ai_usage;
pub mod analytics;
pub mod applications;
pub mod bookings;
pub mod broadcasts;
pub mod credit_lots;
pub mod credits;
pub mod csv;
pub mod faq;
pub mod files;
pub mod generations;
pub mod live_updates;
pub mod notifications;
pub mod orders;
pub mod paging;
pub mod payments;
pub mod receipts;
pub mod reports;
pub mod reviews;
pub mod status;
pub mod tax_ledger;
pub mod ticket_categories;
pub mod tickets;
pub mod users;
pub mod workbooks;

use domain::use_cases::Written;
use sqlx::PgPool;

use crate::ProjectionName;
use crate::read_your_writes::{Checkpoints, READ_YOUR_WRITES_LIMIT};

/// The read models applied in the transaction of the commands they follow (see
/// `domain::command::inline`): those an entry point reads its answer from after a
/// command (a balance after a spend, a ticket's thread after a message, an order after
/// placing it), so the answer waits for no worker. Their workers still run; they find
/// the events applied and skip them, and apply what an inline run left to them.
pub fn inline(
    metrics: &crate::worker::ProjectionMetrics,
) -> Vec<std::sync::Arc<dyn domain::command::inline::InlineProjection>> {
    use crate::worker::InlineReadModel;
    use std::sync::Arc;
    vec![
        Arc::new(InlineReadModel::new(
            Arc::new(credits::CreditBalances),
            metrics,
        )),
        Arc::new(InlineReadModel::new(
            Arc::new(credit_lots::CreditLots::default()),
            metrics,
        )),
        Arc::new(InlineReadModel::new(Arc::new(tickets::Tickets), metrics)),
        Arc::new(InlineReadModel::new(Arc::new(orders::Orders), metrics)),
    ]
}

/// The read side as entry points see it: the read models' tables, and the watcher
/// that lets a read wait for the caller's own write.
#[derive(Clone)]
pub struct ReadModels {
    pool: PgPool,
    checkpoints: Checkpoints,
}

impl ReadModels {
    pub fn new(pool: PgPool, checkpoints: Checkpoints) -> Self {
        Self { pool, checkpoints }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The watcher reads wait on, for an entry point that waits on its own terms.
    pub fn checkpoints(&self) -> &Checkpoints {
        &self.checkpoints
    }

    /// Waits (bounded) until `projection` shows `written` of an aggregate of
    /// `aggregate_type`; returns at once without a write.
    pub async fn shows(
        &self,
        projection: ProjectionName,
        aggregate_type: &str,
        written: Option<&Written>,
    ) -> bool {
        let Some(written) = written else {
            return true;
        };
        self.checkpoints
            .caught_up(
                projection,
                aggregate_type,
                &written.aggregate_id,
                written.sequence,
                READ_YOUR_WRITES_LIMIT,
            )
            .await
    }
}
