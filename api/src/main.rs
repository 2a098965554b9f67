use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use api::cli::{Cli, Command, OwnerCommand, ParkedCommand};
use api::config::{self, Settings};
use api::startup::{self, Application, Parts};
use api::{shutdown, telemetry};

mod replay_commands;

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
    let takes_payments = matches!(
        cli.command,
        Command::Serve { .. } | Command::Relay | Command::Workers | Command::Bot
    );
    if takes_payments && settings.payments.mode.is_none() {
        eprintln!("ledgerbot: {}", api::payments::GatewayError::NoMode);
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    match cli.command {
        Command::Parked { .. } | Command::Owner { .. } | Command::Replay { .. } => {
            telemetry::init_for_command(&settings.log)
        }
        _ => telemetry::init(&settings.log),
    }
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
        Ok(code) => code,
        Err(error @ startup::StartupError::UnknownProjection { .. }) => {
            eprintln!("ledgerbot: {error}");
            ExitCode::from(EXIT_BAD_CONFIG)
        }
        Err(startup::StartupError::Replay(error)) => {
            eprintln!("ledgerbot: {error}");
            if error.is_bad_argument() {
                ExitCode::from(EXIT_BAD_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            error!(error = %error, "ledgerbot stopped with an error");
            eprintln!("ledgerbot: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> Result<ExitCode, startup::StartupError> {
    if let Command::Parked { command } = command {
        return parked(command, &settings).await;
    }
    if let Command::Replay { command } = command {
        return replay_commands::replay(command, &settings).await;
    }
    run_part(command, settings)
        .await
        .map(|()| ExitCode::SUCCESS)
}

async fn run_part(command: Command, settings: Settings) -> Result<(), startup::StartupError> {
    match command {
        Command::Migrate => {
            startup::prepare_database(&settings).await?.close().await;
            info!("migrations are up to date");
            Ok(())
        }
        Command::Serve {
            no_relay,
            no_workers,
            no_bot,
        } => {
            let parts = Parts {
                relay: !no_relay,
                workers: !no_workers,
                bot: !no_bot,
            };
            serve(settings, parts).await
        }
        Command::Relay => serve(settings, Parts::RELAY_ONLY).await,
        Command::Workers => serve(settings, Parts::WORKERS_ONLY).await,
        Command::Bot => serve(settings, Parts::BOT_ONLY).await,
        Command::Config => Ok(()),
        Command::Owner {
            command:
                OwnerCommand::Grant {
                    telegram_id,
                    reason,
                },
        } => {
            let outcome = startup::grant_owner(&settings, telegram_id, &reason).await?;
            match outcome {
                domain::use_cases::owners::OwnerGrantOutcome::Applied { user_id } => {
                    println!("user {user_id} (Telegram {telegram_id}) is an owner now")
                }
                domain::use_cases::owners::OwnerGrantOutcome::Pending => println!(
                    "Telegram {telegram_id} becomes an owner at their first sign-in or /start"
                ),
            }
            Ok(())
        }
        Command::Parked { .. } | Command::Replay { .. } => Ok(()),
    }
}

/// `ledgerbot parked list|retry`: exit 1 when a retried event failed again.
async fn parked(
    command: ParkedCommand,
    settings: &Settings,
) -> Result<ExitCode, startup::StartupError> {
    match command {
        ParkedCommand::List { projection, json } => {
            let events = startup::parked_list(settings, projection.as_deref()).await?;
            for event in &events {
                if json {
                    match serde_json::to_string(event) {
                        Ok(line) => println!("{line}"),
                        Err(error) => eprintln!("ledgerbot: {error}"),
                    }
                } else {
                    println!(
                        "{}\t{}:{}\t#{}\t{}\t{}",
                        event.projection,
                        event.aggregate_type,
                        event.aggregate_id,
                        event.sequence,
                        event.parked_at.to_rfc3339(),
                        event.error
                    );
                }
            }
            if !json {
                eprintln!("{} parked event(s)", events.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        ParkedCommand::Retry {
            projection,
            aggregate_id,
        } => {
            let outcomes =
                startup::parked_retry(settings, &projection, aggregate_id.as_deref()).await?;
            let mut failed = 0;
            for outcome in &outcomes {
                let key = format!(
                    "{}:{} #{}",
                    outcome.aggregate_type, outcome.aggregate_id, outcome.sequence
                );
                match &outcome.error {
                    None => println!("applied\t{key}"),
                    Some(error) => {
                        failed += 1;
                        println!("still parked\t{key}\t{error}");
                    }
                }
            }
            eprintln!("{} applied, {failed} still parked", outcomes.len() - failed);
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

async fn serve(settings: Settings, parts: Parts) -> Result<(), startup::StartupError> {
    let shutdown = CancellationToken::new();
    shutdown::cancel_on_signal(shutdown.clone());
    let application = Application::build(settings, parts).await?;
    application.run_until_stopped(shutdown).await
}

fn print_settings(settings: &Settings) {
    for (name, value) in config::effective_settings(settings) {
        println!("{name}={value}");
    }
}
