//! What travels with a call, and what happens when an upstream is away:
//! request ids, deadlines, idempotency keys, 503/504, recovery, health,
//! CORS and shutdown.

use edge::config::Cors;
use serde_json::json;
use testkit::TestAuth;
use tonic::Code;

use crate::support::{Edge, start_echo_upstream, upstream, vacant_addr};

#[tokio::test]
async fn request_ids_are_echoed_forwarded_and_made_up_when_absent() {
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo(vec![upstream("echo", echo.url())]).await;

    let reply = edge
        .get("/v1/echo/r")
        .header("x-request-id", "trace-123")
        .send()
        .await;
    assert_eq!(reply.header("x-request-id"), Some("trace-123"));
    assert_eq!(
        reply.expect(200)["received_metadata"]["x-request-id"],
        "trace-123"
    );

    let reply = edge.get("/v1/echo/r").send().await;
    let made_up = reply.header("x-request-id").unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&made_up).is_ok(), "{made_up}");
    assert_eq!(
        reply.expect(200)["received_metadata"]["x-request-id"],
        made_up.as_str()
    );

    // Errors carry one too.
    let reply = edge
        .get("/nowhere")
        .header("x-request-id", "lost-1")
        .send()
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.header("x-request-id"), Some("lost-1"));
}

#[tokio::test]
async fn deadlines_and_idempotency_keys_travel_as_metadata() {
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo(vec![upstream("echo", echo.url())]).await;

    let body = edge
        .post("/v1/echo")
        .header("idempotency-key", "key-42")
        .header("grpc-timeout", "5S")
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    assert_eq!(body["received_metadata"]["idempotency-key"], "key-42");
    assert!(
        body["received_metadata"]["grpc-timeout"].is_string(),
        "{body}"
    );

    // Without a header the default deadline still goes along.
    let body = edge.get("/v1/echo/d").send().await.expect(200);
    assert!(
        body["received_metadata"]["grpc-timeout"].is_string(),
        "{body}"
    );

    let reply = edge
        .get("/v1/echo/d")
        .header("x-request-timeout", "soon")
        .send()
        .await;
    let body = reply.expect_error(400, Code::InvalidArgument);
    assert_eq!(crate::support::violated_field(&body), "X-Request-Timeout");
}

#[tokio::test]
async fn an_upstream_that_never_answers_gives_504() {
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo(vec![upstream("echo", echo.url())]).await;
    let reply = edge
        .get("/v1/echo/slow?hang=true")
        .header("x-request-timeout", "0.2")
        .send()
        .await;
    reply.expect_error(504, Code::DeadlineExceeded);
}

/// tonic servers end a call whose `grpc-timeout` ran out with CANCELLED
/// ("Timeout expired"), and with a short deadline that answer can arrive
/// before the edge's own timer fires. The caller cancelled nothing: past
/// the deadline it is a 504. Before it, CANCELLED stays a 499.
#[tokio::test]
async fn cancelled_past_the_deadline_is_a_504_not_a_499() {
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo(vec![upstream("echo", echo.url())]).await;
    for timeout in ["1n", "1u", "100u"] {
        let reply = edge
            .get("/v1/echo/timeout-expired")
            .header("grpc-timeout", timeout)
            .send()
            .await;
        let body = reply.expect_error(504, Code::DeadlineExceeded);
        assert_eq!(
            body["message"],
            "the echo service did not answer before the deadline"
        );
    }
    let reply = edge.get("/v1/echo/timeout-expired").send().await;
    reply.expect_error(499, Code::Cancelled);
}

#[tokio::test]
async fn a_reply_that_does_not_fit_the_contract_gives_502_not_500() {
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo(vec![upstream("echo", echo.url())]).await;
    let reply = edge.get("/v1/echo/garbage").send().await;
    reply.expect_error(502, Code::Unknown);
}

#[tokio::test]
async fn an_upstream_that_is_down_gives_503_and_the_edge_recovers() {
    let auth = TestAuth::start().await;
    let customer = auth.sign_up(kursi_proto::access::v1::Role::Customer).await;
    let addr = vacant_addr().await;
    let edge = Edge::start(vec![
        upstream("auth", auth.url()),
        upstream("order", format!("http://{addr}")),
    ])
    .await;

    let reply = edge
        .get("/api/orders")
        .bearer(&customer.access_token)
        .send()
        .await;
    let body = reply.expect_error(503, Code::Unavailable);
    assert!(
        body["message"].as_str().unwrap().contains("order"),
        "{body}"
    );

    // The service comes up on that address: the same edge reaches it.
    let db = testkit::TestDb::new("order", &order_svc::MIGRATIONS).await;
    let config = order_svc::config::OrderConfig::with_defaults(
        testkit::service_config(db.url(), &auth.url()),
        "http://127.0.0.1:1",
    );
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let order = testkit::spawn_on(listener, move |l, s| order_svc::app::run(config, l, s)).await;
    let reply = edge
        .get("/api/orders")
        .bearer(&customer.access_token)
        .send()
        .await;
    // The answer came from the service, not from the edge's 503.
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("\"orders\""), "{}", reply.text());

    // Down again: 503 again, with no edge restart in between.
    order.stop().await;
    edge.get("/api/orders")
        .bearer(&customer.access_token)
        .send()
        .await
        .expect_error(503, Code::Unavailable);
}

#[tokio::test]
async fn healthz_reports_each_upstream() {
    let auth = TestAuth::start().await;
    let down = vacant_addr().await;
    let edge = Edge::start(vec![
        upstream("auth", auth.url()),
        upstream("order", format!("http://{down}")),
    ])
    .await;
    let body = edge.get("/healthz").send().await.expect(503);
    assert_eq!(body["upstreams"]["auth"], "SERVING");
    assert_eq!(body["upstreams"]["order"], "UNREACHABLE");
    // The edge itself still serves: what orchestrators probe.
    let live = edge.get("/livez").send().await.expect(200);
    assert_eq!(live["status"], "SERVING");

    let healthy = Edge::start(vec![upstream("auth", auth.url())]).await;
    let body = healthy.get("/healthz").send().await.expect(200);
    assert_eq!(body["status"], "SERVING");
}

#[tokio::test]
async fn cors_answers_allowed_origins_only() {
    let echo = start_echo_upstream().await;
    let origin = "https://app.example.com";
    let edge = Edge::start_with(vec![upstream("echo", echo.url())], |config| {
        config.cors = Cors::Origins(vec![origin.into()]);
    })
    .await;
    let preflight = edge
        .call(http::Method::OPTIONS, "/api/reservations")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await;
    assert!(preflight.status < 300, "{}", preflight.status);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(origin)
    );

    let other = edge
        .get("/openapi.json")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(other.status, 200);
    assert_eq!(other.header("access-control-allow-origin"), None);

    // Off by default.
    let plain = Edge::start(vec![]).await;
    let reply = plain
        .get("/openapi.json")
        .header("origin", origin)
        .send()
        .await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let echo = start_echo_upstream().await;
    let edge = Edge::start_echo(vec![upstream("echo", echo.url())]).await;
    edge.get("/v1/echo/x").send().await.expect(200);
    edge.stop().await.expect("the edge stops cleanly");
}

#[tokio::test]
async fn catalog_routes_reach_catalog_svc_with_no_edge_code() {
    // A new service's routes come from its contract alone: behind the door
    // like any other route, answered by the service.
    let auth = TestAuth::start().await;
    let customer = auth.sign_up(kursi_proto::access::v1::Role::Customer).await;
    let db = testkit::TestDb::new("catalog", &catalog_svc::MIGRATIONS).await;
    let config = catalog_svc::config::CatalogConfig::with_defaults(testkit::service_config(
        db.url(),
        &auth.url(),
    ));
    let catalog = testkit::spawn(move |l, s| catalog_svc::app::run(config, l, s)).await;
    let edge = Edge::start(vec![
        upstream("auth", auth.url()),
        upstream("catalog", catalog.url()),
    ])
    .await;
    edge.get("/api/movies")
        .send()
        .await
        .expect_error(401, Code::Unauthenticated);
    let reply = edge
        .get("/api/movies?page_size=5")
        .bearer(&customer.access_token)
        .send()
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("\"movies\""), "{}", reply.text());
}
