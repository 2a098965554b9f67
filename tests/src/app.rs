//! Starting Ledgerbot for a test: in-process (`spawn_app`), or as the real binary in a
//! child process (`LedgerbotProcess`) when a test must kill it or send it signals.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use api::config::Settings;
use api::startup::{Application, Parts, StartupError};

/// The application running inside the test process.
pub struct TestApp {
    pub address: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), StartupError>>,
    /// The application's shared state, to drive a part directly.
    pub state: api::http::AppState,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Asks for a graceful stop and waits for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task
            .await
            .expect("the application task does not panic")
            .expect("the application stops cleanly");
    }
}

/// The product in this process, without the Telegram bot (tests of the bot use
/// [`spawn_app_with_bot`]).
pub async fn spawn_app(settings: Settings, parts: Parts) -> TestApp {
    spawn_parts(
        settings,
        Parts {
            bot: false,
            ..parts
        },
    )
    .await
}

/// The whole product in this process, the bot included (its Bot API the address in
/// `settings.bot.api_url`, a fake one).
pub async fn spawn_app_with_bot(settings: Settings) -> TestApp {
    spawn_parts(settings, Parts::ALL).await
}

async fn spawn_parts(settings: Settings, parts: Parts) -> TestApp {
    let application = Application::build(settings, parts)
        .await
        .expect("the application builds");
    let address = application.local_addr();
    let state = application.state().clone();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(application.run_until_stopped(shutdown.clone()));
    TestApp {
        address,
        shutdown,
        task,
        state,
    }
}

/// The `ledgerbot` binary built next to the test executables. `scripts/test.sh` (and
/// `cargo build --bin ledgerbot`) build it before the tests run.
pub fn ledgerbot_binary() -> PathBuf {
    if let Ok(path) = std::env::var("LEDGERBOT_BIN") {
        return PathBuf::from(path);
    }
    let executable = std::env::current_exe().expect("the test executable has a path");
    let folder = executable.parent().expect("an executable is in a folder");
    // Tests run from target/<profile>/deps; the drill is target/<profile>/drill.
    let profile_dir = if folder.ends_with("deps") {
        folder.parent().expect("target/<profile>/deps has a parent")
    } else {
        folder
    };
    let binary = profile_dir.join("ledgerbot");
    assert!(
        binary.exists(),
        "{} is missing: build it first with `cargo build --bin ledgerbot` (scripts/test.sh does)",
        binary.display()
    );
    binary
}

/// `ledgerbot <args>` as a child process with the given environment.
pub struct LedgerbotProcess {
    pub child: Child,
    /// Where its HTTP listener came up (read from its start-up log line).
    pub address: SocketAddr,
}

impl LedgerbotProcess {
    pub async fn start(args: &[&str], env: &[(String, String)]) -> Self {
        let mut child = Command::new(ledgerbot_binary())
            .args(args)
            .env_clear()
            .envs(env.iter().cloned())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("ledgerbot starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let address = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("stdout is readable") {
                let Ok(record) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                if let Some(address) = record.get("address").and_then(|a| a.as_str()) {
                    return address.parse::<SocketAddr>().expect("a socket address");
                }
            }
            panic!("ledgerbot exited before serving");
        })
        .await
        .expect("ledgerbot serves within 30 s");
        // Keep draining its log so the pipe never fills up.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, address }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// SIGKILL: no chance to finish anything.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("ledgerbot can be killed");
    }

    /// SIGTERM, then the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("ledgerbot is running");
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .expect("kill runs");
        assert!(sent.success());
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("ledgerbot stops within 30 s of SIGTERM")
            .expect("the exit status is readable")
    }
}

/// What a one-shot `ledgerbot <args>` printed, and how it exited.
#[derive(Debug)]
pub struct CommandOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `ledgerbot <args>` to its end with the given environment.
pub async fn run_ledgerbot(args: &[&str], env: &[(String, String)]) -> CommandOutput {
    let output = Command::new(ledgerbot_binary())
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .await
        .expect("ledgerbot runs");
    CommandOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
