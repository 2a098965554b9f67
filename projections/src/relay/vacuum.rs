//! Keeping the outbox small on disk. Every published event's row is deleted, and a
//! deleted row stays in the table and its key until a vacuum: on a database whose
//! autovacuum is off or behind, every relay pass (which reads the outbox from its
//! oldest row) would step over every row ever published. So the active relay vacuums
//! the outbox itself once enough rows went, or a while after any went; it takes
//! milliseconds on a table this small and blocks no insert or delete (it skips the
//! table when autovacuum holds it and never truncates it, which would lock it). (Postgres only
//! warns when the relay's user does not own the table; autovacuum must do it then.)

use std::time::{Duration, Instant};

use sqlx::{Executor, PgConnection};
use tracing::{debug, warn};

/// Published rows after which the outbox is vacuumed at the next quiet moment.
const AFTER_ROWS: u64 = 20_000;
/// How long published rows may wait for a vacuum however few they are.
const AFTER_TIME: Duration = Duration::from_secs(60);

pub(super) struct OutboxVacuum {
    published_at_last: u64,
    last: Instant,
}

impl OutboxVacuum {
    pub(super) fn new(published: u64) -> Self {
        Self {
            published_at_last: published,
            last: Instant::now(),
        }
    }

    /// Vacuums the outbox when it is due, given how many events the relay has
    /// published in all. Called when the outbox was just drained.
    pub(super) async fn when_due(&mut self, lock: &mut PgConnection, published: u64) {
        let since = published.saturating_sub(self.published_at_last);
        if since == 0 || (since < AFTER_ROWS && self.last.elapsed() < AFTER_TIME) {
            return;
        }
        let started = Instant::now();
        match lock
            .execute("VACUUM (SKIP_LOCKED, TRUNCATE false) outbox")
            .await
        {
            Ok(_) => debug!(
                rows_published = since,
                ms = started.elapsed().as_millis() as u64,
                "vacuumed the outbox"
            ),
            // A user that does not own the table only gets a warning from Postgres
            // (autovacuum must keep it small then); an error is a lost connection,
            // which the next round meets.
            Err(error) => warn!(%error, "cannot vacuum the outbox now"),
        }
        self.published_at_last = published;
        self.last = Instant::now();
    }
}
