use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use api::cli::{Cli, Command, ExportCommand, OwnerCommand, ParkedCommand, ReplayCommand};
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
        return replay(command, &settings).await;
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

/// `ledgerbot replay …`: the auditor's reads of the store.
async fn replay(
    command: ReplayCommand,
    settings: &Settings,
) -> Result<ExitCode, startup::StartupError> {
    match command {
        ReplayCommand::History {
            aggregate_type,
            aggregate_id,
            json,
        } => {
            let events = startup::replay_history(settings, &aggregate_type, &aggregate_id).await?;
            if json {
                for event in &events {
                    match serde_json::to_string(event) {
                        Ok(line) => println!("{line}"),
                        Err(error) => eprintln!("ledgerbot: {error}"),
                    }
                }
            } else {
                print!("{}", replay::history::render(&events));
            }
            Ok(ExitCode::SUCCESS)
        }
        ReplayCommand::State {
            aggregate_type,
            aggregate_id,
            at,
            json,
        } => {
            let at = at.parse::<replay::state::Point>()?;
            let state = startup::replay_state(settings, &aggregate_type, &aggregate_id, at).await?;
            print_json(&state, json);
            Ok(ExitCode::SUCCESS)
        }
        ReplayCommand::Diff {
            aggregate_type,
            aggregate_id,
            from,
            to,
            json,
        } => {
            let (from, to) = (
                from.parse::<replay::state::Point>()?,
                to.parse::<replay::state::Point>()?,
            );
            let diff =
                startup::replay_diff(settings, &aggregate_type, &aggregate_id, from, to).await?;
            if json {
                print_json(&diff, true);
            } else {
                print!("{}", replay::state::render_diff(&diff));
            }
            Ok(ExitCode::SUCCESS)
        }
        ReplayCommand::Rebuild {
            projection,
            verify,
            json,
        } => {
            let mut differ = false;
            for rebuilt in startup::replay_rebuild(settings, &projection, verify).await? {
                differ |= rebuilt
                    .comparison
                    .as_ref()
                    .is_some_and(|comparison| !comparison.is_equal());
                if json {
                    print_json(&rebuilt, true);
                    continue;
                }
                println!(
                    "{}: {} events applied in {:.1} s ({:.0} events/s), {} parked, {}",
                    rebuilt.projection,
                    rebuilt.events,
                    rebuilt.seconds,
                    rebuilt.events_per_second,
                    rebuilt.parked,
                    if rebuilt.switched {
                        "switched in; the old tables are dropped"
                    } else {
                        "compared, not switched"
                    }
                );
                if let Some(comparison) = &rebuilt.comparison {
                    print!(
                        "{}",
                        replay::compare::render(&rebuilt.projection, comparison)
                    );
                }
            }
            Ok(if differ {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        ReplayCommand::Export { what } => export(what, settings).await,
        ReplayCommand::AnalystRole { name, password_env } => {
            let password = match password_env {
                Some(variable) => match std::env::var(&variable) {
                    Ok(password) if !password.is_empty() => Some(password),
                    _ => {
                        eprintln!("ledgerbot: {variable} holds no password");
                        return Ok(ExitCode::from(EXIT_BAD_CONFIG));
                    }
                },
                None => None,
            };
            let role = startup::replay_analyst_role(settings, &name, password.as_deref()).await?;
            println!(
                "{} {} ({}): may read {} read-model tables and views, nothing else",
                if role.created { "created" } else { "updated" },
                role.role,
                if role.login { "may log in" } else { "a group role: GRANT it to people" },
                role.relations.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        ReplayCommand::Verify {
            against,
            public_key,
            json,
        } => {
            let checkpoint = match &against {
                Some(path) => Some(replay::checkpoint::read(path, public_key.as_deref())?),
                None => None,
            };
            let report = startup::replay_verify(settings, checkpoint).await?;
            if json {
                print_json(&report, true);
            } else {
                print!("{}", replay::verify::render(&report));
            }
            Ok(if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ReplayCommand::Checkpoint { key, out, json } => {
            let written = startup::replay_checkpoint(settings, &key, &out).await?;
            if json {
                print_json(&written, true);
            } else {
                println!(
                    "wrote {}: {} events in {} aggregates as of {}, digest {}, signed by {}",
                    written.path,
                    written.events,
                    written.aggregates,
                    written.created_at,
                    written.digest,
                    written.public_key
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ReplayCommand::Keygen { out } => {
            let public_key = replay::checkpoint::keygen(&out)?;
            println!("{public_key}");
            eprintln!(
                "ledgerbot: wrote the signing key to {}; keep it away from the database's operators, and the public key above with the auditor",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `ledgerbot replay export …`.
async fn export(
    what: ExportCommand,
    settings: &Settings,
) -> Result<ExitCode, startup::StartupError> {
    use replay::export::{EventRange, Format, TaxPeriod};
    let point = |text: Option<String>| {
        text.map(|text| text.parse::<replay::state::Point>())
            .transpose()
    };
    let files = match what {
        ExportCommand::Events {
            from,
            to,
            aggregate_type,
            aggregate_id,
            format,
            out,
        } => {
            let range = EventRange {
                from: point(from)?,
                to: point(to)?,
                aggregate_type,
                aggregate_id,
            };
            let format = format.parse::<Format>()?;
            let count =
                startup::replay_export_events(settings, &range, format, out.as_deref()).await?;
            if let Some(out) = out {
                eprintln!("ledgerbot: wrote {count} events to {}", out.display());
            }
            return Ok(ExitCode::SUCCESS);
        }
        ExportCommand::TaxLedger {
            period,
            format,
            out,
        } => {
            let (period, format) = (period.parse::<TaxPeriod>()?, format.parse::<Format>()?);
            startup::replay_export_tax_ledger(settings, period, format, &out).await?
        }
        ExportCommand::Receipts { month, format, out } => {
            let (month, format) = (month.parse::<TaxPeriod>()?, format.parse::<Format>()?);
            startup::replay_export_receipts(settings, month, format, &out).await?
        }
    };
    println!("wrote {} ({} rows)", files.files.join(" and "), files.rows);
    Ok(ExitCode::SUCCESS)
}

/// `value` as one JSON line (`compact`) or indented.
fn print_json(value: &impl serde::Serialize, compact: bool) {
    let printed = if compact {
        serde_json::to_string(value)
    } else {
        serde_json::to_string_pretty(value)
    };
    match printed {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("ledgerbot: {error}"),
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
