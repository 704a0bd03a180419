//! order-svc through a real tonic client against real servers (this
//! service, catalog-svc and auth-svc on port 0, and a nats-server of its own
//! when a test needs events) and PostgreSQL, each service on its own
//! database, each test on its own databases.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod smoke;

use std::time::Duration;

use catalog_svc::config::CatalogConfig;
use chrono::{DateTime, Utc};
use kursi_proto::access::v1::Role;
use kursi_proto::catalog::v1 as catalog;
use kursi_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use kursi_proto::order::v1::order_service_client::OrderServiceClient;
use kursi_proto::order::v1::*;
use order_svc::config::OrderConfig;
use service_kit::outbox::relay::RelayConfig;
use testkit::{SignedIn, Spawned, TestAuth, TestDb, TestNats, bearer, channel, service_config, spawn};
use tonic::transport::Channel;
use tonic::{Code, Status};

pub type Client = OrderServiceClient<Channel>;

/// auth-svc, catalog-svc and order-svc, each on its own database; an admin,
/// a staff member and a customer signed in. With NATS, both services relay
/// their events to it and order-svc follows the catalog's.
pub struct Env {
    pub auth: TestAuth,
    pub catalog_db: TestDb,
    pub catalog: Spawned,
    pub db: TestDb,
    pub server: Spawned,
    pub config: OrderConfig,
    pub nats: Option<TestNats>,
    pub admin: SignedIn,
    pub staff: SignedIn,
    pub customer: SignedIn,
}

pub struct Options {
    pub nats: bool,
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(Options { nats: false }, |_| {}).await
    }

    pub async fn with_nats() -> Self {
        Self::start_with(Options { nats: true }, |_| {}).await
    }

    pub async fn start_with(options: Options, adjust: impl FnOnce(&mut OrderConfig)) -> Self {
        let auth = TestAuth::start().await;
        let nats = if options.nats {
            Some(TestNats::start().await)
        } else {
            None
        };
        let relay = nats.as_ref().map(|nats| RelayConfig {
            lease: Duration::from_secs(3),
            ..RelayConfig::new(nats.url())
        });
        let catalog_db = TestDb::new("catalog", &catalog_svc::MIGRATIONS).await;
        let mut catalog_config =
            CatalogConfig::with_defaults(service_config(catalog_db.url(), &auth.url()));
        catalog_config.relay = relay.clone();
        catalog_config.event_poll_interval = Duration::from_millis(50);
        let catalog = spawn(move |l, s| catalog_svc::app::run(catalog_config, l, s)).await;

        let db = TestDb::new("order", &order_svc::MIGRATIONS).await;
        let mut config = OrderConfig::with_defaults(service_config(db.url(), &auth.url()), catalog.url());
        config.common.database_pool_size = 20;
        config.event_poll_interval = Duration::from_millis(50);
        // The sweeper's own loop is kept out of the way; tests sweep directly.
        config.sweep_interval = Duration::from_secs(86_400);
        config.relay = relay;
        adjust(&mut config);
        let run = config.clone();
        let server = spawn(move |l, s| order_svc::app::run(run, l, s)).await;
        let admin = auth.admin().await;
        let staff = auth.sign_up(Role::Staff).await;
        let customer = auth.sign_up(Role::Customer).await;
        Self {
            auth,
            catalog_db,
            catalog,
            db,
            server,
            config,
            nats,
            admin,
            staff,
            customer,
        }
    }

    pub async fn client(&self) -> Client {
        OrderServiceClient::new(channel(self.server.addr).await)
    }

    pub async fn catalog_client(&self) -> CatalogServiceClient<Channel> {
        CatalogServiceClient::new(channel(self.catalog.addr).await)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.db
            .client()
            .await
            .query_one(sql, &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    }

    /// A movie and a showtime of it tomorrow, `rows` × `seats` seats, at
    /// 50 000 rupiah a ticket, made by the admin in the catalog.
    pub async fn showtime(&self, rows: i32, seats: i32) -> catalog::Showtime {
        let mut client = self.catalog_client().await;
        let admin = &self.admin.access_token;
        let movie = client
            .create_movie(bearer(
                admin,
                catalog::CreateMovieRequest {
                    title: "Pengabdi Setan 2".into(),
                    genres: vec!["Horror".into()],
                    duration_minutes: 119,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .movie
            .unwrap();
        let auditorium = format!("Studio {}", uuid::Uuid::new_v4().simple());
        client
            .create_showtime(bearer(
                admin,
                catalog::CreateShowtimeRequest {
                    movie_id: movie.movie_id,
                    auditorium: auditorium.chars().take(50).collect(),
                    start_time: Some(ts(tomorrow())),
                    price: 50_000,
                    seat_layout: Some(catalog::SeatLayout {
                        rows,
                        seats_per_row: seats,
                    }),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .showtime
            .unwrap()
    }

    /// An order by `who` for themself.
    pub async fn order(&self, who: &SignedIn, request: CreateOrderRequest) -> Result<Order, Status> {
        self.client()
            .await
            .create_order(bearer(&who.access_token, request))
            .await
            .map(|r| r.into_inner().order.unwrap())
    }
}

pub fn by_quantity(showtime: &catalog::Showtime, quantity: i32) -> CreateOrderRequest {
    CreateOrderRequest {
        showtime_id: showtime.showtime_id.clone(),
        quantity,
        ..Default::default()
    }
}

pub fn by_seats(showtime: &catalog::Showtime, seats: &[&str]) -> CreateOrderRequest {
    CreateOrderRequest {
        showtime_id: showtime.showtime_id.clone(),
        seats: seats.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    }
}

pub fn tomorrow() -> DateTime<Utc> {
    let now = Utc::now() + chrono::Duration::days(1);
    DateTime::from_timestamp(now.timestamp(), 0).unwrap()
}

pub fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// The fields named by the google.rpc.BadRequest details of an INVALID_ARGUMENT.
pub fn violated_fields(status: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

pub fn code<T>(result: &Result<T, Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}
