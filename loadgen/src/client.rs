//! One request of a scenario: over gRPC with the generated clients, or over
//! REST through the edge with hyper-util's pooled HTTP client. Either way
//! the answer is reduced to success or an error label to count.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat};
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kursi_proto::auth::v1::LoginRequest;
use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use kursi_proto::order::v1::order_service_client::OrderServiceClient;
use kursi_proto::reservation::v1::reservation_service_client::ReservationServiceClient;
use kursi_proto::reservation::v1::{GetReservationRequest, ListReservationsRequest};
use serde_json::json;
use tonic::Code;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::transport::Channel;

use crate::fixture::{Fixture, Setup, User, booking, connect};
use crate::scenario::{Scenario, pick, start_time};

/// Reservations per page in list-reservations: the services' default.
const LIST_LIMIT: i32 = 10;

/// What every request of a run shares.
#[derive(Debug)]
pub struct Load {
    pub scenario: Scenario,
    pub fixture: Fixture,
}

impl Load {
    /// The user of request `ticket`, with its index, and the reservation it
    /// reads (if the scenario reads one).
    pub(crate) fn choose(&self, ticket: u64) -> Result<(usize, &User, &str), String> {
        let users = &self.fixture.users;
        let index = pick(users.len(), ticket);
        let user = users.get(index).ok_or("NO_PREPARED_USER")?;
        let round = ticket / users.len().max(1) as u64;
        let id = match self.scenario {
            Scenario::GetReservation => user
                .reservation_ids
                .get(pick(user.reservation_ids.len(), round))
                .ok_or("NO_PREPARED_RESERVATION")?,
            _ => "",
        };
        Ok((index, user, id))
    }
}

/// A client for one transport; cloned into every worker.
#[derive(Clone)]
pub enum Client {
    Grpc(GrpcClient),
    Rest(RestClient),
}

impl Client {
    pub fn transport(&self) -> &'static str {
        match self {
            Self::Grpc(_) => "grpc",
            Self::Rest(_) => "rest",
        }
    }

    /// Sends request `ticket` of the run, from worker `worker`: `Err`
    /// carries the label it is counted under.
    pub async fn call(&mut self, load: &Load, ticket: u64, worker: usize) -> Result<(), String> {
        if load.scenario == Scenario::CreateOrder {
            return self.order_and_cancel(load, ticket, worker).await;
        }
        match self {
            Self::Grpc(client) => client.call(load, ticket).await,
            Self::Rest(client) => client.call(load, ticket).await,
        }
    }
}

/// One channel per service, as the edge has: HTTP/2 streams multiplexed on
/// one connection each.
#[derive(Clone)]
pub struct GrpcClient {
    auth: AuthServiceClient<Channel>,
    reservation: ReservationServiceClient<Channel>,
    pub(crate) orders: OrderServiceClient<Channel>,
    /// `Bearer <token>` per user, parsed once rather than per request.
    pub(crate) bearers: Arc<Vec<AsciiMetadataValue>>,
}

impl GrpcClient {
    /// Connects now to the services the scenario calls (so a wrong address
    /// fails before the run), lazily to the others.
    pub async fn connect(setup: &Setup, load: &Load) -> anyhow::Result<Self> {
        let bearers = load
            .fixture
            .users
            .iter()
            .map(|user| MetadataValue::try_from(format!("Bearer {}", user.access_token)))
            .collect::<Result<Vec<_>, _>>()?;
        let channel = async |url: &str, used: bool| -> anyhow::Result<Channel> {
            if used {
                connect(url).await
            } else {
                Ok(Channel::from_shared(url.to_owned())?.connect_lazy())
            }
        };
        let scenario = load.scenario;
        Ok(Self {
            auth: AuthServiceClient::new(channel(&setup.auth_url, true).await?),
            reservation: ReservationServiceClient::new(
                channel(&setup.reservation_url, scenario.needs_reservations()).await?,
            ),
            orders: OrderServiceClient::new(
                channel(&setup.order_url, scenario.orders_tickets()).await?,
            ),
            bearers: Arc::new(bearers),
        })
    }

    async fn call(&mut self, load: &Load, ticket: u64) -> Result<(), String> {
        let (index, user, id) = load.choose(ticket)?;
        let bearer = self.bearers.get(index);
        let answer = match load.scenario {
            Scenario::Login => {
                let request = tonic::Request::new(LoginRequest {
                    username: user.email.clone(),
                    password: user.password.clone(),
                    grant_type: String::new(),
                });
                self.auth.login(request).await.map(drop)
            }
            Scenario::GetReservation => {
                let request = signed(
                    bearer,
                    GetReservationRequest {
                        reservation_id: id.to_owned(),
                    },
                );
                self.reservation.get_reservation(request).await.map(drop)
            }
            Scenario::ListReservations => {
                let request = signed(
                    bearer,
                    ListReservationsRequest {
                        limit: LIST_LIMIT,
                        ..Default::default()
                    },
                );
                self.reservation.list_reservations(request).await.map(drop)
            }
            Scenario::CreateReservation => {
                let request = signed(bearer, booking(&user.email, load.fixture.now_unix, ticket));
                self.reservation.create_reservation(request).await.map(drop)
            }
            Scenario::CreateOrder | Scenario::SeatRush => return Err(NOT_HERE.into()),
        };
        answer.map_err(|status| code_name(status.code()).to_owned())
    }
}

/// The label of a scenario asked of a path that does not run it: seat-rush
/// has a driver of its own (`rush`), create-order goes through `orders`.
const NOT_HERE: &str = "SCENARIO_NOT_RUN_HERE";

/// A request with the user's `authorization` metadata.
pub(crate) fn signed<T>(bearer: Option<&AsciiMetadataValue>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = bearer {
        request
            .metadata_mut()
            .insert("authorization", value.clone());
    }
    request
}

/// HTTP/1.1 keeps one connection per worker in the pool (HTTP/2 shares one).
#[derive(Clone)]
pub struct RestClient {
    http: HttpClient<HttpConnector, Full<Bytes>>,
    base: Arc<str>,
    pub(crate) bearers: Arc<Vec<HeaderValue>>,
}

/// An answer through the edge: its HTTP status and its whole body.
pub(crate) type Answer = (http::StatusCode, Bytes);

impl RestClient {
    pub fn new(edge_url: &str, http2: bool, pool: usize, load: &Load) -> anyhow::Result<Self> {
        let bearers = load
            .fixture
            .users
            .iter()
            .map(|user| HeaderValue::try_from(format!("Bearer {}", user.access_token)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut client = Self::bare(edge_url, http2, pool);
        client.bearers = Arc::new(bearers);
        Ok(client)
    }

    /// A client with no prepared users' tokens: its caller sends its own.
    pub(crate) fn bare(edge_url: &str, http2: bool, pool: usize) -> Self {
        let mut connector = HttpConnector::new();
        // Small requests and answers: do not wait to fill a segment.
        connector.set_nodelay(true);
        let http = HttpClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(pool)
            .http2_only(http2)
            .build(connector);
        Self {
            http,
            base: edge_url.into(),
            bearers: Arc::new(Vec::new()),
        }
    }

    async fn call(&mut self, load: &Load, ticket: u64) -> Result<(), String> {
        let (index, user, id) = load.choose(ticket)?;
        let (method, path, body) = match load.scenario {
            Scenario::Login => (
                Method::POST,
                "/api/login".to_owned(),
                Some(json!({"username": user.email, "password": user.password})),
            ),
            Scenario::GetReservation => (Method::GET, format!("/api/reservations/{id}"), None),
            Scenario::ListReservations => (
                Method::GET,
                format!("/api/reservations?limit={LIST_LIMIT}"),
                None,
            ),
            Scenario::CreateReservation => (
                Method::POST,
                "/api/reservations".to_owned(),
                Some(rest_booking(&user.email, load.fixture.now_unix, ticket)),
            ),
            Scenario::CreateOrder | Scenario::SeatRush => return Err(NOT_HERE.into()),
        };
        let bearer = if load.scenario.signs_in() {
            self.bearers.get(index)
        } else {
            None
        };
        let (status, _) = self.send(method, &path, body, bearer).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }

    /// One request through the edge, its answer read whole (the transfer is
    /// part of the latency); `Err` is a transport failure's label.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        bearer: Option<&HeaderValue>,
    ) -> Result<Answer, String> {
        self.send_keyed(method, path, body, bearer, None).await
    }

    /// [`send`](Self::send), with an `Idempotency-Key` header when `key` is given.
    pub(crate) async fn send_keyed(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        bearer: Option<&HeaderValue>,
        key: Option<&str>,
    ) -> Result<Answer, String> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(value) = bearer {
            request = request.header(AUTHORIZATION, value.clone());
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let body = match body {
            Some(value) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(value.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).map_err(|_| "BAD_REQUEST_BUILT")?;
        let response = self.http.request(request).await.map_err(|err| {
            if err.is_connect() {
                "CONNECT_FAILED".to_owned()
            } else {
                "HTTP_TRANSPORT".to_owned()
            }
        })?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| "HTTP_BODY".to_owned())?
            .to_bytes();
        Ok((status, body))
    }
}

/// The body of `POST /api/reservations`, the same booking as over gRPC.
pub(crate) fn rest_booking(email: &str, now_unix: i64, ticket: u64) -> serde_json::Value {
    let start = DateTime::from_timestamp(start_time(now_unix, ticket), 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default();
    json!({
        "contact_info": {"name": "Loadgen Guest", "phone": "08123456789", "email": email},
        "party_size": 2,
        "start_time": start,
    })
}

/// The canonical name of a gRPC status code, as grpcurl and the specs write it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_canonical_names() {
        assert_eq!(code_name(Code::Unauthenticated), "UNAUTHENTICATED");
        assert_eq!(code_name(Code::from_i32(14)), "UNAVAILABLE");
        assert_eq!(code_name(Code::from_i32(99)), "UNKNOWN");
    }

    #[test]
    fn requests_go_round_robin_over_users_then_reservations() {
        let user = |n: usize| User {
            email: format!("u{n}@example.com"),
            password: "p".into(),
            access_token: String::new(),
            reservation_ids: vec![format!("{n}a"), format!("{n}b")],
        };
        let load = Load {
            scenario: Scenario::GetReservation,
            fixture: Fixture {
                users: vec![user(0), user(1)],
                now_unix: 0,
                cinema: None,
            },
        };
        let picked: Vec<(usize, String)> = (0..5)
            .map(|t| {
                let (i, _, id) = load.choose(t).unwrap();
                (i, id.to_owned())
            })
            .collect();
        let want = [(0, "0a"), (1, "1a"), (0, "0b"), (1, "1b"), (0, "0a")];
        let want: Vec<(usize, String)> = want.iter().map(|(i, s)| (*i, (*s).to_owned())).collect();
        assert_eq!(picked, want);

        let empty = Load {
            scenario: Scenario::GetReservation,
            fixture: Fixture {
                users: vec![],
                now_unix: 0,
                cinema: None,
            },
        };
        assert_eq!(empty.choose(0).unwrap_err(), "NO_PREPARED_USER");
    }

    #[test]
    fn the_rest_booking_is_rfc3339_in_utc() {
        let body = rest_booking("a@example.com", 0, 0);
        assert_eq!(body["start_time"], "1970-01-02T05:00:00Z");
        assert_eq!(body["contact_info"]["email"], "a@example.com");
    }
}
