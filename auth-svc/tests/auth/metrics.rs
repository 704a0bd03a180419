//! auth-svc's `/metrics` after real traffic: its requests by method and
//! code, counted exactly, and its process.

use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::{GetMeRequest, LoginRequest};
use testkit::metrics::{free_addr, sample, scrape};
use testkit::{TestAuth, bearer};

#[tokio::test]
async fn requests_are_counted_by_method_and_code_exactly() {
    let addr = free_addr().await;
    let auth = TestAuth::start_with(|config| config.common.metrics_addr = Some(addr)).await;
    let siti = auth.sign_up(Role::Customer).await;
    let before = scrape(addr).await;
    let mut client = auth.client().await;
    for _ in 0..3 {
        client
            .get_me(bearer(&siti.access_token, GetMeRequest {}))
            .await
            .expect("me");
    }
    for _ in 0..2 {
        client.get_me(GetMeRequest {}).await.expect_err("no token");
    }
    client
        .login(LoginRequest {
            username: siti.email.clone(),
            password: "not the password".into(),
            ..Default::default()
        })
        .await
        .expect_err("wrong password");
    let after = scrape(addr).await;

    let handled = |text: &str, method: &str, code: &str| {
        sample(
            text,
            "grpc_server_handled_total",
            &[
                ("grpc_type", "unary"),
                ("grpc_service", "kursi.auth.v1.AuthService"),
                ("grpc_method", method),
                ("grpc_code", code),
            ],
        )
    };
    let moved =
        |method: &str, code: &str| handled(&after, method, code) - handled(&before, method, code);
    assert_eq!(moved("GetMe", "OK"), 3.0, "{after}");
    assert_eq!(moved("GetMe", "Unauthenticated"), 2.0, "{after}");
    assert_eq!(moved("Login", "Unauthenticated"), 1.0, "{after}");
    let started = |text: &str| {
        sample(
            text,
            "grpc_server_started_total",
            &[
                ("grpc_type", "unary"),
                ("grpc_service", "kursi.auth.v1.AuthService"),
                ("grpc_method", "GetMe"),
            ],
        )
    };
    assert_eq!(started(&after) - started(&before), 5.0);
    let timed = |text: &str| {
        sample(
            text,
            "grpc_server_handling_seconds_count",
            &[
                ("grpc_type", "unary"),
                ("grpc_service", "kursi.auth.v1.AuthService"),
                ("grpc_method", "GetMe"),
            ],
        )
    };
    assert_eq!(timed(&after) - timed(&before), 5.0);
    assert!(sample(&after, "process_resident_memory_bytes", &[]) > 0.0);
    assert!(sample(&after, "process_cpu_seconds_total", &[]) > 0.0);
}
