//! Generation jobs (`rm_generation_jobs`): each job's status for its owner, the
//! Mini App and the bot; queries `generations` (a user's, newest first) and
//! `generation` (one, for its owner).

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use domain::generation::GenerationEvent;
use domain::permissions::Caller;
use domain::use_cases::Written;
use sqlx::PgConnection;
use uuid::Uuid;

use super::paging::Page;
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct GenerationJobs;

async fn record(connection: &mut PgConnection, event: &EventEnvelope) -> Result<(), ApplyError> {
    let job_id = event.aggregate_uuid()?;
    let at = event.recorded_at;
    let update = |sql: &'static str| sqlx::query(sql).bind(job_id).bind(at);
    match event.decode::<GenerationEvent>()? {
        GenerationEvent::GenerationRequested {
            user_id,
            kind,
            input_files,
            price,
            requested_at,
            ..
        } => {
            sqlx::query(
                "INSERT INTO rm_generation_jobs (job_id, user_id, kind, status, input_files, price, \
                     attempts, requested_at, updated_at) \
                 VALUES ($1, $2, $3, 'requested', $4, $5, 0, $6, $7) ON CONFLICT (job_id) DO NOTHING",
            )
            .bind(job_id)
            .bind(user_id)
            .bind(kind.as_str())
            .bind(&input_files)
            .bind(i64::try_from(price).unwrap_or(i64::MAX))
            .bind(requested_at)
            .bind(at)
            .execute(&mut *connection)
            .await?;
        }
        GenerationEvent::GenerationCharged { .. } => {
            update("UPDATE rm_generation_jobs SET status = 'queued', updated_at = $2 WHERE job_id = $1")
                .execute(&mut *connection)
                .await?;
        }
        GenerationEvent::GenerationRejected { reason, .. } => {
            update(
                "UPDATE rm_generation_jobs SET status = 'rejected', failure = $3, updated_at = $2 \
                 WHERE job_id = $1",
            )
            .bind(reason)
            .execute(&mut *connection)
            .await?;
        }
        GenerationEvent::GenerationStarted { attempt, .. } => {
            update(
                "UPDATE rm_generation_jobs SET status = 'running', attempts = $3, updated_at = $2 \
                 WHERE job_id = $1",
            )
            .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
            .execute(&mut *connection)
            .await?;
        }
        GenerationEvent::GenerationSucceeded { result_file, .. } => {
            update(
                "UPDATE rm_generation_jobs SET status = 'succeeded', result_file = $3, \
                     finished_at = $2, updated_at = $2 WHERE job_id = $1",
            )
            .bind(result_file)
            .execute(&mut *connection)
            .await?;
        }
        GenerationEvent::GenerationFailed {
            reason, attempts, ..
        } => {
            update(
                "UPDATE rm_generation_jobs SET status = 'failed', failure = $3, attempts = $4, \
                     finished_at = $2, updated_at = $2 WHERE job_id = $1",
            )
            .bind(reason)
            .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
            .execute(&mut *connection)
            .await?;
        }
        GenerationEvent::GenerationCreditsReturned { .. } => {
            update(
                "UPDATE rm_generation_jobs SET credits_returned = true, updated_at = $2 WHERE job_id = $1",
            )
            .execute(&mut *connection)
            .await?;
        }
    }
    Ok(())
}

impl Projection for GenerationJobs {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        Some(crate::worker::Rebuildable::tables(&["rm_generation_jobs"]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::GenerationJobs.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["GenerationJob"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event))
    }
}

/// A generation as its owner sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenerationView {
    pub job_id: Uuid,
    /// `fitting` or `editing`.
    pub kind: String,
    /// `requested`, `queued`, `running`, `succeeded`, `failed` or `rejected`.
    pub status: String,
    pub input_files: Vec<Uuid>,
    /// The generated image (a file), once it succeeded.
    pub result_file: Option<Uuid>,
    /// Why it failed or was rejected (`insufficient_credits`).
    pub failure: Option<String>,
    /// The price in credits.
    pub price: i64,
    /// Whether the credits came back (after a failure).
    pub credits_returned: bool,
    pub attempts: i32,
    pub requested_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A page of generations, newest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenerationList {
    pub items: Vec<GenerationView>,
    pub next_cursor: Option<String>,
}

const COLUMNS: &str = "job_id, kind, status, input_files, result_file, failure, price, \
                       credits_returned, attempts, requested_at, finished_at";

impl crate::ReadModels {
    /// The caller's generations, newest first.
    pub async fn generations(
        &self,
        viewer: Caller,
        page: Page,
    ) -> Result<GenerationList, CommandError> {
        let items: Vec<GenerationView> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM rm_generation_jobs WHERE user_id = $1 \
               AND ($2::timestamptz IS NULL OR (requested_at, job_id::text) < ($2, $3)) \
             ORDER BY requested_at DESC, job_id DESC LIMIT $4"
        ))
        .bind(viewer.user_id)
        .bind(page.before_at())
        .bind(page.before_id())
        .bind(page.limit)
        .fetch_all(self.pool())
        .await?;
        let ids: Vec<String> = items.iter().map(|item| item.job_id.to_string()).collect();
        let keys: Vec<(DateTime<Utc>, &str)> = items
            .iter()
            .zip(&ids)
            .map(|(item, id)| (item.requested_at, id.as_str()))
            .collect();
        let next_cursor = page.next_cursor(&keys, |(at, id)| (*at, id));
        Ok(GenerationList { items, next_cursor })
    }

    /// The caller's generation `job_id` once the read model shows `after` (a stranger's
    /// is not found).
    pub async fn generation(
        &self,
        viewer: Caller,
        job_id: Uuid,
        after: Option<&Written>,
    ) -> Result<GenerationView, CommandError> {
        self.shows(
            crate::ProjectionName::GenerationJobs,
            "GenerationJob",
            after,
        )
        .await;
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM rm_generation_jobs WHERE job_id = $1 AND user_id = $2"
        ))
        .bind(job_id)
        .bind(viewer.user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| CommandError::not_found("no such generation"))
    }
}
