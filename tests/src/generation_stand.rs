//! The product over real Postgres and NATS with local stand-ins of kie.ai and of a
//! chat completions API (`ai_fakes`), for the files and generations tests.

use std::time::Duration;

use api::config::Settings;
use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use reqwest::StatusCode;
use serde_json::Value;

use crate::ai_fakes::{CHAT_KEY, FakeAi, KIE_KEY};
use crate::api_client::{self, get_with};
use crate::app::{TestApp, spawn_app};
use crate::{TestContext, eventually};

/// The product with its image and chat providers' stand-ins, a fresh database and a
/// files folder of its own.
pub struct Stand {
    pub context: TestContext,
    pub app: TestApp,
    pub fake: FakeAi,
    pub folder: std::path::PathBuf,
}

/// The stand with the tests' settings.
pub async fn stand() -> Stand {
    stand_with(|_| {}).await
}

/// The stand with the tests' settings changed by `change`.
pub async fn stand_with(change: impl FnOnce(&mut Settings)) -> Stand {
    let context = TestContext::new().await;
    let fake = FakeAi::start().await;
    let mut settings = api_client::settings(&context);
    settings.programs.monthly_allowance = 0;
    let folder = std::env::temp_dir().join(format!("lbt_files_{}", context.id));
    settings.files.folder = folder.clone();
    settings.ai.images.url = fake.url.clone();
    settings.ai.images.key = Some(KIE_KEY.into());
    settings.ai.chat.url = fake.url.clone();
    settings.ai.chat.key = Some(CHAT_KEY.into());
    settings.ai.rules.poll_every = Duration::from_millis(50);
    settings.ai.rules.first_retry = Duration::from_millis(100);
    settings.ai.rules.task_timeout = Duration::from_secs(10);
    change(&mut settings);
    let app = spawn_app(settings, api::startup::Parts::ALL).await;
    Stand {
        context,
        app,
        fake,
        folder,
    }
}

impl Stand {
    pub async fn stop(self) {
        self.app.stop().await;
        self.context.cleanup().await;
        let _ = std::fs::remove_dir_all(&self.folder);
    }

    pub async fn grant(&self, user_id: &str, amount: u64) {
        Commands::over(self.context.pool.clone())
            .credits
            .execute(
                user_id,
                CreditCommand::Grant {
                    amount,
                    reason: GrantReason::Promo,
                    reference: format!("test-{amount}"),
                    expires_at: None,
                },
                &CommandContext::system("test"),
            )
            .await
            .expect("granted");
    }

    pub async fn balance(&self, token: &str) -> i64 {
        let (_, body) = get_with(&self.app, "/api/v1/credits", token).await;
        body["balance"].as_i64().unwrap_or(-1)
    }

    pub async fn upload(
        &self,
        token: &str,
        purpose: &str,
        name: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        api_client::upload_file(&self.app, token, purpose, name, bytes).await
    }

    pub async fn bytes(&self, token: &str, path: &str) -> (StatusCode, Vec<u8>) {
        let response = reqwest::Client::new()
            .get(self.app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the API answers");
        let status = response.status();
        (
            status,
            response
                .bytes()
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default(),
        )
    }

    pub async fn finished(&self, token: &str, job: &str) -> Value {
        let path = format!("/api/v1/generations/{job}");
        eventually(Duration::from_secs(30), || async {
            let (_, body) = get_with(&self.app, &path, token).await;
            match body["status"].as_str() {
                Some("succeeded") => true,
                Some("failed") => body["credits_returned"] == true,
                _ => false,
            }
        })
        .await;
        get_with(&self.app, &path, token).await.1
    }
}
