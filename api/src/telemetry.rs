//! Structured logs: JSON lines when stdout is not a terminal (services, CI), readable
//! text when a person is watching.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(settings: &LogSettings) {
    init_to(settings, false);
}

/// For one-shot commands whose standard output is their answer (`ledgerbot parked
/// list --json`): the log goes to standard error.
pub fn init_for_command(settings: &LogSettings) {
    init_to(settings, true);
}

fn init_to(settings: &LogSettings, to_stderr: bool) {
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match settings.format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE)
        .with_target(true)
        .with_writer(move || -> Box<dyn std::io::Write> {
            if to_stderr {
                Box::new(std::io::stderr())
            } else {
                Box::new(std::io::stdout())
            }
        });
    let installed = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init()
    };
    // A subscriber may already be installed (tests build several applications in
    // one process); the first one stays.
    drop(installed);
}
