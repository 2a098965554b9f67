//! A progress line on stderr for long work (rate and ETA), drawn only when stderr
//! is a terminal, so logs and pipes get nothing but the result.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Counts work done against a known total and redraws at most five times a second.
pub struct Progress {
    label: &'static str,
    unit: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    drawn: Option<Instant>,
    visible: bool,
}

impl Progress {
    pub fn new(label: &'static str, unit: &'static str, total: u64) -> Self {
        Progress {
            label,
            unit,
            total,
            done: 0,
            started: Instant::now(),
            drawn: None,
            visible: std::io::stderr().is_terminal(),
        }
    }

    pub fn advance(&mut self, by: u64) {
        self.done += by;
        if !self.visible {
            return;
        }
        let now = Instant::now();
        if self
            .drawn
            .is_some_and(|drawn| now.duration_since(drawn) < Duration::from_millis(200))
        {
            return;
        }
        self.drawn = Some(now);
        self.draw(now);
    }

    /// Clears the line (the caller prints the result).
    pub fn finish(self) {
        if self.visible && self.drawn.is_some() {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }

    fn draw(&self, now: Instant) {
        let seconds = now.duration_since(self.started).as_secs_f64().max(1e-9);
        let rate = self.done as f64 / seconds;
        let left = self.total.saturating_sub(self.done) as f64;
        let eta = if rate > 0.0 { left / rate } else { 0.0 };
        let percent = if self.total > 0 {
            (self.done as f64 * 100.0 / self.total as f64).min(100.0)
        } else {
            100.0
        };
        eprint!(
            "\r\x1b[2K{}: {} / {} {} ({percent:.0} %), {:.0} {}/s, ETA {}",
            self.label,
            self.done,
            self.total,
            self.unit,
            rate,
            self.unit,
            eta_text(eta)
        );
        let _ = std::io::stderr().flush();
    }
}

fn eta_text(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    if seconds >= 3600 {
        format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60)
    } else if seconds >= 60 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{seconds}s")
    }
}
