//! Clients that send half a request, or nothing, must not hold the edge:
//! each is cut off after its bounded wait and frees its slot, and everyone
//! else is served meanwhile. Counted, not timed: the outer timeouts below
//! only keep a broken edge from hanging the test.

use std::time::Duration;

use edge::config::ClientLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::Edge;

/// Short waits, so the test spends seconds, not minutes.
fn quick(limits: &mut ClientLimits) {
    limits.header_read_timeout = Duration::from_secs(2);
    limits.body_idle_timeout = Duration::from_secs(2);
    limits.body_timeout = Duration::from_secs(4);
    limits.idle_timeout = Duration::from_secs(2);
}

/// Everything the server sends until it closes the connection; `None` if
/// it never does (within a minute, far past every limit above).
async fn until_closed(mut stream: TcpStream) -> Option<String> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

async fn half_a_head(edge: &Edge) -> TcpStream {
    let mut stream = TcpStream::connect(edge.addr).await.unwrap();
    stream
        .write_all(b"GET /openapi.json HTTP/1.1\r\nHost: kursi\r\nX-Slow: yes\r\n")
        .await
        .unwrap();
    stream
}

async fn a_tenth_of_a_body(edge: &Edge) -> TcpStream {
    let mut stream = TcpStream::connect(edge.addr).await.unwrap();
    stream
        .write_all(
            b"POST /v1/echo HTTP/1.1\r\nHost: kursi\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"text\":",
        )
        .await
        .unwrap();
    stream
}

#[tokio::test]
async fn five_hundred_slow_clients_are_cut_off_while_others_are_served() {
    let edge = Edge::start_echo_with(Vec::new(), |config| quick(&mut config.clients)).await;
    let mut heads = Vec::new();
    let mut bodies = Vec::new();
    for i in 0..500 {
        if i % 5 == 0 {
            bodies.push(a_tenth_of_a_body(&edge).await);
        } else {
            heads.push(half_a_head(&edge).await);
        }
    }
    // Meanwhile, others are served, each on a connection of its own.
    let mut served = 0;
    for _ in 0..50 {
        let reply = edge.get("/openapi.json").send().await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        served += 1;
    }
    assert_eq!(served, 50);

    let heads = futures_util::future::join_all(heads.into_iter().map(until_closed)).await;
    let still_open = heads.iter().filter(|answer| answer.is_none()).count();
    assert_eq!(
        still_open, 0,
        "connections with half a head that the edge kept open"
    );
    let bodies = futures_util::future::join_all(bodies.into_iter().map(until_closed)).await;
    for answer in &bodies {
        let answer = answer
            .as_deref()
            .expect("the edge closed a body that stopped");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("stopped coming"), "{answer}");
    }
    assert_eq!(bodies.len(), 100);
    // And the edge still serves.
    assert_eq!(edge.get("/openapi.json").send().await.status, 200);
}

#[tokio::test]
async fn past_the_connection_limit_a_client_waits_for_a_slot_and_is_served() {
    let edge = Edge::start_echo_with(Vec::new(), |config| {
        quick(&mut config.clients);
        config.clients.max_connections = 5;
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(TcpStream::connect(edge.addr).await.unwrap());
    }
    // The sixth waits in the backlog until an idle one is closed.
    let reply = tokio::time::timeout(Duration::from_secs(60), edge.get("/openapi.json").send())
        .await
        .expect("served once a slot was free");
    assert_eq!(reply.status, 200);
    for stream in idle {
        assert!(
            until_closed(stream).await.is_some(),
            "an idle connection stayed open"
        );
    }
}

#[tokio::test]
async fn too_many_or_too_large_headers_are_refused() {
    let edge = Edge::start_echo_with(Vec::new(), |config| quick(&mut config.clients)).await;
    let mut many = edge.get("/openapi.json");
    for i in 0..120 {
        many = many.header(&format!("x-h{i}"), "1");
    }
    assert_eq!(many.send().await.status, 431);

    let huge = "x".repeat(70 * 1024);
    let reply = edge
        .get("/openapi.json")
        .header("x-huge", &huge)
        .send()
        .await;
    assert_eq!(reply.status, 431);

    // HTTP/2: the header list is refused (431, or the stream reset).
    let reply = edge
        .get("/openapi.json")
        .header("x-huge", &huge)
        .http2()
        .try_send()
        .await;
    assert!(reply.is_err() || reply.is_ok_and(|r| r.status == 431));
    assert_eq!(edge.get("/openapi.json").http2().send().await.status, 200);
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let edge = Edge::start_echo_with(Vec::new(), |config| quick(&mut config.clients)).await;
    let stream = TcpStream::connect(edge.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let connection = tokio::spawn(connection);
    let request = http::Request::get(format!("http://{}/openapi.json", edge.addr))
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    assert_eq!(sender.send_request(request).await.unwrap().status(), 200);
    // Nothing more is sent: the edge says GOAWAY and the connection ends.
    let ended = tokio::time::timeout(Duration::from_secs(60), connection).await;
    assert!(ended.is_ok(), "the idle HTTP/2 connection stayed open");
}
