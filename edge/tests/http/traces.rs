//! One REST call, one trace: the edge's span continues the caller's W3C
//! `traceparent`, and the service's span is its child, as a real OTLP/gRPC
//! receiver on loopback gets them.

use kursi_proto::access::v1::Role;
use testkit::TestAuth;
use testkit::otlp::{OtlpReceiver, ReceivedSpan};

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

/// The trace of one ticket order: the edge's span, order-svc's under it,
/// and catalog-svc's (asked about the showtime) under order-svc's.
#[tokio::test]
async fn a_ticket_order_is_one_trace_through_the_edge_order_svc_and_the_catalog() {
    use kursi_proto::catalog::v1 as catalog_pb;
    use kursi_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
    use testkit::{TestDb, bearer, service_config, spawn};

    let receiver = OtlpReceiver::start().await;
    service_kit::telemetry::init_with(Some(&receiver.endpoint()), "kursi-tests");
    let auth = TestAuth::start().await;
    let admin = auth.sign_up(Role::Admin).await;
    let siti = auth.sign_up(Role::Customer).await;
    let catalog_db = TestDb::new("catalog", &catalog_svc::MIGRATIONS).await;
    let config = catalog_svc::config::CatalogConfig::with_defaults(service_config(
        catalog_db.url(),
        &auth.url(),
    ));
    let catalog = spawn(move |l, s| catalog_svc::app::run(config, l, s)).await;
    let order_db = TestDb::new("order", &order_svc::MIGRATIONS).await;
    let config = order_svc::config::OrderConfig::with_defaults(
        service_config(order_db.url(), &auth.url()),
        catalog.url(),
    );
    let order = spawn(move |l, s| order_svc::app::run(config, l, s)).await;
    let edge = Edge::start(vec![
        upstream("auth", auth.url()),
        upstream("catalog", catalog.url()),
        upstream("order", order.url()),
    ])
    .await;

    let mut client = CatalogServiceClient::new(testkit::channel(catalog.addr).await);
    let movie = client
        .create_movie(bearer(
            &admin.access_token,
            catalog_pb::CreateMovieRequest {
                title: "Agak Laen".into(),
                genres: vec!["Comedy".into()],
                duration_minutes: 119,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .movie
        .unwrap();
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let showtime = client
        .create_showtime(bearer(
            &admin.access_token,
            catalog_pb::CreateShowtimeRequest {
                movie_id: movie.movie_id,
                auditorium: "Studio 1".into(),
                start_time: Some(service_kit::values::timestamp(start)),
                price: 50_000,
                seat_layout: Some(catalog_pb::SeatLayout {
                    rows: 5,
                    seats_per_row: 8,
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .showtime
        .unwrap();

    let caller_trace = "0af7651916cd43dd8448eb211c80319c";
    let reply = edge
        .post("/api/orders")
        .bearer(&siti.access_token)
        .header(
            "traceparent",
            &format!("00-{caller_trace}-b7ad6b7169203331-01"),
        )
        .json(&serde_json::json!({ "showtime_id": showtime.showtime_id, "quantity": 2 }))
        .send()
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let find = |spans: &[ReceivedSpan], name: &str| {
        spans
            .iter()
            .find(|s| s.name == name && hex(&s.trace_id) == caller_trace)
            .cloned()
    };
    let names = [
        "POST /api/orders",
        "/kursi.order.v1.OrderService/CreateOrder",
        "/kursi.catalog.v1.CatalogService/GetShowtime",
    ];
    let spans = receiver
        .wait_for(|spans| names.iter().all(|name| find(spans, name).is_some()))
        .await;
    let [edge_span, order_span, catalog_span] = names.map(|name| find(&spans, name).unwrap());
    assert_eq!(
        order_span.parent_span_id, edge_span.span_id,
        "order-svc's parent is the edge"
    );
    // The catalog's span hangs under order-svc's, through the spans
    // order-svc opened between them (none today; a database span may come).
    let mut parent = catalog_span.parent_span_id.clone();
    let mut path = vec![catalog_span.name.clone()];
    while parent != order_span.span_id {
        let Some(up) = spans.iter().find(|s| s.span_id == parent) else {
            panic!("the catalog's span is not under order-svc's: {path:?}");
        };
        path.push(up.name.clone());
        parent = up.parent_span_id.clone();
    }
    service_kit::telemetry::shutdown();
}
