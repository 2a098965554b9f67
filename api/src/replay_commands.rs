//! `ledgerbot replay …`: the auditor's and the accountant's commands, translated to
//! calls of the `replay` crate (through `api::startup`), their answers printed as
//! text or JSON.

use std::process::ExitCode;

use api::cli::{ExportCommand, ReplayCommand};
use api::config::Settings;
use api::startup;

/// Exit code for a bad argument or configuration.
const EXIT_BAD_ARGUMENT: u8 = 2;

/// `ledgerbot replay …`: the auditor's reads of the store.
pub async fn replay(
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
            let mut code = ExitCode::SUCCESS;
            for outcome in startup::replay_rebuild(settings, &projection, verify).await? {
                let rebuilt = match outcome {
                    Ok(rebuilt) => rebuilt,
                    Err(error) => {
                        eprintln!("ledgerbot: {error}");
                        code = ExitCode::FAILURE;
                        continue;
                    }
                };
                if rebuilt
                    .comparison
                    .as_ref()
                    .is_some_and(|comparison| !comparison.is_equal())
                {
                    code = ExitCode::FAILURE;
                }
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
                        replay::rebuild::render(&rebuilt.projection, comparison)
                    );
                }
            }
            Ok(code)
        }
        ReplayCommand::Export { what } => export(what, settings).await,
        ReplayCommand::AnalystRole {
            name,
            password_env,
            json,
        } => {
            let password = match password_env {
                Some(variable) => match std::env::var(&variable) {
                    Ok(password) if !password.is_empty() => Some(password),
                    _ => {
                        eprintln!("ledgerbot: {variable} holds no password");
                        return Ok(ExitCode::from(EXIT_BAD_ARGUMENT));
                    }
                },
                None => None,
            };
            let role = startup::replay_analyst_role(settings, &name, password.as_deref()).await?;
            if json {
                print_json(&role, true);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{} {} ({}): may read {} read-model tables and views, nothing else",
                if role.created { "created" } else { "updated" },
                role.role,
                if role.login {
                    "may log in"
                } else {
                    "a group role: GRANT it to people"
                },
                role.relations.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        ReplayCommand::Verify {
            against,
            public_key,
            json,
        } => {
            let checkpoint = match (&against, &public_key) {
                (Some(path), Some(key)) => Some(replay::checkpoint::read(path, key)?),
                _ => None,
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
        ReplayCommand::Keygen { out, json } => {
            let public_key = replay::checkpoint::keygen(&out)?;
            if json {
                let made = serde_json::json!({"key_file": out.display().to_string(), "public_key": public_key});
                print_json(&made, true);
                return Ok(ExitCode::SUCCESS);
            }
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
    let (files, json) = match what {
        ExportCommand::Events {
            from,
            to,
            aggregate_type,
            aggregate_id,
            format,
            out,
            json,
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
                if json {
                    let written =
                        serde_json::json!({"files": [out.display().to_string()], "rows": count});
                    print_json(&written, true);
                } else {
                    eprintln!("ledgerbot: wrote {count} events to {}", out.display());
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        ExportCommand::TaxLedger {
            period,
            format,
            out,
            json,
        } => {
            let (period, format) = (period.parse::<TaxPeriod>()?, format.parse::<Format>()?);
            (
                startup::replay_export_tax_ledger(settings, period, format, &out).await?,
                json,
            )
        }
        ExportCommand::Receipts {
            month,
            format,
            out,
            json,
        } => {
            let (month, format) = (month.parse::<TaxPeriod>()?, format.parse::<Format>()?);
            (
                startup::replay_export_receipts(settings, month, format, &out).await?,
                json,
            )
        }
    };
    if json {
        print_json(&files, true);
    } else {
        println!("wrote {} ({} rows)", files.files.join(" and "), files.rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// `value` as one JSON line (`compact`) or indented.
pub fn print_json(value: &impl serde::Serialize, compact: bool) {
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
