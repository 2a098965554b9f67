//! A private PostgreSQL server for drills that restart the database under load: its
//! own data folder and port, started with Debian's `initdb` and `pg_ctl` (run as the
//! `postgres` user when the test runs as root, which `initdb` refuses to be).

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use tokio::process::Command;

pub struct PostgresServer {
    pub port: u16,
    home: PathBuf,
    bin: PathBuf,
}

fn postgres_bin_dir() -> PathBuf {
    if let Ok(path) = std::env::var("LEDGERBOT_TEST_POSTGRES_BIN") {
        return PathBuf::from(path);
    }
    for folder in std::env::split_paths(&std::env::var("PATH").unwrap_or_default()) {
        if folder.join("pg_ctl").exists() && folder.join("initdb").exists() {
            return folder;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("PostgreSQL's server binaries (initdb, pg_ctl) are installed (scripts/services.sh installs them)")
}

fn running_as_root() -> bool {
    std::env::var("USER").is_ok_and(|user| user == "root")
        || std::fs::metadata("/proc/self")
            .map(|meta| std::os::unix::fs::MetadataExt::uid(&meta) == 0)
            .unwrap_or(false)
}

impl PostgresServer {
    /// A new cluster on a free port, started and answering.
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let home = std::env::temp_dir().join(format!("lbt-pg-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&home).expect("a folder for the cluster");
        let server = Self {
            port,
            home,
            bin: postgres_bin_dir(),
        };
        if running_as_root() {
            let chown = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&server.home)
                .status()
                .await
                .expect("chown runs");
            assert!(chown.success(), "the cluster's folder is given to postgres");
        }
        let data = server.data().to_string_lossy().into_owned();
        let initdb = [
            "-D",
            &data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ];
        // C.UTF-8 where the system has it (as scripts/services.sh does), else its default.
        let with_locale: Vec<&str> = initdb.iter().copied().chain(["--locale=C.UTF-8"]).collect();
        if !server.try_run("initdb", &with_locale).await {
            let _ = std::fs::remove_dir_all(server.data());
            assert!(
                server.try_run("initdb", &initdb).await,
                "initdb failed for the drill's PostgreSQL"
            );
        }
        server.pg_ctl(&["start"]).await;
        server
    }

    fn data(&self) -> PathBuf {
        self.home.join("data")
    }

    /// An admin URL (the `postgres` database).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops it as a crash would (no checkpoint: recovery replays the WAL) and starts
    /// it again; answers once it accepts connections.
    pub async fn crash_restart(&self) {
        self.pg_ctl(&["stop", "-m", "immediate"]).await;
        self.pg_ctl(&["start"]).await;
    }

    async fn pg_ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=300 \
             -c shared_buffers=256MB",
            self.port,
            self.home.display()
        );
        let data = self.data();
        let log = self.home.join("postgres.log");
        let mut args = vec![
            "-D".to_owned(),
            data.to_string_lossy().into_owned(),
            "-w".to_owned(),
            "-t".to_owned(),
            "120".to_owned(),
        ];
        args.extend(action.iter().map(|part| (*part).to_owned()));
        if action.first() == Some(&"start") {
            args.extend([
                "-o".to_owned(),
                options,
                "-l".to_owned(),
                log.to_string_lossy().into_owned(),
            ]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run("pg_ctl", &refs).await;
    }

    async fn run(&self, program: &str, args: &[&str]) {
        assert!(
            self.try_run(program, args).await,
            "{program} {args:?} failed; see {}",
            self.log().display()
        );
    }

    /// Runs a server program (as `postgres` when this runs as root); whether it
    /// succeeded.
    async fn try_run(&self, program: &str, args: &[&str]) -> bool {
        let binary = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&binary);
            command
        } else {
            Command::new(&binary)
        };
        command
            .args(args)
            .current_dir("/")
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .unwrap_or_else(|error| panic!("{} runs: {error}", binary.display()))
            .success()
    }

    /// The server's log, for a failed drill's report.
    pub fn log(&self) -> PathBuf {
        self.home.join("postgres.log")
    }

    /// Waits until it answers a query.
    pub async fn wait_ready(&self) {
        let url = self.admin_url();
        let ready = crate::eventually(Duration::from_secs(60), || async {
            sqlx::PgPool::connect(&url).await.is_ok()
        })
        .await;
        assert!(ready, "the drill's Postgres did not come back");
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.data();
        let stop = |program: &mut std::process::Command| {
            let _ = program
                .args(["-D"])
                .arg(&data)
                .args(["stop", "-m", "immediate", "-w"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        };
        if running_as_root() {
            let mut command = std::process::Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .current_dir("/");
            stop(&mut command);
        } else {
            stop(&mut std::process::Command::new(self.bin.join("pg_ctl")));
        }
        let _ = std::fs::remove_dir_all(&self.home);
    }
}
