//! A tiny run against a real auth-svc (testkit's `TestAuth`), directly over
//! gRPC and through a real edge over REST: every request is counted, once,
//! as a success or under its error's code. No timing is asserted.

use std::sync::Arc;
use std::time::Duration;

use edge::config::{EdgeConfig, Upstream};
use loadgen::cinema::Layout;
use loadgen::client::{Client, GrpcClient, Load, RestClient};
use loadgen::fixture::{Setup, prepare};
use loadgen::run::{Plan, drive};
use loadgen::scenario::Scenario;
use testkit::TestAuth;

/// Nothing listens there; the login scenario never calls it.
const NOWHERE: &str = "http://127.0.0.1:1";

fn plan() -> Plan {
    Plan {
        concurrency: 2,
        duration: Duration::from_secs(120),
        requests: Some(20),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(30),
    }
}

#[tokio::test]
async fn a_login_run_counts_successes_and_errors_by_code() {
    let auth = TestAuth::start().await;
    let setup = Setup {
        auth_url: auth.url(),
        reservation_url: NOWHERE.into(),
        catalog_url: NOWHERE.into(),
        order_url: NOWHERE.into(),
        admin: None,
        users: 2,
        reservations_per_user: 1,
        layout: Layout {
            rows: 1,
            seats_per_row: 1,
        },
        showtimes: 0,
    };
    let mut fixture = prepare(Scenario::Login, &setup).await.unwrap();
    assert_eq!(fixture.users.len(), 2);
    // Every other request signs in with a wrong password: UNAUTHENTICATED,
    // then RESOURCE_EXHAUSTED once the account is locked.
    fixture.users[1].password = "not-the-password".into();
    let load = Arc::new(Load {
        scenario: Scenario::Login,
        fixture,
    });

    let grpc = Client::Grpc(GrpcClient::connect(&setup, &load).await.unwrap());
    let measured = drive(&plan(), load.clone(), &grpc).await;
    let counted = &measured.recorder;
    assert_eq!(counted.requests(), 20, "{:?}", counted.errors());
    assert_eq!(counted.ok(), 10, "{:?}", counted.errors());
    assert_eq!(counted.errors().values().sum::<u64>(), 10);
    assert!(
        counted.errors().contains_key("UNAUTHENTICATED"),
        "{:?}",
        counted.errors()
    );
    for label in counted.errors().keys() {
        assert!(
            ["UNAUTHENTICATED", "RESOURCE_EXHAUSTED"].contains(&label.as_str()),
            "{label}"
        );
    }

    // The same through the edge: errors counted by HTTP status.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = EdgeConfig::new(addr, vec![Upstream::new("auth", auth.url())]);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let edge = tokio::spawn(edge::app::run(config, listener, async {
        let _ = stopped.await;
    }));
    let rest = Client::Rest(RestClient::new(&format!("http://{addr}"), false, 2, &load).unwrap());
    let measured = drive(&plan(), load.clone(), &rest).await;
    let counted = &measured.recorder;
    assert_eq!(counted.requests(), 20, "{:?}", counted.errors());
    assert_eq!(counted.ok(), 10, "{:?}", counted.errors());
    // Locked by now: RESOURCE_EXHAUSTED is 429 through the edge.
    assert_eq!(
        counted.errors().get("HTTP 429"),
        Some(&10),
        "{:?}",
        counted.errors()
    );

    let _ = stop.send(());
    edge.await.unwrap().unwrap();
}
