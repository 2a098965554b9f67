//! Ticket categories (`rm_ticket_categories`): what admins set up, as the Mini App
//! and the bot offer it when a ticket is opened.

use domain::ticket_category::{CategoryEvent, CategoryLook};
use sqlx::PgConnection;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct TicketCategories;

async fn upsert(
    connection: &mut PgConnection,
    event: &EventEnvelope,
    look: &CategoryLook,
) -> Result<(), ApplyError> {
    sqlx::query(
        "INSERT INTO rm_ticket_categories (code, name, icon, colour, position, active, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (code) DO UPDATE SET name = $2, icon = $3, colour = $4, position = $5, \
         active = $6, updated_at = $7",
    )
    .bind(&event.aggregate_id)
    .bind(&look.name)
    .bind(&look.icon)
    .bind(&look.colour)
    .bind(look.position)
    .bind(look.active)
    .bind(event.recorded_at)
    .execute(connection)
    .await?;
    Ok(())
}

async fn record(connection: &mut PgConnection, event: &EventEnvelope) -> Result<(), ApplyError> {
    match event.decode::<CategoryEvent>()? {
        CategoryEvent::CategoryCreated { look } | CategoryEvent::CategoryUpdated { look } => {
            upsert(connection, event, &look).await
        }
        CategoryEvent::CategoryDeleted {} => {
            sqlx::query("DELETE FROM rm_ticket_categories WHERE code = $1")
                .bind(&event.aggregate_id)
                .execute(connection)
                .await?;
            Ok(())
        }
    }
}

impl Projection for TicketCategories {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable::tables(&["rm_ticket_categories"]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::TicketCategories.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["TicketCategory"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event))
    }
}

/// A ticket category as entry points show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryView {
    pub code: String,
    pub name: String,
    pub icon: Option<String>,
    pub colour: String,
    pub position: i32,
    pub active: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The categories, by position then code.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryList {
    pub items: Vec<CategoryView>,
}

const COLUMNS: &str = "code, name, icon, colour, position, active, updated_at";

impl crate::ReadModels {
    /// The active categories by position; with `all`, inactive ones too (for those who
    /// manage them).
    pub async fn ticket_categories(
        &self,
        viewer: domain::permissions::Caller,
        all: bool,
    ) -> Result<CategoryList, domain::command::CommandError> {
        if all {
            viewer.require(domain::permissions::Action::ManageTicketCategories)?;
        }
        let items = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM rm_ticket_categories WHERE active OR $1 ORDER BY position, code"
        ))
        .bind(all)
        .fetch_all(self.pool())
        .await?;
        Ok(CategoryList { items })
    }

    /// Category `code` once the read model shows `after`.
    pub async fn ticket_category(
        &self,
        code: &str,
        after: Option<&domain::use_cases::Written>,
    ) -> Result<Option<CategoryView>, domain::command::CommandError> {
        self.shows(
            crate::ProjectionName::TicketCategories,
            "TicketCategory",
            after,
        )
        .await;
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM rm_ticket_categories WHERE code = $1"
        ))
        .bind(code)
        .fetch_optional(self.pool())
        .await?)
    }
}
