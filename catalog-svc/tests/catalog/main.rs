//! catalog-svc through a real tonic client against real servers (this
//! service, auth-svc, and a fake TheMovieDB on loopback) and PostgreSQL,
//! each test on its own database.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod smoke;
mod tmdb;

use catalog_svc::config::CatalogConfig;
use chrono::{DateTime, Duration, Utc};
use kursi_proto::access::v1::Role;
use kursi_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use kursi_proto::catalog::v1::*;
use service_kit::config::Secret;
use testkit::tmdb::{Catalog, FakeTmdb};
use testkit::{SignedIn, Spawned, TestAuth, TestDb, bearer, channel, service_config, spawn};
use tonic::transport::Channel;
use tonic::{Code, Status};

pub type Client = CatalogServiceClient<Channel>;

/// auth-svc, a fake TheMovieDB, catalog-svc on its own database, and an
/// admin, a staff member and a customer signed in.
pub struct Env {
    pub auth: TestAuth,
    pub tmdb: FakeTmdb,
    pub db: TestDb,
    pub server: Spawned,
    pub config: CatalogConfig,
    pub admin: SignedIn,
    pub staff: SignedIn,
    pub customer: SignedIn,
}

impl Env {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with the test settings changed by `adjust`: TheMovieDB is the
    /// fake, with its token, and short timeouts.
    pub async fn start_with(adjust: impl FnOnce(&mut CatalogConfig)) -> Self {
        let auth = TestAuth::start().await;
        let tmdb = FakeTmdb::start(Catalog::generated(45)).await;
        let db = TestDb::new("catalog", &catalog_svc::MIGRATIONS).await;
        let mut config = CatalogConfig::with_defaults(service_config(db.url(), &auth.url()));
        config.tmdb.base_url = tmdb.url();
        config.tmdb.api_token = Some(Secret::new(tmdb.token()));
        config.tmdb.image_base_url = "https://images.test/t/p/w500".into();
        config.tmdb.timeout = std::time::Duration::from_secs(5);
        config.event_poll_interval = std::time::Duration::from_millis(100);
        config.common.database_pool_size = 20;
        adjust(&mut config);
        let run = config.clone();
        let server = spawn(move |l, s| catalog_svc::app::run(run, l, s)).await;
        let admin = auth.admin().await;
        let staff = auth.sign_up(Role::Staff).await;
        let customer = auth.sign_up(Role::Customer).await;
        Self {
            auth,
            tmdb,
            db,
            server,
            config,
            admin,
            staff,
            customer,
        }
    }

    pub async fn client(&self) -> Client {
        CatalogServiceClient::new(channel(self.server.addr).await)
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

    /// A movie, created by the admin.
    pub async fn movie(&self, title: &str, minutes: i32) -> Movie {
        self.client()
            .await
            .create_movie(bearer(&self.admin.access_token, new_movie(title, minutes)))
            .await
            .expect("create movie")
            .into_inner()
            .movie
            .expect("movie")
    }

    /// A showtime of `movie` in `auditorium` at `start`, created by the admin.
    pub async fn showtime(
        &self,
        movie: &Movie,
        auditorium: &str,
        start: DateTime<Utc>,
    ) -> Result<Showtime, Status> {
        self.client()
            .await
            .create_showtime(bearer(
                &self.admin.access_token,
                new_showtime(&movie.movie_id, auditorium, start),
            ))
            .await
            .map(|r| r.into_inner().showtime.expect("showtime"))
    }
}

pub fn new_movie(title: &str, minutes: i32) -> CreateMovieRequest {
    CreateMovieRequest {
        title: title.into(),
        genres: vec!["Drama".into()],
        duration_minutes: minutes,
        overview: String::new(),
        release_date: String::new(),
        poster_url: String::new(),
        tmdb_id: 0,
    }
}

pub fn new_showtime(
    movie_id: &str,
    auditorium: &str,
    start: DateTime<Utc>,
) -> CreateShowtimeRequest {
    CreateShowtimeRequest {
        movie_id: movie_id.into(),
        auditorium: auditorium.into(),
        start_time: Some(ts(start)),
        price: 50_000,
        seat_layout: Some(SeatLayout {
            rows: 5,
            seats_per_row: 8,
        }),
    }
}

/// Tomorrow at the same time, to the second: in the future, whole seconds.
pub fn tomorrow() -> DateTime<Utc> {
    let now = Utc::now() + Duration::days(1);
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
