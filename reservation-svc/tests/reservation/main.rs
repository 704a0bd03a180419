//! reservation-svc through a real tonic client against real servers (this
//! service and auth-svc) and PostgreSQL, each test on its own database.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod assignment;
mod combined;
mod database;
mod deposits;
mod events;
mod idempotency;
mod lifecycle;
mod metrics;
mod nats;
mod on_behalf;
mod ownership;
mod replicas;
mod reschedule;
mod schema;
mod stats;
mod sweeper;
mod tables;
mod validation;
mod waitlist;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use kursi_proto::access::v1::Role;
use kursi_proto::reservation::v1::reservation_service_client::ReservationServiceClient;
use kursi_proto::reservation::v1::*;
use reservation_svc::config::ReservationConfig;
pub use service_kit::values::timestamp as ts;
use testkit::{SignedIn, Spawned, TestAuth, TestDb, bearer, channel, service_config, spawn};
pub use testkit::{code, violated_fields};
use tonic::Status;
use tonic::transport::Channel;

pub type Client = ReservationServiceClient<Channel>;

/// auth-svc, reservation-svc on its own database, and a staff member and a
/// customer signed in.
pub struct Env {
    pub auth: TestAuth,
    pub db: TestDb,
    pub server: Spawned,
    pub config: ReservationConfig,
    pub staff: SignedIn,
    pub customer: SignedIn,
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with the default settings changed by `adjust`. The sweeper's
    /// own loop is kept out of the way; tests call it directly.
    pub async fn start_with(adjust: impl FnOnce(&mut ReservationConfig)) -> Self {
        let auth = TestAuth::start().await;
        let db = TestDb::new("reservation", &reservation_svc::MIGRATIONS).await;
        let mut config = ReservationConfig::with_defaults(service_config(db.url(), &auth.url()));
        config.sweeper_interval = std::time::Duration::from_secs(86_400);
        config.common.database_pool_size = 10;
        adjust(&mut config);
        let run = config.clone();
        let server = spawn(move |l, s| reservation_svc::app::run(run, l, s)).await;
        let staff = auth.sign_up(Role::Staff).await;
        let customer = auth.sign_up(Role::Customer).await;
        Self {
            auth,
            db,
            server,
            config,
            staff,
            customer,
        }
    }

    pub async fn client(&self) -> Client {
        ReservationServiceClient::new(channel(self.server.addr).await)
    }

    pub fn pool(&self) -> service_kit::db::Pool {
        service_kit::db::pool(self.db.url(), 4)
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

    /// A table, created by staff.
    pub async fn table(&self, label: &str, capacity: i32, area: &str) -> Table {
        self.client()
            .await
            .create_table(bearer(
                &self.staff.access_token,
                CreateTableRequest {
                    label: label.into(),
                    capacity,
                    area: area.into(),
                },
            ))
            .await
            .expect("create table")
            .into_inner()
            .table
            .expect("table")
    }

    /// A reservation booked by `who` for themself.
    pub async fn book(&self, who: &SignedIn, request: CreateReservationRequest) -> Reservation {
        self.client()
            .await
            .create_reservation(bearer(&who.access_token, request))
            .await
            .expect("create reservation")
            .into_inner()
            .reservation
            .expect("reservation")
    }
}

/// `days` from today on the restaurant's clock (Asia/Jakarta), at `hh:mm` there.
pub fn local(days: i64, hh: u32, mm: u32) -> DateTime<Utc> {
    let zone = chrono_tz::Asia::Jakarta;
    let date = Utc::now().with_timezone(&zone).date_naive() + Duration::days(days);
    let time = NaiveTime::from_hms_opt(hh, mm, 0).unwrap();
    zone.from_local_datetime(&date.and_time(time))
        .unwrap()
        .with_timezone(&Utc)
}

pub fn contact() -> ContactInfo {
    ContactInfo {
        name: "Siti Rahma".into(),
        phone: "+62 812-3456-789".into(),
        email: "siti@example.com".into(),
    }
}

/// A valid booking for `party` guests at `start`, off-peak unless `start` says otherwise.
pub fn booking(start: DateTime<Utc>, party: i32) -> CreateReservationRequest {
    CreateReservationRequest {
        customer_id: String::new(),
        contact_info: Some(contact()),
        party_size: Some(party),
        start_time: Some(ts(start)),
        duration_minutes: None,
        note: String::new(),
        idempotency_key: String::new(),
        customer_email: String::new(),
    }
}

/// The key's refusal: FAILED_PRECONDITION (HTTP 422 at the edge), naming the
/// key, with the ErrorInfo reason clients branch on.
pub fn assert_key_reused(status: &tonic::Status, field: &str, key: &str) {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains(key), "{}", status.message());
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, service_kit::error::IDEMPOTENCY_KEY_REUSED);
    assert_eq!(info.metadata.get(field).map(String::as_str), Some(key));
}
