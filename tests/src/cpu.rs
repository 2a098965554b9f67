//! CPU time spent by processes, read from `/proc`, so a benchmark can print what a
//! request costs: Postgres's (every server process, `postgres` by name) and this
//! process's own (the API, relay and workers a benchmark runs in-process, and its
//! load generator).

/// CPU seconds used so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTime {
    pub postgres: f64,
    pub this_process: f64,
}

impl CpuTime {
    pub fn now() -> Self {
        let mut postgres = 0.0;
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if !name.bytes().all(|byte| byte.is_ascii_digit()) {
                    continue;
                }
                if let Some((command, seconds)) = read_stat(&format!("/proc/{name}/stat"))
                    && command == "postgres"
                {
                    postgres += seconds;
                }
            }
        }
        Self {
            postgres,
            this_process: read_stat("/proc/self/stat").map_or(0.0, |(_, seconds)| seconds),
        }
    }

    /// What was used between `earlier` and this sample.
    pub fn since(&self, earlier: &CpuTime) -> CpuTime {
        CpuTime {
            postgres: (self.postgres - earlier.postgres).max(0.0),
            this_process: (self.this_process - earlier.this_process).max(0.0),
        }
    }
}

/// Clock ticks per second of `utime`/`stime` (Linux's USER_HZ, 100 on every
/// mainstream kernel).
const TICKS_PER_SECOND: f64 = 100.0;

/// The command name and user + system CPU seconds of a `/proc/<pid>/stat`.
fn read_stat(path: &str) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let command = stat.get(open + 1..close)?.to_owned();
    // After the command: state is field 3, utime field 14, stime field 15.
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((command, (utime + stime) / TICKS_PER_SECOND))
}
