//! What a server says on grpc.health.v1, for tests that watch it change.

use std::net::SocketAddr;
use std::time::Duration;

use tonic_health::pb::HealthCheckRequest;
pub use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The server's overall health now; `Unknown` when it does not answer.
pub async fn status(addr: SocketAddr) -> ServingStatus {
    let Ok(channel) = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
    else {
        return ServingStatus::Unknown;
    };
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await;
    match answer.map(|r| r.into_inner().status) {
        Ok(status) => ServingStatus::try_from(status).unwrap_or(ServingStatus::Unknown),
        Err(_) => ServingStatus::Unknown,
    }
}

/// Waits until the server says `wanted`; panics after a minute, which is
/// far past any wait a working server takes.
pub async fn until(addr: SocketAddr, wanted: ServingStatus) {
    for _ in 0..600 {
        if status(addr).await == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{addr} never reported {wanted:?}");
}
