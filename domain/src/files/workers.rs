//! A few threads of their own for photo work (decoding, previews): every photo's
//! pixels are allocated on these threads alone, so however many uploads arrive at
//! once, the memory photos take is that of this many decodes (the allocator keeps
//! what a thread freed for that thread, so work spread over the runtime's many
//! blocking threads would leave some behind on each).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Debug, thiserror::Error)]
#[error("the photo workers have stopped")]
pub struct Stopped;

/// The photo threads; cloned handles share them. They end when the last handle goes.
#[derive(Clone)]
pub struct ImageWorkers {
    jobs: mpsc::Sender<Job>,
}

impl ImageWorkers {
    pub fn start(threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let started = std::thread::Builder::new()
                .name(format!("ledgerbot-photos-{n}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking decoder ends its job, never the thread.
                            Ok(job) => {
                                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
                                    .is_err()
                                {
                                    tracing::error!("a photo job panicked");
                                }
                            }
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = started {
                tracing::error!(%error, "a photo thread could not start");
            }
        }
        Self { jobs }
    }

    /// Runs `work` on a photo thread and waits for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Stopped> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                // Nobody waits any more (the upload was dropped): skip the work.
                if answer.is_closed() {
                    return;
                }
                let _ = answer.send(work());
            }))
            .map_err(|_| Stopped)?;
        answered.await.map_err(|_| Stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::ImageWorkers;

    #[tokio::test]
    async fn work_runs_on_the_photo_threads() {
        let workers = ImageWorkers::start(2);
        let name = workers
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .expect("an answer");
        assert!(name.is_some_and(|name| name.starts_with("ledgerbot-photos-")));
    }
}
