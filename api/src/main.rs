use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use api::cli::{Cli, Command};
use api::config::{self, Settings};
use api::startup::{self, Application, Parts};
use api::{shutdown, telemetry};

/// Exit code for a configuration the process cannot start with.
const EXIT_BAD_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("ledgerbot: configuration error: {error}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    if let Command::Config = cli.command {
        print_settings(&settings);
        return ExitCode::SUCCESS;
    }
    telemetry::init(&settings.log);
    for variable in config::unknown_variables() {
        warn!(%variable, "this variable is not a Ledgerbot setting and is ignored (see .env.example)");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ledgerbot: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error!(error = %error, "ledgerbot stopped with an error");
            eprintln!("ledgerbot: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> Result<(), startup::StartupError> {
    match command {
        Command::Migrate => {
            startup::prepare_database(&settings).await?.close().await;
            info!("migrations are up to date");
            Ok(())
        }
        Command::Serve {
            no_relay,
            no_workers,
        } => {
            let parts = Parts {
                relay: !no_relay,
                workers: !no_workers,
            };
            serve(settings, parts).await
        }
        Command::Relay => serve(settings, Parts::RELAY_ONLY).await,
        Command::Workers => serve(settings, Parts::WORKERS_ONLY).await,
        Command::Config => Ok(()),
    }
}

async fn serve(settings: Settings, parts: Parts) -> Result<(), startup::StartupError> {
    let shutdown = CancellationToken::new();
    shutdown::cancel_on_signal(shutdown.clone());
    let application = Application::build(settings, parts).await?;
    application.run_until_stopped(shutdown).await
}

fn print_settings(settings: &Settings) {
    let lines = [
        ("DATABASE_URL", settings.database.redacted_url()),
        (
            "DATABASE_MAX_CONNECTIONS",
            settings.database.max_connections.to_string(),
        ),
        ("NATS_URL", settings.nats.redacted_urls()),
        ("LEDGERBOT_HTTP_ADDR", settings.http_addr.to_string()),
        ("LEDGERBOT_STREAM", settings.stream.name.clone()),
        (
            "LEDGERBOT_SUBJECT_PREFIX",
            settings.stream.subject_prefix.clone(),
        ),
        (
            "LEDGERBOT_STREAM_DUPLICATE_WINDOW_SECS",
            settings.stream.duplicate_window.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_RELAY_BATCH_SIZE",
            settings.relay.batch_size.to_string(),
        ),
        (
            "LEDGERBOT_RELAY_POLL_MS",
            settings.relay.poll_interval.as_millis().to_string(),
        ),
        (
            "LEDGERBOT_RELAY_ACK_TIMEOUT_MS",
            settings.relay.ack_timeout.as_millis().to_string(),
        ),
        ("LEDGERBOT_LOG", settings.log.filter.clone()),
        (
            "LEDGERBOT_LOG_FORMAT",
            format!("{:?}", settings.log.format).to_lowercase(),
        ),
        (
            "LEDGERBOT_SHUTDOWN_GRACE_SECS",
            settings.shutdown_grace.as_secs().to_string(),
        ),
    ];
    for (name, value) in lines {
        println!("{name}={value}");
    }
}
