use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use uuid::Uuid;

use super::Slot;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot check the master's calendar: {0}")]
pub struct SlotCheckError(pub String);

/// Answers whether a master is free for a slot. The bookings read model implements
/// it in production; tests supply their own.
pub trait SlotCalendar: Send + Sync {
    /// True when `master_id` has no booking overlapping `slot`, other than
    /// `order_id` itself (so a booking can be moved within its own time).
    fn is_free<'a>(
        &'a self,
        master_id: Uuid,
        slot: &'a Slot,
        order_id: Uuid,
    ) -> Pin<Box<dyn Future<Output = Result<bool, SlotCheckError>> + Send + 'a>>;
}

/// The outside facts an order needs.
#[derive(Clone)]
pub struct OrderServices {
    pub calendar: Arc<dyn SlotCalendar>,
}
