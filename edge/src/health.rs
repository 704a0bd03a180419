//! `GET /healthz`: the gRPC health of every upstream, asked in parallel.

use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// One pooled, lazily connected channel per upstream.
#[derive(Clone)]
pub struct Upstreams {
    channels: Vec<(&'static str, Channel)>,
}

impl Upstreams {
    pub fn new(upstreams: &[crate::config::Upstream]) -> Result<Self, tonic::transport::Error> {
        let channels = upstreams
            .iter()
            .map(|upstream| {
                let channel = tonic::transport::Endpoint::from_shared(upstream.url.clone())?
                    .connect_timeout(Duration::from_secs(2))
                    .connect_lazy();
                Ok((upstream.name, channel))
            })
            .collect::<Result<_, tonic::transport::Error>>()?;
        Ok(Self { channels })
    }

    pub async fn report(&self) -> (StatusCode, Json<Value>) {
        let checks = self.channels.iter().map(|(name, channel)| async move {
            let mut client = HealthClient::new(channel.clone());
            let mut request = tonic::Request::new(HealthCheckRequest::default());
            request.set_timeout(Duration::from_secs(2));
            let status = match client.check(request).await {
                Ok(reply) => ServingStatus::try_from(reply.into_inner().status)
                    .map_or("UNKNOWN", |status| status.as_str_name()),
                Err(_) => "UNREACHABLE",
            };
            (*name, status)
        });
        let results = futures_util::future::join_all(checks).await;
        let all_serving = results.iter().all(|(_, status)| *status == "SERVING");
        let upstreams: Map<String, Value> = results
            .into_iter()
            .map(|(name, status)| (name.to_owned(), json!(status)))
            .collect();
        let code = if all_serving {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let overall = if all_serving {
            "SERVING"
        } else {
            "NOT_SERVING"
        };
        (
            code,
            Json(json!({ "status": overall, "upstreams": upstreams })),
        )
    }
}
