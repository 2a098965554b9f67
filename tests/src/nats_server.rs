//! A private `nats-server` for tests that take NATS away and bring it back, with its
//! JetStream store in a temporary folder that survives restarts.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

pub struct NatsServer {
    pub port: u16,
    store: PathBuf,
    child: Option<Child>,
}

fn nats_server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("LEDGERBOT_TEST_NATS_SERVER") {
        return PathBuf::from(path);
    }
    for candidate in std::env::split_paths(&std::env::var("PATH").unwrap_or_default())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
    {
        let binary = candidate.join("nats-server");
        if binary.exists() {
            return binary;
        }
    }
    panic!("nats-server is not installed (scripts/test.sh installs it)");
}

impl NatsServer {
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let store =
            std::env::temp_dir().join(format!("lbt-nats-{}", uuid::Uuid::now_v7().simple()));
        let mut server = Self {
            port,
            store,
            child: None,
        };
        server.resume().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server outright: clients see the connection drop.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("nats-server can be killed");
        }
    }

    /// Starts it again on the same port with the same store.
    pub async fn resume(&mut self) {
        let child = Command::new(nats_server_binary())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let ready = crate::eventually(Duration::from_secs(10), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
        })
        .await;
        assert!(ready, "nats-server did not come up on port {}", self.port);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
