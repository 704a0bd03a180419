//! The edge's `/metrics` after real traffic: requests by method, contract
//! route and status, counted exactly.

use testkit::metrics::{free_addr, sample, scrape};

use crate::support::{Edge, start_echo_upstream, upstream};

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status_exactly() {
    let addr = free_addr().await;
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo_with(vec![upstream("echo", echo.url())], |config| {
        config.metrics_addr = Some(addr)
    })
    .await;
    for id in ["a", "b", "c"] {
        assert_eq!(edge.get(&format!("/v1/echo/{id}")).send().await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(edge.get("/v1/nothing-here").send().await.status, 404);
    }
    let bad = edge
        .post("/v1/echo")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await;
    assert_eq!(bad.status, 400);
    let text = scrape(addr).await;
    let requests = |method: &str, route: &str, status: &str| {
        sample(
            &text,
            "http_server_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("GET", "/v1/echo/{id}", "200"), 3.0, "{text}");
    assert_eq!(requests("GET", "unmatched", "404"), 2.0, "{text}");
    assert_eq!(requests("POST", "/v1/echo", "400"), 1.0, "{text}");
    assert_eq!(
        sample(
            &text,
            "http_server_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/v1/echo/{id}")]
        ),
        3.0
    );
    assert!(sample(&text, "process_resident_memory_bytes", &[]) > 0.0);
}
