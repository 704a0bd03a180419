//! PostgreSQL stopped under a running service, then started again: the
//! service says NOT_SERVING on grpc.health.v1 while it is away (its probe,
//! not only a failed request), answers UNAVAILABLE rather than making the
//! caller wait out its deadline, and serves again once it is back, with no
//! restart. The cluster is the test's own, so it may stop it. Counted, not
//! timed: the waits below are bounds for a broken service, not targets.

use std::time::Duration;

use kursi_proto::auth::v1::LoginRequest;
use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use testkit::health::{ServingStatus, until};
use testkit::postgres::TestPostgres;
use testkit::{ADMIN_PASSWORD, auth_config, channel, spawn};
use tonic::Code;
fn login() -> tonic::Request<LoginRequest> {
    let mut request = tonic::Request::new(LoginRequest {
        username: "admin".into(),
        password: ADMIN_PASSWORD.into(),
        ..Default::default()
    });
    // Three times DATABASE_CONNECT_TIMEOUT_SECONDS (1 s): the answer must
    // come from the service giving up on its database, not from the
    // deadline (DEADLINE_EXCEEDED) as when it waited 5 s for a connection.
    request.set_timeout(Duration::from_secs(3));
    request
}

#[tokio::test]
async fn a_service_reports_its_database_away_refuses_quickly_and_serves_again_after() {
    let postgres = TestPostgres::start().await;
    let pem = auth_svc::keys::generate_pem().expect("key");
    let config = auth_config(&postgres.url("kursi_auth"), &pem);
    let server =
        spawn(move |listener, shutdown| auth_svc::app::run(config, listener, shutdown)).await;
    let mut client = AuthServiceClient::new(channel(server.addr).await);
    client.login(login()).await.expect("signs in");

    postgres.stop();
    until(server.addr, ServingStatus::NotServing).await;
    let refused = client.login(login()).await.expect_err("no database");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");

    postgres.resume();
    until(server.addr, ServingStatus::Serving).await;
    client
        .login(login())
        .await
        .expect("signs in again, same process");
}
