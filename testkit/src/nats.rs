//! A real nats-server with JetStream for one test: its own port and store,
//! so streams never mix between tests running in parallel, and a test can
//! stop it and start it again (same port, same store) to prove what
//! happens to events while NATS is down.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_nats::jetstream;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub struct TestNats {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// One message read back from a stream.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sequence: u64,
    pub subject: String,
    pub message_id: Option<String>,
    pub event_type: Option<String>,
    pub payload: bytes::Bytes,
}

/// `KURSI_NATS_BIN`, else `nats-server` on PATH, else Debian's path.
fn program() -> String {
    if let Ok(bin) = std::env::var("KURSI_NATS_BIN") {
        return bin;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
    });
    on_path
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/usr/sbin/nats-server".into())
}

impl TestNats {
    pub async fn start() -> Self {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("kursi-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("nats store dir");
        let mut nats = Self {
            port,
            dir,
            child: None,
        };
        nats.resume().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts the server again, on the same port with the same store.
    pub async fn resume(&mut self) {
        let bin = program();
        let child = Command::new(&bin)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!("tests need nats-server (KURSI_NATS_BIN or PATH; scripts/test installs it): {bin}: {err}")
            });
        self.child = Some(child);
        self.wait_until_ready().await;
    }

    async fn wait_until_ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)).await {
                let mut greeting = String::new();
                let mut reader = BufReader::new(stream);
                let read = reader.read_line(&mut greeting);
                if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), read).await
                    && greeting.contains("\"jetstream\":true")
                {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server on port {} never came up",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn jetstream(&self) -> jetstream::Context {
        let client = async_nats::connect(self.url())
            .await
            .expect("connect to NATS");
        jetstream::new(client)
    }

    /// Every message of `stream`, in stream order, once it holds at least
    /// `count` (waiting up to 30 s for them to arrive).
    pub async fn messages(&self, stream: &str, count: u64) -> Vec<Stored> {
        let js = self.jetstream().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let (mut handle, last) = loop {
            if let Ok(mut handle) = js.get_stream(stream).await
                && let Ok(info) = handle.info().await
                && info.state.messages >= count
            {
                let last = info.state.last_sequence;
                break (handle, last);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "stream {stream} never held {count} messages"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let first = handle
            .info()
            .await
            .map(|i| i.state.first_sequence)
            .unwrap_or(1);
        let mut out = Vec::new();
        for sequence in first..=last {
            if let Ok(message) = handle.get_raw_message(sequence).await {
                let header = |name: &str| {
                    message
                        .headers
                        .get(name)
                        .map(|value| value.as_str().to_owned())
                };
                out.push(Stored {
                    sequence,
                    subject: message.subject.to_string(),
                    message_id: header("Nats-Msg-Id"),
                    event_type: header("Kursi-Event-Type"),
                    payload: message.payload.clone(),
                });
            }
        }
        out
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
