//! catalog-svc through a real tonic client against real servers (this
//! service, auth-svc, and a fake TheMovieDB on loopback) and PostgreSQL,
//! each test on its own database.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod access;
mod events;
mod import;
mod import_failures;
mod import_schedule;
mod metrics;
mod movie_lists;
mod movies;
mod operations;
mod operations_cancel;
mod schema;
mod showtime_lists;
mod showtimes;
mod smoke;
mod tmdb;
mod validation;

use catalog_svc::config::CatalogConfig;
use chrono::{DateTime, Duration, Utc};
use kursi_proto::access::v1::Role;
use kursi_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use kursi_proto::catalog::v1::*;
use kursi_proto::google::longrunning::operations_client::OperationsClient;
use kursi_proto::google::longrunning::{GetOperationRequest, Operation, operation};
use prost::Message;
use service_kit::config::Secret;
pub use service_kit::values::timestamp as ts;
use testkit::tmdb::{Catalog, FakeTmdb};
use testkit::{SignedIn, Spawned, TestAuth, TestDb, bearer, channel, service_config, spawn};
pub use testkit::{code, violated_fields};
use tonic::Status;
use tonic::transport::Channel;

pub type Client = CatalogServiceClient<Channel>;
pub type Operations = OperationsClient<Channel>;

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

    /// Runs SQL on the test's database, behind the service's back.
    pub async fn exec(&self, sql: &str) {
        self.db.client().await.batch_execute(sql).await.unwrap();
    }

    /// The first column of every row, as text.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let rows = self.db.client().await.query(sql, &[]).await.unwrap();
        rows.iter().map(|row| row.get::<_, String>(0)).collect()
    }

    /// Everything the catalog stores, as text: to prove that nothing changed.
    pub async fn dump(&self) -> Vec<String> {
        self.texts(
            "SELECT t::text FROM (
                 SELECT 'movie ' || m::text AS t, 1 AS k, id::text AS o FROM movies m
                 UNION ALL SELECT 'showtime ' || s::text, 2, id::text FROM showtimes s
                 UNION ALL SELECT 'event ' || e.id || ' ' || e.event_type, 3, lpad(e.id::text, 20, '0') FROM outbox e
                 UNION ALL SELECT 'import ' || i::text, 4, lpad(i.id::text, 20, '0') FROM movie_imports i
             ) rows ORDER BY k, o",
        )
        .await
    }

    pub async fn create_movie(&self, request: CreateMovieRequest) -> Result<Movie, Status> {
        self.client()
            .await
            .create_movie(bearer(&self.admin.access_token, request))
            .await
            .map(|r| r.into_inner().movie.expect("movie"))
    }

    pub async fn get_movie(&self, movie_id: &str) -> Result<Movie, Status> {
        self.client()
            .await
            .get_movie(bearer(
                &self.customer.access_token,
                GetMovieRequest {
                    movie_id: movie_id.into(),
                },
            ))
            .await
            .map(|r| r.into_inner().movie.expect("movie"))
    }

    pub async fn update_movie(&self, request: UpdateMovieRequest) -> Result<Movie, Status> {
        self.client()
            .await
            .update_movie(bearer(&self.admin.access_token, request))
            .await
            .map(|r| r.into_inner().movie.expect("movie"))
    }

    pub async fn list_movies(
        &self,
        request: ListMoviesRequest,
    ) -> Result<ListMoviesResponse, Status> {
        self.client()
            .await
            .list_movies(bearer(&self.customer.access_token, request))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn get_showtime(&self, showtime_id: &str) -> Result<Showtime, Status> {
        self.client()
            .await
            .get_showtime(bearer(
                &self.customer.access_token,
                GetShowtimeRequest {
                    showtime_id: showtime_id.into(),
                },
            ))
            .await
            .map(|r| r.into_inner().showtime.expect("showtime"))
    }

    pub async fn list_showtimes(
        &self,
        request: ListShowtimesRequest,
    ) -> Result<ListShowtimesResponse, Status> {
        self.client()
            .await
            .list_showtimes(bearer(&self.customer.access_token, request))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn cancel(&self, showtime_id: &str, reason: &str) -> Result<Showtime, Status> {
        self.client()
            .await
            .cancel_showtime(bearer(
                &self.admin.access_token,
                CancelShowtimeRequest {
                    showtime_id: showtime_id.into(),
                    reason: reason.into(),
                },
            ))
            .await
            .map(|r| r.into_inner().showtime.expect("showtime"))
    }

    pub async fn operations(&self) -> Operations {
        OperationsClient::new(channel(self.server.addr).await)
    }

    /// ImportMovies, by the admin: the operation it answers at once.
    pub async fn start_import(&self, page_count: i32) -> Result<Operation, Status> {
        self.client()
            .await
            .import_movies(bearer(
                &self.admin.access_token,
                ImportMoviesRequest { page_count },
            ))
            .await
            .map(|r| r.into_inner())
    }

    /// GetOperation, by the admin.
    pub async fn operation(&self, name: &str) -> Result<Operation, Status> {
        self.operations()
            .await
            .get_operation(bearer(
                &self.admin.access_token,
                GetOperationRequest { name: name.into() },
            ))
            .await
            .map(|r| r.into_inner())
    }

    /// Polls GetOperation until the operation is done (for at most 30 s).
    pub async fn done(&self, name: &str) -> Operation {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let operation = self.operation(name).await.expect("GetOperation");
            if operation.done {
                return operation;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never ended: {:?}",
                metadata(&operation)
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// An import as a caller sees it through to the end: ImportMovies, then
    /// GetOperation until done; its response, or its error (a refusal of
    /// ImportMovies itself, or the operation's error with its code and
    /// message).
    pub async fn import(&self, page_count: i32) -> Result<ImportMoviesResponse, Status> {
        let started = self.start_import(page_count).await?;
        outcome(&self.done(&started.name).await)
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

/// `days` from today on the cinema's clock (Asia/Jakarta), at `hh:mm` there.
pub fn jakarta(days: i64, hh: u32, mm: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    let zone = chrono_tz::Asia::Jakarta;
    let date = Utc::now().with_timezone(&zone).date_naive() + Duration::days(days);
    let time = chrono::NaiveTime::from_hms_opt(hh, mm, 0).unwrap();
    zone.from_local_datetime(&date.and_time(time))
        .unwrap()
        .with_timezone(&Utc)
}

/// The day of `at` on the cinema's clock, as "YYYY-MM-DD".
pub fn jakarta_day(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Jakarta)
        .format("%Y-%m-%d")
        .to_string()
}

/// A contract timestamp as an instant.
pub fn instant(ts: &Option<prost_types::Timestamp>) -> DateTime<Utc> {
    let ts = ts.as_ref().expect("a timestamp");
    DateTime::from_timestamp(ts.seconds, ts.nanos as u32).unwrap()
}

/// Tomorrow at the same time, to the second: in the future, whole seconds.
pub fn tomorrow() -> DateTime<Utc> {
    let now = Utc::now() + Duration::days(1);
    DateTime::from_timestamp(now.timestamp(), 0).unwrap()
}

/// An operation's ImportMoviesMetadata.
pub fn metadata(operation: &Operation) -> ImportMoviesMetadata {
    let any = operation.metadata.as_ref().expect("metadata");
    assert_eq!(
        any.type_url,
        "type.googleapis.com/kursi.catalog.v1.ImportMoviesMetadata"
    );
    ImportMoviesMetadata::decode(any.value.as_slice()).expect("ImportMoviesMetadata")
}

/// A done operation's result: its ImportMoviesResponse, or its error as a
/// Status.
pub fn outcome(operation: &Operation) -> Result<ImportMoviesResponse, Status> {
    match operation
        .result
        .as_ref()
        .expect("a done operation has a result")
    {
        operation::Result::Response(any) => {
            assert_eq!(
                any.type_url,
                "type.googleapis.com/kursi.catalog.v1.ImportMoviesResponse"
            );
            Ok(ImportMoviesResponse::decode(any.value.as_slice()).expect("ImportMoviesResponse"))
        }
        operation::Result::Error(status) => Err(Status::new(
            tonic::Code::from_i32(status.code),
            status.message.clone(),
        )),
    }
}

/// Polls `check` until it answers `Some`, for at most 20 seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
