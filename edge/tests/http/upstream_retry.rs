//! An upstream call that fails on its connection is sent again once, on a
//! fresh connection, when that cannot apply a change twice: always when the
//! service never saw it, and for reads and keyed requests when it may have.
//! A proxy between the edge and the echo upstream decides what each new
//! connection meets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{Edge, start_echo_upstream, upstream};

/// What a connection through the proxy meets.
#[derive(Debug, Clone, Copy)]
enum Meets {
    /// A server going away: HTTP/2 SETTINGS, then GOAWAY naming no stream as
    /// processed (what a tonic server sends when it shuts down).
    GoingAway,
    /// A server that reads the request and dies before answering.
    DiesAfterReading,
    /// The echo upstream.
    Echo,
}

/// A proxy whose n-th connection meets `plan[n]` (the last one thereafter).
struct Proxy {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(echo: SocketAddr, plan: Vec<Meets>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let n = counted.fetch_add(1, Ordering::SeqCst);
                let meets = plan[n.min(plan.len() - 1)];
                tokio::spawn(serve(stream, meets, echo));
            }
        });
        Self { addr, connections }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve(mut stream: TcpStream, meets: Meets, echo: SocketAddr) {
    match meets {
        Meets::GoingAway => {
            let mut preface = [0_u8; 24];
            let _ = stream.read_exact(&mut preface).await;
            let settings = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
            // GOAWAY: length 8, type 7, stream 0; last stream 0, NO_ERROR.
            let goaway = [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            let _ = stream.write_all(&settings).await;
            let _ = stream.write_all(&goaway).await;
            // Read on until the client gives up on this connection.
            let mut sink = [0_u8; 4096];
            while let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_secs(5), stream.read(&mut sink)).await
            {
                if n == 0 {
                    break;
                }
            }
        }
        Meets::DiesAfterReading => {
            // Everything the client sends while it waits for its answer.
            let mut sink = [0_u8; 4096];
            while let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(300), stream.read(&mut sink)).await
            {
                if n == 0 {
                    break;
                }
            }
        }
        Meets::Echo => {
            if let Ok(mut upstream) = TcpStream::connect(echo).await {
                let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
            }
        }
    }
}

async fn edge_through(plan: Vec<Meets>) -> (testkit::Spawned, Proxy, Edge) {
    let echo = start_echo_upstream().await;
    let proxy = Proxy::start(echo.addr, plan).await;
    let edge = Edge::start_echo(vec![upstream("echo", proxy.url())]).await;
    (echo, proxy, edge)
}

#[tokio::test]
async fn a_call_the_service_never_saw_is_sent_again_whatever_the_method() {
    let (_echo, proxy, edge) = edge_through(vec![Meets::GoingAway, Meets::Echo]).await;
    let reply = edge
        .post("/v1/echo")
        .json(&json!({"id": "once"}))
        .send()
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["id"], "once");
    assert_eq!(proxy.connections(), 2);
}

#[tokio::test]
async fn a_write_that_may_have_arrived_is_not_sent_again() {
    let (_echo, proxy, edge) = edge_through(vec![Meets::DiesAfterReading, Meets::Echo]).await;
    let reply = edge
        .post("/v1/echo")
        .json(&json!({"id": "maybe"}))
        .send()
        .await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(proxy.connections(), 1, "the write was sent again");
}

#[tokio::test]
async fn a_read_or_a_keyed_write_that_may_have_arrived_is_sent_again() {
    let (_echo, proxy, edge) = edge_through(vec![Meets::DiesAfterReading, Meets::Echo]).await;
    let reply = edge.get("/v1/echo/read").send().await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(proxy.connections(), 2);

    let (_echo, proxy, edge) = edge_through(vec![Meets::DiesAfterReading, Meets::Echo]).await;
    let reply = edge
        .post("/v1/echo")
        .header("Idempotency-Key", "order-7")
        .json(&json!({"id": "keyed"}))
        .send()
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(proxy.connections(), 2);
}

#[tokio::test]
async fn a_call_is_sent_again_only_once() {
    let (_echo, proxy, edge) = edge_through(vec![Meets::GoingAway]).await;
    let reply = edge.get("/v1/echo/twice").send().await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(proxy.connections(), 2);
}
