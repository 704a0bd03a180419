//! What order-svc asks catalog-svc: one showtime, over gRPC, with a
//! deadline, on the caller's behalf (their token is forwarded, so the
//! catalog applies its own rules to them).

use std::time::Duration;

use chrono::{DateTime, Utc};
use kursi_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use kursi_proto::catalog::v1::{GetShowtimeRequest, Showtime, ShowtimeStatus};
use service_kit::ServiceError;
use service_kit::clock::Clock;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;

use crate::db::showtimes::{self, ShowtimeRow};

/// A showtime as the catalog tells it.
#[derive(Debug, Clone)]
pub struct CatalogShowtime {
    pub copy: ShowtimeRow,
    pub price: i64,
}

#[derive(Clone)]
pub struct Catalog {
    client: CatalogServiceClient<Channel>,
    timeout: Duration,
    /// Stamps the copies it makes.
    clock: Clock,
}

impl Catalog {
    /// Connects lazily: order-svc starts, and answers UNAVAILABLE for new
    /// orders, while catalog-svc is down.
    pub fn new(url: &str, timeout: Duration, clock: Clock) -> Result<Self, String> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|err| format!("CATALOG_GRPC_URL: {err}"))?
            .connect_timeout(timeout)
            .timeout(timeout)
            .tcp_nodelay(true);
        Ok(Self {
            client: CatalogServiceClient::new(endpoint.connect_lazy()),
            timeout,
            clock,
        })
    }

    pub async fn showtime(&self, id: Uuid, bearer: &str) -> Result<CatalogShowtime, ServiceError> {
        let mut request = tonic::Request::new(GetShowtimeRequest {
            showtime_id: id.to_string(),
        });
        request.set_timeout(self.timeout);
        let value = format!("Bearer {bearer}")
            .parse()
            .map_err(|_| ServiceError::internal("a verified token that is not a header value"))?;
        request.metadata_mut().insert("authorization", value);
        // The order's trace goes on into the catalog.
        service_kit::telemetry::inject_metadata(request.metadata_mut());
        let answer =
            tokio::time::timeout(self.timeout, self.client.clone().get_showtime(request)).await;
        let showtime = match answer {
            Err(_) => {
                return Err(unavailable(&format!(
                    "no answer within {} ms",
                    self.timeout.as_millis()
                )));
            }
            Ok(Err(status)) => return Err(refused(id, &status)),
            Ok(Ok(reply)) => reply.into_inner().showtime,
        };
        showtime
            .as_ref()
            .and_then(|s| copy_of(id, s, self.clock.now()))
            .ok_or_else(|| unavailable("its answer was not a complete showtime"))
    }
}

fn unavailable(why: &str) -> ServiceError {
    ServiceError::Unavailable(format!(
        "the catalog is unavailable ({why}); nothing was ordered, try again"
    ))
}

fn refused(id: Uuid, status: &tonic::Status) -> ServiceError {
    match status.code() {
        Code::NotFound => ServiceError::NotFound(format!("no showtime with id {id}")),
        Code::InvalidArgument => ServiceError::invalid("showtime_id", status.message()),
        code => unavailable(&format!("{code:?}: {}", status.message())),
    }
}

fn time(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(|ts| DateTime::from_timestamp(ts.seconds, ts.nanos.try_into().ok()?))
}

/// The parts of the catalog's Showtime an order copies, as known `now`.
pub fn copy_of(id: Uuid, s: &Showtime, now: DateTime<Utc>) -> Option<CatalogShowtime> {
    let layout = s.seat_layout.as_ref()?;
    let status = match ShowtimeStatus::try_from(s.status).ok()? {
        ShowtimeStatus::Scheduled => showtimes::SCHEDULED,
        ShowtimeStatus::Cancelled => showtimes::CANCELLED,
        ShowtimeStatus::Unspecified => return None,
    };
    Some(CatalogShowtime {
        copy: ShowtimeRow {
            id,
            movie_id: s.movie_id.parse().ok()?,
            movie_title: s.movie_title.clone(),
            auditorium: s.auditorium.clone(),
            start_time: time(s.start_time.as_ref())?,
            end_time: time(s.end_time.as_ref())?,
            seat_rows: layout.rows,
            seats_per_row: layout.seats_per_row,
            status: status.into(),
            cancel_reason: Some(s.cancel_reason.clone()).filter(|r| !r.is_empty()),
            updated_at: now,
        },
        price: s.price,
    })
}
