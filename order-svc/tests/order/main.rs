//! order-svc through a real tonic client against real servers (this
//! service, catalog-svc and auth-svc on port 0, and a nats-server of its own
//! when a test needs events) and PostgreSQL, each service on its own
//! database, each test on its own databases.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod cancellations;
mod catalog;
mod concurrency;
mod door;
mod events;
mod expiry;
mod lifecycle;
mod metrics;
mod orders;
mod schema;
mod seat_map;
mod smoke;
mod validation;

use std::time::Duration;

use catalog_svc::config::CatalogConfig;
use chrono::{DateTime, Utc};
use kursi_proto::access::v1::Role;
use kursi_proto::catalog::v1 as catalog_pb;
use kursi_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use kursi_proto::order::v1::order_service_client::OrderServiceClient;
use kursi_proto::order::v1::*;
use order_svc::config::OrderConfig;
use service_kit::clock::{Clock, ClockHand};
use service_kit::outbox::relay::RelayConfig;
pub use service_kit::values::timestamp as ts;
use testkit::{
    SignedIn, Spawned, TestAuth, TestDb, TestNats, bearer, channel, service_config, spawn, spawn_on,
};
pub use testkit::{code, violated_fields};
use tonic::Status;
use tonic::transport::Channel;

pub type Client = OrderServiceClient<Channel>;

/// auth-svc, catalog-svc and order-svc, each on its own database; an admin,
/// a staff member and a customer signed in. With NATS, both services relay
/// their events to it and order-svc follows the catalog's.
pub struct Env {
    pub auth: TestAuth,
    pub catalog_db: TestDb,
    pub catalog: Spawned,
    /// What the catalog runs with, to start it again on the same port.
    pub catalog_config: CatalogConfig,
    pub db: TestDb,
    pub server: Spawned,
    pub config: OrderConfig,
    /// Moves order-svc's clock (and only its: the catalog and auth keep the
    /// machine's).
    pub hand: ClockHand,
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
        let run_catalog = catalog_config.clone();
        let catalog = spawn(move |l, s| catalog_svc::app::run(run_catalog, l, s)).await;

        let db = TestDb::new("order", &order_svc::MIGRATIONS).await;
        let mut config =
            OrderConfig::with_defaults(service_config(db.url(), &auth.url()), catalog.url());
        config.common.database_pool_size = 20;
        config.event_poll_interval = Duration::from_millis(50);
        // The sweeper's own loop is kept out of the way; tests sweep directly.
        config.sweep_interval = Duration::from_secs(86_400);
        config.relay = relay;
        let (clock, hand) = Clock::adjustable();
        config.common.clock = clock;
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
            catalog_config,
            db,
            server,
            config,
            hand,
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
    pub async fn showtime(&self, rows: i32, seats: i32) -> catalog_pb::Showtime {
        let mut client = self.catalog_client().await;
        let admin = &self.admin.access_token;
        let movie = client
            .create_movie(bearer(
                admin,
                catalog_pb::CreateMovieRequest {
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
                catalog_pb::CreateShowtimeRequest {
                    movie_id: movie.movie_id,
                    auditorium: auditorium.chars().take(50).collect(),
                    start_time: Some(ts(tomorrow())),
                    price: 50_000,
                    seat_layout: Some(catalog_pb::SeatLayout {
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
    pub async fn order(
        &self,
        who: &SignedIn,
        request: CreateOrderRequest,
    ) -> Result<Order, Status> {
        self.client()
            .await
            .create_order(bearer(&who.access_token, request))
            .await
            .map(|r| r.into_inner().order.unwrap())
    }

    /// Moves order-svc's clock forward to `at`.
    pub fn move_clock_to(&self, at: DateTime<Utc>) {
        let ahead = at - self.config.common.clock.now();
        assert!(
            ahead > chrono::Duration::zero(),
            "the clock only moves forward"
        );
        self.hand.advance(ahead);
    }

    /// Moves order-svc's clock to ten minutes before `showtime` starts: its
    /// doors are open (`DOORS_OPEN_MINUTES`, 30) and it still takes orders.
    pub fn to_the_showing(&self, showtime: &catalog_pb::Showtime) {
        self.move_clock_to(instant(&showtime.start_time) - chrono::Duration::minutes(10));
    }

    /// A new customer, signed in.
    pub async fn another_customer(&self) -> SignedIn {
        self.auth.sign_up(Role::Customer).await
    }

    pub async fn pay(
        &self,
        who: &SignedIn,
        order_id: &str,
        reference: &str,
    ) -> Result<Order, Status> {
        self.client()
            .await
            .pay_order(bearer(
                &who.access_token,
                PayOrderRequest {
                    order_id: order_id.into(),
                    payment_reference: reference.into(),
                },
            ))
            .await
            .map(|r| r.into_inner().order.unwrap())
    }

    pub async fn cancel(&self, who: &SignedIn, order_id: &str) -> Result<Order, Status> {
        self.cancel_because(who, order_id, "").await
    }

    /// CancelOrder with a `reason` (empty: none).
    pub async fn cancel_because(
        &self,
        who: &SignedIn,
        order_id: &str,
        reason: &str,
    ) -> Result<Order, Status> {
        self.client()
            .await
            .cancel_order(bearer(
                &who.access_token,
                CancelOrderRequest {
                    order_id: order_id.into(),
                    reason: reason.into(),
                },
            ))
            .await
            .map(|r| r.into_inner().order.unwrap())
    }

    pub async fn get(&self, who: &SignedIn, order_id: &str) -> Result<Order, Status> {
        self.client()
            .await
            .get_order(bearer(
                &who.access_token,
                GetOrderRequest {
                    order_id: order_id.into(),
                },
            ))
            .await
            .map(|r| r.into_inner().order.unwrap())
    }

    pub async fn list(
        &self,
        who: &SignedIn,
        request: ListOrdersRequest,
    ) -> Result<ListOrdersResponse, Status> {
        self.client()
            .await
            .list_orders(bearer(&who.access_token, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn seat_map(
        &self,
        who: &SignedIn,
        showtime_id: &str,
    ) -> Result<GetSeatMapResponse, Status> {
        self.client()
            .await
            .get_seat_map(bearer(
                &who.access_token,
                GetSeatMapRequest {
                    showtime_id: showtime_id.into(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn redeem(&self, who: &SignedIn, code: &str) -> Result<RedeemTicketResponse, Status> {
        self.client()
            .await
            .redeem_ticket(bearer(
                &who.access_token,
                RedeemTicketRequest { code: code.into() },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// A PENDING order of `quantity` seats by the customer, paid at once.
    pub async fn paid(
        &self,
        showtime: &catalog_pb::Showtime,
        quantity: i32,
        reference: &str,
    ) -> Order {
        let order = self
            .order(&self.customer, by_quantity(showtime, quantity))
            .await
            .unwrap();
        self.pay(&self.customer, &order.order_id, reference)
            .await
            .unwrap()
    }

    /// Cancels a showtime in the catalog, as its admin.
    pub async fn cancel_showtime(
        &self,
        showtime: &catalog_pb::Showtime,
        reason: &str,
    ) -> catalog_pb::Showtime {
        self.catalog_client()
            .await
            .cancel_showtime(bearer(
                &self.admin.access_token,
                catalog_pb::CancelShowtimeRequest {
                    showtime_id: showtime.showtime_id.clone(),
                    reason: reason.into(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .showtime
            .unwrap()
    }

    /// The first `n` order events from after `start`, read with WatchOrderEvents.
    pub async fn events(&self, start: i64, n: usize) -> Vec<OrderEvent> {
        let mut stream = self
            .client()
            .await
            .watch_order_events(bearer(
                &self.staff.access_token,
                WatchOrderEventsRequest {
                    start_position: start,
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let mut events = Vec::new();
        while events.len() < n {
            let next = tokio::time::timeout(Duration::from_secs(20), stream.message())
                .await
                .expect("the next event within 20 s")
                .unwrap()
                .expect("the stream stays open");
            events.push(next.event.unwrap());
        }
        events
    }

    /// Runs SQL on order-svc's database, behind the service's back.
    pub async fn exec(&self, sql: &str) {
        self.db.client().await.batch_execute(sql).await.unwrap();
    }

    /// Runs SQL on the catalog's database, behind its back.
    pub async fn catalog_exec(&self, sql: &str) {
        self.catalog_db
            .client()
            .await
            .batch_execute(sql)
            .await
            .unwrap();
    }

    /// The first column of every row, as text.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let rows = self.db.client().await.query(sql, &[]).await.unwrap();
        rows.iter().map(|row| row.get::<_, String>(0)).collect()
    }

    /// Rows of orders, order_seats, tickets and outbox: to prove nothing was written.
    pub async fn written(&self) -> [i64; 4] {
        [
            self.count("SELECT count(*) FROM orders").await,
            self.count("SELECT count(*) FROM order_seats").await,
            self.count("SELECT count(*) FROM tickets").await,
            self.count("SELECT count(*) FROM outbox").await,
        ]
    }

    /// A pool on order-svc's database, for the sweeper and the
    /// cancellations run by hand.
    pub fn pool(&self) -> service_kit::db::Pool {
        service_kit::db::pool(self.db.url(), 4)
    }

    /// Stops the catalog (the test goes on without it).
    pub async fn stop_catalog(&mut self) {
        self.catalog.stop_ref().await;
    }

    /// Starts the catalog again, on its port and database.
    pub async fn restart_catalog(&mut self) {
        self.catalog.stop_ref().await;
        let listener = tokio::net::TcpListener::bind(self.catalog.addr)
            .await
            .expect("the same port");
        let config = self.catalog_config.clone();
        self.catalog = spawn_on(listener, move |l, s| catalog_svc::app::run(config, l, s)).await;
    }

    /// Stops order-svc.
    pub async fn stop_server(&mut self) {
        self.server.stop_ref().await;
    }

    /// Starts order-svc again, on its port and database.
    pub async fn restart_server(&mut self) {
        self.server.stop_ref().await;
        let listener = tokio::net::TcpListener::bind(self.server.addr)
            .await
            .expect("the same port");
        let config = self.config.clone();
        self.server = spawn_on(listener, move |l, s| order_svc::app::run(config, l, s)).await;
    }
}

pub fn by_quantity(showtime: &catalog_pb::Showtime, quantity: i32) -> CreateOrderRequest {
    CreateOrderRequest {
        showtime_id: showtime.showtime_id.clone(),
        quantity,
        ..Default::default()
    }
}

pub fn by_seats(showtime: &catalog_pb::Showtime, seats: &[&str]) -> CreateOrderRequest {
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

/// Polls `check` until it answers `Some`, for at most 20 seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A contract timestamp as an instant.
pub fn instant(ts: &Option<prost_types::Timestamp>) -> DateTime<Utc> {
    let ts = ts.as_ref().expect("a timestamp");
    DateTime::from_timestamp(ts.seconds, ts.nanos as u32).unwrap()
}

/// The labels of a seat map's seats in `state`.
pub fn seats_in(map: &GetSeatMapResponse, state: SeatState) -> Vec<String> {
    map.seats
        .iter()
        .filter(|seat| seat.state == state as i32)
        .map(|seat| seat.label.clone())
        .collect()
}

/// The name of the event an envelope carries, as on its NATS subject.
pub fn kind(event: &OrderEvent) -> &'static str {
    use order_event::Event;
    match event.event.as_ref().expect("an event") {
        Event::Created(_) => "created",
        Event::Paid(_) => "paid",
        Event::Cancelled(_) => "cancelled",
        Event::Expired(_) => "expired",
        Event::Refunded(_) => "refunded",
        Event::TicketRedeemed(_) => "ticket_redeemed",
    }
}
