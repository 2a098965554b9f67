//! The system's own state for operators: the outbox and every projection, with lag
//! and parked events.

use domain::command::CommandError;
use domain::permissions::{Action, Caller};
use serde::Serialize;

use crate::ProjectionName;
use crate::read_models::ReadModels;
use crate::relay::{OutboxStatus, outbox_status};
use crate::worker::{ProjectionStatus, status};

/// Is everything flowing?
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemStatus {
    pub outbox: OutboxStatus,
    pub projections: Vec<ProjectionStatus>,
}

impl ReadModels {
    pub async fn system_status(&self, viewer: Caller) -> Result<SystemStatus, CommandError> {
        viewer.require(Action::ViewReports)?;
        let mut projections = Vec::with_capacity(ProjectionName::ALL.len());
        for name in ProjectionName::ALL {
            projections.push(status(self.pool(), name.as_str()).await?);
        }
        Ok(SystemStatus {
            outbox: outbox_status(self.pool()).await?,
            projections,
        })
    }
}
