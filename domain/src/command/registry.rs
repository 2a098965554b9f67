use sqlx::PgPool;

use super::CommandService;
use super::inline::InlineProjection;
use crate::credit::CreditAccount;
use crate::generation::GenerationJob;
use crate::order::{Order, OrderServices, PostgresSlotCalendar};
use crate::owner_grant::OwnerGrant;
use crate::payment::Payment;
use crate::ticket::Ticket;
use crate::ticket_category::TicketCategory;
use crate::user::User;

/// One command service per aggregate, over one pool: what the API, the bot and the
/// process managers hold to issue commands.
pub struct Commands {
    pub orders: CommandService<Order>,
    pub payments: CommandService<Payment>,
    pub credits: CommandService<CreditAccount>,
    pub tickets: CommandService<Ticket>,
    pub ticket_categories: CommandService<TicketCategory>,
    pub users: CommandService<User>,
    pub owner_grants: CommandService<OwnerGrant>,
    pub generation_jobs: CommandService<GenerationJob>,
}

impl Commands {
    /// Services over `pool`, with the masters' calendar read from the store.
    pub fn over(pool: PgPool) -> Self {
        let calendar = PostgresSlotCalendar::new(pool.clone());
        Self::new(
            pool,
            OrderServices {
                calendar: std::sync::Arc::new(calendar),
            },
        )
    }

    pub fn new(pool: PgPool, order_services: OrderServices) -> Self {
        Self {
            orders: CommandService::new(pool.clone(), order_services),
            payments: CommandService::new(pool.clone(), ()),
            credits: CommandService::new(pool.clone(), ()),
            tickets: CommandService::new(pool.clone(), ()),
            ticket_categories: CommandService::new(pool.clone(), ()),
            users: CommandService::new(pool.clone(), ()),
            owner_grants: CommandService::new(pool.clone(), ()),
            generation_jobs: CommandService::new(pool, ()),
        }
    }

    /// The same services, each applying those of `projections` that follow its
    /// aggregate type in the transaction of its commands (see [`super::inline`]).
    pub fn with_inline(self, projections: &[std::sync::Arc<dyn InlineProjection>]) -> Self {
        Self {
            orders: self.orders.with_inline(projections),
            payments: self.payments.with_inline(projections),
            credits: self.credits.with_inline(projections),
            tickets: self.tickets.with_inline(projections),
            ticket_categories: self.ticket_categories.with_inline(projections),
            users: self.users.with_inline(projections),
            owner_grants: self.owner_grants.with_inline(projections),
            generation_jobs: self.generation_jobs.with_inline(projections),
        }
    }
}
