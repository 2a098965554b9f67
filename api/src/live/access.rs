//! Whether the users with open sockets are still allowed in, and in which role: read
//! for all of them in one query every [`REFRESH_EVERY`], and what changed is told to
//! their sockets at once, so a block or a demotion reaches every socket within that
//! without each one asking the database (10,000 sockets asking every 30 s were a few
//! thousand queries a second at each wave, and held up the feed behind them). A read
//! that fails keeps what was known (the feed cannot be read then either) and says so.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, Weak};
use std::time::Duration;

use projections::ReadModels;
use projections::read_models::users::Access;
use tracing::warn;
use uuid::Uuid;

/// How often the access of connected users is read again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);
/// Users per query.
const CHUNK: usize = 5_000;

/// The access of connected users as last read; shared by the hub and its sockets.
#[derive(Default)]
pub struct AccessCache {
    known: Mutex<HashMap<Uuid, Access>>,
}

impl AccessCache {
    /// `user`'s access as last read, or `None` if it was not read (yet).
    pub fn of(&self, user: Uuid) -> Option<Access> {
        self.lock().get(&user).copied()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Access>> {
        match self.known.lock() {
            Ok(known) => known,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Reads the access of `connected()`'s users every [`REFRESH_EVERY`] until the cache
/// is dropped, and calls `changed` for each user whose access is not what the round
/// before read. A failed read keeps what was known and is tried at the next round.
pub async fn refresh<F, C>(cache: Weak<AccessCache>, reads: ReadModels, connected: F, changed: C)
where
    F: Fn() -> Vec<Uuid> + Send + 'static,
    C: Fn(Uuid, Access) + Send + 'static,
{
    let mut failures = 0u32;
    let mut every = tokio::time::interval(REFRESH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if cache.strong_count() == 0 {
            return;
        }
        let users = connected();
        let mut known = HashMap::with_capacity(users.len());
        let mut failed = false;
        for chunk in users.chunks(CHUNK) {
            match reads.access_of(chunk).await {
                Ok(access) => known.extend(access),
                Err(error) => {
                    failures += 1;
                    warn!(error = %error.message, failures, "reading connected users' access failed; blocks and role changes wait for the next read");
                    failed = true;
                    break;
                }
            }
        }
        let Some(cache) = cache.upgrade() else {
            return;
        };
        if failed {
            continue;
        }
        failures = 0;
        let mut cached = cache.lock();
        let changes: Vec<(Uuid, Access)> = known
            .iter()
            .filter(|(user, access)| cached.get(user) != Some(access))
            .map(|(user, access)| (*user, *access))
            .collect();
        let before = std::mem::replace(&mut *cached, known);
        drop(cached);
        drop(before);
        for (user, access) in changes {
            changed(user, access);
        }
    }
}
