//! `GET /healthz`: the gRPC health of every upstream, asked in parallel over
//! the same channels the edge forwards calls on.

use std::time::Duration;

use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value, json};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::gateway::json_response;
use crate::upstream::Upstreams;

pub async fn report(upstreams: &Upstreams) -> Response {
    let checks = upstreams.iter().map(|(name, channel)| async move {
        let mut client = HealthClient::new(channel.clone());
        let mut request = tonic::Request::new(HealthCheckRequest::default());
        request.set_timeout(Duration::from_secs(2));
        let status = match tokio::time::timeout(Duration::from_secs(3), client.check(request)).await
        {
            Ok(Ok(reply)) => ServingStatus::try_from(reply.into_inner().status)
                .map_or("UNKNOWN", |status| status.as_str_name()),
            _ => "UNREACHABLE",
        };
        (name, status)
    });
    let results = futures_util::future::join_all(checks).await;
    let all_serving = results.iter().all(|(_, status)| *status == "SERVING");
    let upstreams: Map<String, Value> = results
        .into_iter()
        .map(|(name, status)| (name.to_owned(), json!(status)))
        .collect();
    let (code, overall) = if all_serving {
        (StatusCode::OK, "SERVING")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "NOT_SERVING")
    };
    json_response(code, &json!({ "status": overall, "upstreams": upstreams }))
}
