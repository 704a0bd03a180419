//! The edge skeleton over real HTTP: upstream health, and an honest 501.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use edge::config::{EdgeConfig, Upstream};
use testkit::TestAuth;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

async fn start_edge(upstreams: Vec<Upstream>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = EdgeConfig {
        listen_addr: addr,
        upstreams,
    };
    tokio::spawn(edge::app::run(config, listener, std::future::pending()));
    addr
}

#[tokio::test]
async fn healthz_reports_each_upstream() {
    let auth = TestAuth::start().await;
    // Nothing listens on port 9 of loopback.
    let edge = start_edge(vec![
        Upstream {
            name: "auth",
            url: auth.url(),
        },
        Upstream {
            name: "order",
            url: "http://127.0.0.1:9".into(),
        },
    ])
    .await;
    let response = get(edge, "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(response.contains(r#""auth":"SERVING""#), "{response}");
    assert!(response.contains(r#""order":"UNREACHABLE""#), "{response}");

    let healthy = start_edge(vec![Upstream {
        name: "auth",
        url: auth.url(),
    }])
    .await;
    assert!(get(healthy, "/healthz").await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn routes_not_built_yet_answer_501_with_a_status_body() {
    let edge = start_edge(vec![]).await;
    let response = get(edge, "/api/reservations").await;
    assert!(response.starts_with("HTTP/1.1 501"), "{response}");
    assert!(response.contains(r#""code":12"#), "{response}");
}
