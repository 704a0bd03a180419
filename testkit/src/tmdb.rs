//! A fake TheMovieDB v3 on 127.0.0.1 port 0, so catalog-svc's client and
//! import are tested over real HTTP without the real service: its documented
//! JSON shapes, its bearer check and error bodies, and controls to make it
//! fail, rate-limit, stall or drop connections while a test runs.
//!
//! ```ignore
//! let fake = FakeTmdb::start(Catalog::generated(45)).await;
//! fake.fail(Route::popular(2), Fault::Status(503), Times::Next(1));
//! // TmdbSettings { base_url: fake.url(), api_token: Some(Secret::new(fake.token())), .. }
//! assert_eq!(fake.count(Route::popular(2)), 2);
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// TheMovieDB's page size for lists.
pub const PAGE_SIZE: usize = 20;
/// TheMovieDB refuses pages above this one.
pub const MAX_PAGE: i64 = 500;
/// Paths are served below this prefix, like TheMovieDB's `/3`.
const API_ROOT: &str = "/3";

/// A genre of `/genre/movie/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genre {
    pub id: i64,
    pub name: String,
}

/// A movie the fake knows; it is listed by `/movie/popular` in catalog order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeMovie {
    pub id: i64,
    pub title: String,
    pub overview: String,
    /// Sent as is: `"2024-05-01"`, or `""` as TheMovieDB does for unknown dates.
    pub release_date: String,
    pub genre_ids: Vec<i64>,
    pub poster_path: Option<String>,
    /// Minutes; `None` is sent as `null`.
    pub runtime: Option<i32>,
}

impl FakeMovie {
    /// A movie with a date, one genre (Action), a poster and a runtime.
    pub fn new(id: i64, title: &str) -> Self {
        Self {
            id,
            title: title.to_owned(),
            overview: format!("{title}: a story worth telling."),
            release_date: "2024-05-01".to_owned(),
            genre_ids: vec![28],
            poster_path: Some(format!("/poster{id}.jpg")),
            runtime: Some(100),
        }
    }
}

/// What the fake serves: genres and the popular list, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub genres: Vec<Genre>,
    pub movies: Vec<FakeMovie>,
}

impl Catalog {
    /// TheMovieDB's movie genres and `n` plausible movies, ids from 1001,
    /// every seventh without a poster; all have a runtime and known genres.
    pub fn generated(n: usize) -> Self {
        const FIRST: [&str; 8] = [
            "Silent", "Crimson", "Last", "Midnight", "Golden", "Broken", "Hidden", "Northern",
        ];
        const SECOND: [&str; 9] = [
            "Harbor", "Empire", "Signal", "Garden", "Horizon", "Verdict", "Orchard", "Frontier",
            "Echo",
        ];
        let genres = tmdb_genres();
        let movies = (0..n)
            .map(|i| {
                let id = 1001 + i as i64;
                let title = format!(
                    "The {} {}",
                    FIRST[i % FIRST.len()],
                    SECOND[i % SECOND.len()]
                );
                let genre_ids = (0..1 + i % 3)
                    .map(|k| genres[(i * 7 + k * 5) % genres.len()].id)
                    .collect();
                FakeMovie {
                    id,
                    overview: format!("When the {title} falls silent, one family must choose."),
                    title,
                    release_date: format!(
                        "{}-{:02}-{:02}",
                        1995 + i % 30,
                        1 + i % 12,
                        1 + (i * 3) % 28
                    ),
                    genre_ids,
                    poster_path: (i % 7 != 6).then(|| format!("/p{id:06}.jpg")),
                    runtime: Some(80 + (i as i32 * 37) % 90),
                }
            })
            .collect();
        Self { genres, movies }
    }
}

/// TheMovieDB's movie genres (`/genre/movie/list`, en-US).
pub fn tmdb_genres() -> Vec<Genre> {
    [
        (28, "Action"),
        (12, "Adventure"),
        (16, "Animation"),
        (35, "Comedy"),
        (80, "Crime"),
        (99, "Documentary"),
        (18, "Drama"),
        (10751, "Family"),
        (14, "Fantasy"),
        (36, "History"),
        (27, "Horror"),
        (10402, "Music"),
        (9648, "Mystery"),
        (10749, "Romance"),
        (878, "Science Fiction"),
        (10770, "TV Movie"),
        (53, "Thriller"),
        (10752, "War"),
        (37, "Western"),
    ]
    .into_iter()
    .map(|(id, name)| Genre {
        id,
        name: name.to_owned(),
    })
    .collect()
}

/// Which requests a fault, a delay or a count applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Any,
    /// `/genre/movie/list`.
    Genres,
    /// `/movie/popular`, one page or any.
    Popular(Option<u32>),
    /// `/movie/{id}`, one movie or any.
    Details(Option<i64>),
}

impl Route {
    pub fn popular(page: u32) -> Self {
        Route::Popular(Some(page))
    }

    pub fn details(id: i64) -> Self {
        Route::Details(Some(id))
    }

    fn matches(self, seen: &Seen) -> bool {
        match self {
            Route::Any => true,
            Route::Genres => seen.path == "/genre/movie/list",
            Route::Popular(page) => {
                seen.path == "/movie/popular" && page.is_none_or(|page| seen.page == Some(page))
            }
            Route::Details(id) => seen
                .movie_id()
                .is_some_and(|seen_id| id.is_none_or(|id| id == seen_id)),
        }
    }
}

/// How a request is spoiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status with TheMovieDB's error JSON for it (500, 502, 503, 404, ...).
    Status(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with valid JSON of 3 MiB.
    Oversized,
    /// The connection is closed without an answer.
    Disconnect,
    /// 429 with TheMovieDB's body; `Retry-After` as given, or absent.
    RateLimited { retry_after: Option<String> },
}

/// How often a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    Always,
    Next(u32),
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Below the API root: `/movie/popular`.
    pub path: String,
    /// The `page` parameter, 1 when absent, `None` when not a number.
    pub page: Option<u32>,
    pub query: String,
    pub authorization: Option<String>,
    pub accept: Option<String>,
}

impl Seen {
    fn movie_id(&self) -> Option<i64> {
        self.path.strip_prefix("/movie/")?.parse().ok()
    }

    /// The `language` query parameter.
    pub fn language(&self) -> Option<String> {
        form_pairs(&self.query).remove("language")
    }
}

#[derive(Debug)]
struct FaultRule {
    route: Route,
    fault: Fault,
    /// `None`: always.
    remaining: Option<u32>,
}

#[derive(Debug, Default)]
struct Controls {
    catalog: Catalog,
    faults: Vec<FaultRule>,
    delays: Vec<(Route, Duration)>,
    seen: Vec<Seen>,
}

#[derive(Debug)]
struct Shared {
    token: String,
    state: Mutex<Controls>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, Controls> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake TheMovieDB; stops on drop.
pub struct FakeTmdb {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTmdb {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeTmdb {
    /// Serves `catalog` with a fresh random token.
    pub async fn start(catalog: Catalog) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        Self::serve(
            listener,
            catalog,
            format!("fake-tmdb-{}", uuid::Uuid::new_v4().simple()),
        )
    }

    /// Serves `catalog` on `listener`, accepting `token`.
    pub fn serve(listener: TcpListener, catalog: Catalog, token: String) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            token,
            state: Mutex::new(Controls {
                catalog,
                ..Controls::default()
            }),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Self { addr, shared, task }
    }

    /// The API root to use as `TMDB_BASE_URL`: `http://127.0.0.1:PORT/3`.
    pub fn url(&self) -> String {
        format!("http://{}{API_ROOT}", self.addr)
    }

    /// The only bearer token accepted.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    pub fn set_catalog(&self, catalog: Catalog) {
        self.shared.state().catalog = catalog;
    }

    /// Spoils `route` `times` times; the earliest rule that matches applies.
    pub fn fail(&self, route: Route, fault: Fault, times: Times) {
        let remaining = match times {
            Times::Always => None,
            Times::Next(n) => Some(n),
        };
        self.shared.state().faults.push(FaultRule {
            route,
            fault,
            remaining,
        });
    }

    /// 429 with `Retry-After: secs`.
    pub fn rate_limit(&self, route: Route, retry_after_secs: u64, times: Times) {
        let retry_after = Some(retry_after_secs.to_string());
        self.fail(route, Fault::RateLimited { retry_after }, times);
    }

    /// The movie stays listed but `/movie/{id}` answers 404, as when it was
    /// removed between the list and the details.
    pub fn vanish(&self, id: i64) {
        self.fail(Route::details(id), Fault::Status(404), Times::Always);
    }

    /// Answers requests of `route` after `by`; with several matching, the longest wins.
    pub fn delay(&self, route: Route, by: Duration) {
        self.shared.state().delays.push((route, by));
    }

    /// Removes every fault and delay.
    pub fn heal(&self) {
        let mut state = self.shared.state();
        state.faults.clear();
        state.delays.clear();
    }

    /// How many requests of `route` arrived (including refused and spoiled ones).
    pub fn count(&self, route: Route) -> usize {
        self.shared
            .state()
            .seen
            .iter()
            .filter(|seen| route.matches(seen))
            .count()
    }

    /// Every request received, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.state().seen.clone()
    }

    /// The most requests that were being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Forgets the requests seen and the in-flight high-water mark.
    pub fn reset_counters(&self) {
        self.shared.state().seen.clear();
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let router = axum::Router::new()
        .route("/3/genre/movie/list", get(genre_list))
        .route("/3/movie/popular", get(popular))
        .route("/3/movie/{id}", get(details))
        .fallback(|| async { tmdb_error(StatusCode::NOT_FOUND) })
        .with_state(Arc::clone(&shared));
    // Dropped with this task, which aborts every connection.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        let kill = Arc::new(Notify::new());
        let service = {
            let (shared, router, kill) = (Arc::clone(&shared), router.clone(), Arc::clone(&kill));
            hyper::service::service_fn(move |request| {
                handle(
                    Arc::clone(&shared),
                    router.clone(),
                    Arc::clone(&kill),
                    request,
                )
            })
        };
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                () = kill.notified() => {}
            }
        });
    }
}

/// Counts in flight until dropped, also when the connection is dropped.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: &Arc<Shared>) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(Arc::clone(shared))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What every request goes through before the routes: recording, delay,
/// the token, and faults.
async fn handle(
    shared: Arc<Shared>,
    router: axum::Router,
    kill: Arc<Notify>,
    request: Request<Incoming>,
) -> Result<Response, Infallible> {
    let _in_flight = InFlight::enter(&shared);
    let seen = observe(&request);
    let delay = {
        let mut state = shared.state();
        state.seen.push(seen.clone());
        state
            .delays
            .iter()
            .filter(|(route, _)| route.matches(&seen))
            .map(|(_, by)| *by)
            .max()
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let expected = format!("Bearer {}", shared.token);
    if seen.authorization.as_deref() != Some(expected.as_str()) {
        return Ok(tmdb_error(StatusCode::UNAUTHORIZED));
    }
    let fault = {
        let mut state = shared.state();
        state
            .faults
            .iter_mut()
            .find(|rule| rule.remaining != Some(0) && rule.route.matches(&seen))
            .map(|rule| {
                if let Some(remaining) = rule.remaining.as_mut() {
                    *remaining -= 1;
                }
                rule.fault.clone()
            })
    };
    match fault {
        None => Ok(router
            .oneshot(request.map(Body::new))
            .await
            .unwrap_or_else(|never| match never {})),
        Some(Fault::Disconnect) => {
            kill.notify_one();
            let never: Infallible = std::future::pending().await;
            match never {}
        }
        Some(fault) => Ok(spoiled(fault)),
    }
}

fn observe(request: &Request<Incoming>) -> Seen {
    let header = |name: header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let path = request.uri().path();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let page = match form_pairs(&query).remove("page") {
        None => Some(1),
        Some(page) => page.parse().ok(),
    };
    Seen {
        path: path.strip_prefix(API_ROOT).unwrap_or(path).to_owned(),
        page,
        query,
        authorization: header(header::AUTHORIZATION),
        accept: header(header::ACCEPT),
    }
}

fn form_pairs(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn spoiled(fault: Fault) -> Response {
    match fault {
        Fault::Status(status) => {
            tmdb_error(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Fault::Garbage => json_body(r#"{"page":1,"results":[{"id":12,"title":"Trunc"#.to_owned()),
        Fault::Oversized => json_body(format!(
            r#"{{"page":1,"results":[],"total_pages":1,"total_results":0,"padding":"{}"}}"#,
            "x".repeat(3 * 1024 * 1024)
        )),
        Fault::RateLimited { retry_after } => {
            let mut response = tmdb_error(StatusCode::TOO_MANY_REQUESTS);
            if let Some(value) = retry_after.and_then(|value| value.parse().ok()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Fault::Disconnect => tmdb_error(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn json_body(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        body,
    )
        .into_response()
}

/// TheMovieDB's error body for `status`.
fn tmdb_error(status: StatusCode) -> Response {
    let (code, message) = match status.as_u16() {
        400 => (
            22,
            "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
        ),
        401 => (7, "Invalid API key: You must be granted a valid key."),
        404 => (34, "The resource you requested could not be found."),
        429 => (
            25,
            "Your request count (#) is over the allowed limit of (40).",
        ),
        502 => (43, "Couldn't connect to the backend server."),
        503 => (46, "The API is undergoing maintenance. Try again later."),
        504 => (
            24,
            "Your request to the backend server timed out. Try again.",
        ),
        _ => (11, "Internal error: Something went wrong, contact TMDB."),
    };
    let body = json!({"success": false, "status_code": code, "status_message": message});
    (status, Json(body)).into_response()
}

async fn genre_list(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let genres: Vec<Value> = shared
        .state()
        .catalog
        .genres
        .iter()
        .map(|genre| json!({"id": genre.id, "name": genre.name}))
        .collect();
    Json(json!({ "genres": genres }))
}

async fn popular(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page = match query.get("page").map(|page| page.parse::<i64>()) {
        None => 1,
        Some(Ok(page)) if (1..=MAX_PAGE).contains(&page) => page,
        Some(_) => return tmdb_error(StatusCode::BAD_REQUEST),
    };
    let state = shared.state();
    let movies = &state.catalog.movies;
    let results: Vec<Value> = movies
        .iter()
        .skip((page as usize - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(listed)
        .collect();
    Json(json!({
        "page": page,
        "results": results,
        "total_pages": movies.len().div_ceil(PAGE_SIZE),
        "total_results": movies.len(),
    }))
    .into_response()
}

async fn details(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let state = shared.state();
    let catalog = &state.catalog;
    let Some(movie) = id
        .parse::<i64>()
        .ok()
        .and_then(|id| catalog.movies.iter().find(|movie| movie.id == id))
    else {
        return tmdb_error(StatusCode::NOT_FOUND);
    };
    let genres: Vec<Value> = movie
        .genre_ids
        .iter()
        .filter_map(|id| catalog.genres.iter().find(|genre| genre.id == *id))
        .map(|genre| json!({"id": genre.id, "name": genre.name}))
        .collect();
    let mut body = listed(movie);
    if let Value::Object(fields) = &mut body {
        fields.remove("genre_ids");
        fields.extend([
            ("genres".to_owned(), Value::Array(genres)),
            ("runtime".to_owned(), json!(movie.runtime)),
            ("belongs_to_collection".to_owned(), Value::Null),
            ("budget".to_owned(), json!(0)),
            ("homepage".to_owned(), json!("")),
            ("imdb_id".to_owned(), json!(format!("tt{:07}", movie.id))),
            ("revenue".to_owned(), json!(0)),
            ("status".to_owned(), json!("Released")),
            ("tagline".to_owned(), json!("")),
        ]);
    }
    Json(body).into_response()
}

/// A movie as TheMovieDB lists it.
fn listed(movie: &FakeMovie) -> Value {
    json!({
        "adult": false,
        "backdrop_path": movie.poster_path.as_ref().map(|path| format!("/backdrop{path}")),
        "genre_ids": movie.genre_ids,
        "id": movie.id,
        "original_language": "en",
        "original_title": movie.title,
        "overview": movie.overview,
        "popularity": 1000.0 / (1.0 + (movie.id % 97) as f64),
        "poster_path": movie.poster_path,
        "release_date": movie.release_date,
        "title": movie.title,
        "video": false,
        "vote_average": 5.0 + (movie.id % 50) as f64 / 10.0,
        "vote_count": 100 + movie.id % 5000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_what_they_name() {
        let seen = |path: &str, page| Seen {
            path: path.to_owned(),
            page,
            query: String::new(),
            authorization: None,
            accept: None,
        };
        assert!(Route::popular(2).matches(&seen("/movie/popular", Some(2))));
        assert!(!Route::popular(2).matches(&seen("/movie/popular", Some(1))));
        assert!(Route::Popular(None).matches(&seen("/movie/popular", Some(7))));
        assert!(Route::details(550).matches(&seen("/movie/550", Some(1))));
        assert!(!Route::details(550).matches(&seen("/movie/551", Some(1))));
        assert!(!Route::Details(None).matches(&seen("/movie/popular", Some(1))));
        assert!(Route::Genres.matches(&seen("/genre/movie/list", Some(1))));
        assert!(!Route::Genres.matches(&seen("/movie/popular", Some(1))));
    }

    #[test]
    fn generated_movies_are_distinct_and_use_known_genres() {
        let catalog = Catalog::generated(45);
        assert_eq!(catalog.movies.len(), 45);
        let mut ids: Vec<i64> = catalog.movies.iter().map(|movie| movie.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 45);
        assert!(catalog.movies.iter().all(|movie| {
            movie
                .genre_ids
                .iter()
                .all(|id| catalog.genres.iter().any(|genre| genre.id == *id))
        }));
    }
}
