//! `GET /api/v1/app/settings`: what the Mini App needs to know about this
//! deployment before it draws anything (which sections the business offers, the
//! bot's username for links). No sign-in: it says nothing about anyone.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Settings;
use crate::http::AppState;

/// The deployment as the Mini App sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppSettings {
    /// The sections to show, in order: `coursework`, `salon`, `shop`, `credits`,
    /// `support` (configured by `LEDGERBOT_APP_SECTIONS`, without those whose
    /// catalogue is empty).
    pub sections: Vec<String>,
    /// The bot's @username without the @, for share links; null when unset.
    pub bot_username: Option<String>,
    /// The salon's offset from UTC (`+03:00`), for showing slots in its time.
    pub salon_utc_offset: String,
}

impl AppSettings {
    /// From the settings: a section whose catalogue has nothing to offer is left out.
    pub fn from_settings(settings: &Settings) -> Arc<Self> {
        let offers = |section: &str| match section {
            "salon" => !settings.shopfront.services.is_empty(),
            "shop" => !settings.shopfront.products.is_empty(),
            "credits" => {
                !settings.catalogue.packs.is_empty() || !settings.catalogue.plans.is_empty()
            }
            _ => true,
        };
        Arc::new(Self {
            sections: settings
                .app_sections
                .iter()
                .filter(|section| offers(section))
                .cloned()
                .collect(),
            bot_username: settings.bot_username.clone(),
            salon_utc_offset: settings.salon.utc_offset.to_string(),
        })
    }
}

/// `GET /api/v1/app/settings`
#[utoipa::path(
    get,
    path = "/app/settings",
    tag = "app",
    operation_id = "app_settings",
    summary = "What the Mini App shows on this deployment",
    description = "The sections the business offers and the bot's username. No sign-in.",
    responses((status = 200, description = "The settings", body = AppSettings))
)]
pub async fn get(State(state): State<AppState>) -> Json<AppSettings> {
    Json(state.app_settings.as_ref().clone())
}
