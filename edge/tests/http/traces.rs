//! One REST call, one trace: the edge's span continues the caller's W3C
//! `traceparent`, and the service's span is its child, as a real OTLP/gRPC
//! receiver on loopback gets them.

use kursi_proto::access::v1::Role;
use testkit::TestAuth;
use testkit::otlp::OtlpReceiver;

use crate::support::{Edge, upstream};

#[tokio::test]
async fn a_rest_call_and_the_service_behind_it_are_one_trace() {
    let receiver = OtlpReceiver::start().await;
    service_kit::telemetry::init_with(Some(&receiver.endpoint()), "kursi-tests");
    let auth = TestAuth::start().await;
    let edge = Edge::start(vec![upstream("auth", auth.url())]).await;
    let siti = auth.sign_up(Role::Customer).await;

    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let reply = edge
        .get("/api/me")
        .bearer(&siti.access_token)
        .header(
            "traceparent",
            &format!("00-{caller_trace}-{caller_span}-01"),
        )
        .send()
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    // sign_up called GetMe too, directly: the one wanted is the edge's child.
    let pair = |spans: &[testkit::otlp::ReceivedSpan]| {
        let edge = spans.iter().find(|s| s.name == "GET /api/me")?;
        let service = spans.iter().find(|s| {
            s.name == "/kursi.auth.v1.AuthService/GetMe" && s.trace_id == edge.trace_id
        })?;
        Some((edge.clone(), service.clone()))
    };
    let spans = receiver.wait_for(|spans| pair(spans).is_some()).await;
    let (edge_span, service_span) = pair(&spans).unwrap();
    assert_eq!(
        hex(&edge_span.trace_id),
        caller_trace,
        "the caller's trace is continued"
    );
    assert_eq!(hex(&edge_span.parent_span_id), caller_span);
    assert_eq!(edge_span.trace_id, service_span.trace_id, "one trace");
    assert_eq!(
        service_span.parent_span_id, edge_span.span_id,
        "the service's parent is the edge"
    );
    assert_eq!(
        edge_span.attribute("http.route").as_deref(),
        Some("/api/me")
    );
    assert_eq!(
        service_span.attribute("rpc.method").as_deref(),
        Some("GetMe")
    );
    service_kit::telemetry::shutdown();
}
