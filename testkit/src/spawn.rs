//! Real servers on 127.0.0.1 port 0, and channels to them.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A server running in the test's runtime; stopped gracefully on drop.
pub struct Spawned {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Spawned {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits until it has finished.
    pub async fn stop(mut self) {
        self.stop_ref().await;
    }

    /// Like [`Spawned::stop`], for a server owned by something else.
    pub async fn stop_ref(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts a server with `run(listener, shutdown)` and waits until its health
/// check says SERVING. `run` is a service's `app::run` with its config bound.
pub async fn spawn<F, Fut, E>(run: F) -> Spawned
where
    F: FnOnce(TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    spawn_on(listener, run).await
}

/// [`spawn`] on a given listener, say to restart a server on the same port.
pub async fn spawn_on<F, Fut, E>(listener: TcpListener, run: F) -> Spawned
where
    F: FnOnce(TcpListener, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    let shutdown = Box::pin(async move {
        let _ = rx.await;
    });
    let server = run(listener, shutdown);
    let task = tokio::spawn(async move {
        if let Err(err) = server.await {
            panic!("server on {addr} failed: {err}");
        }
    });
    let spawned = Spawned {
        addr,
        shutdown: Some(tx),
        task: Some(task),
    };
    wait_until_serving(addr).await;
    spawned
}

/// A channel to a local server.
pub async fn channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

async fn wait_until_serving(addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(channel) = Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect()
            .await
        {
            let status = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .map(|r| r.into_inner().status);
            if matches!(status, Ok(s) if s == ServingStatus::Serving as i32) {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server on {addr} never became SERVING"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
