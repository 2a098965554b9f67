//! The parts running in one process, by name: spawned, watched (a part that ends on
//! its own is reported) and given a grace period at shutdown.

use std::collections::HashMap;
use std::time::Duration;

use tokio::task::JoinSet;
use tracing::warn;

/// The parts running in this process, by name.
#[derive(Default)]
pub(super) struct RunningParts {
    tasks: JoinSet<Result<(), String>>,
    names: HashMap<tokio::task::Id, &'static str>,
}

impl RunningParts {
    pub(super) fn spawn(
        &mut self,
        name: &'static str,
        part: impl std::future::Future<Output = Result<(), String>> + Send + 'static,
    ) {
        let handle = self.tasks.spawn(part);
        self.names.insert(handle.id(), name);
    }

    /// The next part to end, with how it ended (a panic counts as an error).
    pub(super) async fn next(&mut self) -> Option<(&'static str, Result<(), String>)> {
        let ended = self.tasks.join_next_with_id().await?;
        Some(match ended {
            Ok((id, outcome)) => (self.name(id), outcome),
            Err(error) => (self.name(error.id()), Err(error.to_string())),
        })
    }

    fn name(&self, id: tokio::task::Id) -> &'static str {
        self.names.get(&id).copied().unwrap_or("a part")
    }

    /// Waits up to `grace` for every part to end, then aborts the rest.
    pub(super) async fn finish(&mut self, grace: Duration) {
        let drained = tokio::time::timeout(grace, async {
            while let Some((part, outcome)) = self.next().await {
                if let Err(reason) = outcome {
                    warn!(part, %reason, "a part ended with an error during shutdown");
                }
            }
        })
        .await;
        if drained.is_err() {
            warn!(
                grace_secs = grace.as_secs(),
                "some work did not finish within the shutdown grace period; abandoning it"
            );
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}
