//! The files' and the AI services' adapters, from the settings: the store's folder,
//! the scanner (or a warning that uploads are not scanned), kie.ai and the chat model
//! (or, without keys, services that say so).

use std::sync::Arc;
use std::time::Duration;

use domain::files::{FileStore, VirusScanner};
use domain::use_cases::files::{Files, LinkSigner};
use domain::use_cases::generation::Ai;
use domain::use_cases::generation::port::{ChatModel, ImageProvider};
use tracing::warn;

use crate::ai::{Unconfigured, chat::ChatCompletions, clamav::Clamd, kie::KieImages};
use crate::config::Settings;

/// How many photos are decoded at once per process (each holds its pixels).
const IMAGE_WORKERS: usize = 2;
const CHAT_TIMEOUT: Duration = Duration::from_secs(60);
const IMAGE_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub fn files(settings: &Settings, public_url: &str) -> Files {
    let store = FileStore::new(&settings.files.folder);
    if let Err(error) = std::fs::create_dir_all(store.root().join("tmp")) {
        warn!(%error, folder = %store.root().display(), "the files folder cannot be made; uploads will fail");
    }
    let scanner: Option<Arc<dyn VirusScanner>> = match &settings.files.clamav {
        Some(address) => Some(Arc::new(Clamd::new(address))),
        None => None,
    };
    // Every process of a deployment must sign alike (the workers sign, the API checks):
    // the JWT secret, else the bot token. Without either nobody can sign in, so no
    // file is uploaded; a random secret keeps links closed.
    let secret = match settings
        .auth
        .jwt_secret
        .clone()
        .or_else(|| settings.auth.bot_token.clone())
    {
        Some(secret) => secret,
        None => {
            warn!(
                "no LEDGERBOT_JWT_SECRET or bot token: signed file links work within this process only"
            );
            uuid::Uuid::now_v7().to_string()
        }
    };
    Files::new(
        store,
        settings.files.policy.clone(),
        scanner,
        IMAGE_WORKERS,
        LinkSigner::new(format!("file-links:{secret}").as_bytes()),
        public_url,
    )
}

pub fn ai(settings: &Settings) -> Ai {
    let ai = &settings.ai;
    let images: Arc<dyn ImageProvider> = match &ai.images.key {
        Some(key) => match KieImages::new(
            &ai.images.url,
            key,
            &ai.images.model,
            ai.image_cost,
            IMAGE_REQUEST_TIMEOUT,
        ) {
            Ok(client) => Arc::new(client),
            Err(error) => {
                warn!(%error, "the image provider's client cannot be made");
                Arc::new(Unconfigured {
                    variable: "LEDGERBOT_KIE_API_KEY",
                })
            }
        },
        None => Arc::new(Unconfigured {
            variable: "LEDGERBOT_KIE_API_KEY",
        }),
    };
    let chat: Arc<dyn ChatModel> = match &ai.chat.key {
        Some(key) => match ChatCompletions::new(&ai.chat.url, key, &ai.chat.model, CHAT_TIMEOUT) {
            Ok(client) => Arc::new(client),
            Err(error) => {
                warn!(%error, "the chat model's client cannot be made");
                Arc::new(Unconfigured {
                    variable: "LEDGERBOT_CHAT_API_KEY",
                })
            }
        },
        None => Arc::new(Unconfigured {
            variable: "LEDGERBOT_CHAT_API_KEY",
        }),
    };
    let mut rules = ai.rules.clone();
    rules.monthly_allowance = settings.programs.monthly_allowance;
    Ai {
        images,
        chat,
        rules,
    }
}

/// Says at start what is not set up.
pub fn announce(settings: &Settings) {
    if settings.files.clamav.is_none() {
        warn!(
            "uploads are NOT scanned for viruses (set LEDGERBOT_CLAMAV_ADDRESS to a clamd, e.g. 127.0.0.1:3310)"
        );
    }
    if settings.ai.images.key.is_none() {
        warn!("image generation is off: LEDGERBOT_KIE_API_KEY is not set");
    }
    if settings.ai.chat.key.is_none() {
        warn!("the AI assistants are off: LEDGERBOT_CHAT_API_KEY is not set");
    }
}
