//! The TheMovieDB client against the fake TheMovieDB on loopback: what an
//! import gets, and how it fails, retries and stays polite.

use std::time::{Duration, Instant};

use catalog_svc::tmdb::{TmdbClient, TmdbError, TmdbMovie, TmdbSettings};
use chrono::NaiveDate;
use service_kit::ServiceError;
use service_kit::config::Secret;
use testkit::tmdb::{Catalog, FakeMovie, FakeTmdb, Fault, Route, Times};

const IMAGES: &str = "https://images.test/t/p/w500";

fn settings(fake: &FakeTmdb) -> TmdbSettings {
    TmdbSettings {
        base_url: fake.url(),
        api_token: Some(Secret::new(fake.token())),
        image_base_url: IMAGES.to_owned(),
        timeout: Duration::from_secs(5),
        ..TmdbSettings::with_defaults()
    }
}

async fn fetch(settings: &TmdbSettings, pages: u32) -> Result<Vec<TmdbMovie>, TmdbError> {
    TmdbClient::new(settings)
        .expect("client")
        .fetch_popular(pages)
        .await
}

/// The request and reason of an `Unavailable`, or a panic naming what came instead.
fn unavailable(result: Result<Vec<TmdbMovie>, TmdbError>) -> (String, String) {
    match result {
        Err(TmdbError::Unavailable { request, reason }) => (request, reason),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn ids(movies: &[TmdbMovie]) -> Vec<i64> {
    movies.iter().map(|movie| movie.tmdb_id).collect()
}

#[tokio::test]
async fn two_pages_give_forty_movies_with_genres_runtimes_and_posters() {
    let catalog = Catalog::generated(45);
    let fake = FakeTmdb::start(catalog.clone()).await;

    let movies = fetch(&settings(&fake), 2).await.expect("fetch");

    assert_eq!(movies.len(), 40);
    for (movie, expected) in movies.iter().zip(&catalog.movies) {
        assert_eq!(movie.tmdb_id, expected.id);
        assert_eq!(movie.title, expected.title);
        assert_eq!(movie.overview, expected.overview);
        assert_eq!(
            movie.release_date,
            NaiveDate::parse_from_str(&expected.release_date, "%Y-%m-%d").ok()
        );
        assert!(movie.release_date.is_some());
        let genres: Vec<&str> = expected
            .genre_ids
            .iter()
            .map(|id| {
                let genre = catalog.genres.iter().find(|genre| genre.id == *id);
                genre.expect("generated genre").name.as_str()
            })
            .collect();
        assert!(!genres.is_empty());
        assert_eq!(movie.genres, genres);
        assert_eq!(
            movie.poster_url,
            expected
                .poster_path
                .as_ref()
                .map(|path| format!("{IMAGES}{path}"))
        );
        assert_eq!(movie.runtime_minutes, expected.runtime);
    }
    assert!(movies.iter().any(|movie| movie.poster_url.is_none()));
    assert!(movies.iter().any(|movie| movie.poster_url.is_some()));

    assert_eq!(fake.count(Route::Genres), 1);
    assert_eq!(fake.count(Route::popular(1)), 1);
    assert_eq!(fake.count(Route::popular(2)), 1);
    assert_eq!(fake.count(Route::popular(3)), 0);
    assert_eq!(fake.count(Route::Details(None)), 40);
    let bearer = format!("Bearer {}", fake.token());
    for seen in fake.requests() {
        assert_eq!(
            seen.authorization.as_deref(),
            Some(bearer.as_str()),
            "{seen:?}"
        );
        assert_eq!(seen.accept.as_deref(), Some("application/json"), "{seen:?}");
        assert_eq!(seen.language().as_deref(), Some("en-US"), "{seen:?}");
    }
}

#[tokio::test]
async fn a_wrong_token_is_refused() {
    let fake = FakeTmdb::start(Catalog::generated(5)).await;
    let settings = TmdbSettings {
        api_token: Some(Secret::new("not-the-token")),
        ..settings(&fake)
    };

    let err = fetch(&settings, 1).await.expect_err("refused");

    let TmdbError::TokenRefused { request } = &err else {
        panic!("expected TokenRefused, got {err:?}");
    };
    assert!(
        ["GET /genre/movie/list", "GET /movie/popular?page=1"].contains(&request.as_str()),
        "{request}"
    );
    assert!(!err.to_string().contains("not-the-token"), "{err}");
    let ServiceError::FailedPrecondition(message) = ServiceError::from(err) else {
        panic!("not FAILED_PRECONDITION");
    };
    assert!(message.contains("token was refused"), "{message}");
    assert!(
        fake.requests()
            .iter()
            .all(|seen| seen.authorization.as_deref() == Some("Bearer not-the-token"))
    );
    assert_eq!(fake.count(Route::Details(None)), 0);
}

#[tokio::test]
async fn without_a_token_nothing_is_fetched() {
    let fake = FakeTmdb::start(Catalog::generated(5)).await;
    let unconfigured = TmdbSettings {
        api_token: None,
        ..settings(&fake)
    };
    let client = TmdbClient::new(&unconfigured).expect("client");
    assert!(!client.is_configured());
    assert!(
        TmdbClient::new(&settings(&fake))
            .expect("client")
            .is_configured()
    );

    let err = client.fetch_popular(1).await.expect_err("not configured");

    assert!(matches!(err, TmdbError::NotConfigured), "{err:?}");
    let ServiceError::FailedPrecondition(message) = ServiceError::from(err) else {
        panic!("not FAILED_PRECONDITION");
    };
    assert!(
        message.starts_with("TMDB_API_TOKEN is not set"),
        "{message}"
    );
    assert_eq!(fake.count(Route::Any), 0);
}

#[tokio::test]
async fn a_request_failing_for_good_is_named() {
    // (fault, words the reason must contain, requests the fake must have seen)
    let cases = [
        (Fault::Status(500), "500", 1),
        (Fault::Status(503), "503", 3),
        (Fault::Status(502), "502", 3),
        (Fault::Garbage, "unreadable answer", 1),
        (Fault::Oversized, "larger than 2 MiB", 1),
        (Fault::Disconnect, "connection", 3),
    ];
    for (fault, words, attempts) in cases {
        let fake = FakeTmdb::start(Catalog::generated(45)).await;
        fake.fail(Route::popular(2), fault.clone(), Times::Always);

        let (request, reason) = unavailable(fetch(&settings(&fake), 2).await);

        assert_eq!(request, "GET /movie/popular?page=2", "{fault:?}");
        assert!(reason.contains(words), "{fault:?}: {reason}");
        assert_eq!(fake.count(Route::popular(2)), attempts, "{fault:?}");
        assert_eq!(fake.count(Route::Details(None)), 0, "{fault:?}");
    }
}

#[tokio::test]
async fn a_failing_runtime_lookup_fails_the_import() {
    let catalog = Catalog::generated(20);
    let id = catalog.movies[7].id;
    let fake = FakeTmdb::start(catalog).await;
    fake.fail(Route::details(id), Fault::Status(503), Times::Always);

    let err = fetch(&settings(&fake), 1).await.expect_err("unavailable");

    let message = ServiceError::from(err);
    assert!(
        matches!(&message, ServiceError::Unavailable(m)
            if m.starts_with(&format!("TheMovieDB: GET /movie/{id} failed: answered 503"))),
        "{message:?}"
    );
}

#[tokio::test]
async fn a_single_503_is_retried() {
    let fake = FakeTmdb::start(Catalog::generated(45)).await;
    fake.fail(Route::popular(2), Fault::Status(503), Times::Next(1));

    let movies = fetch(&settings(&fake), 2).await.expect("retried");

    assert_eq!(movies.len(), 40);
    assert_eq!(fake.count(Route::popular(2)), 2);
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let fake = FakeTmdb::start(Catalog::generated(20)).await;
    fake.fail(Route::Genres, Fault::Disconnect, Times::Next(2));

    let movies = fetch(&settings(&fake), 1).await.expect("retried");

    assert_eq!(movies.len(), 20);
    assert!(movies.iter().all(|movie| !movie.genres.is_empty()));
    assert_eq!(fake.count(Route::Genres), 3);
}

#[tokio::test]
async fn rate_limiting_is_waited_out() {
    let fake = FakeTmdb::start(Catalog::generated(20)).await;
    fake.rate_limit(Route::popular(1), 1, Times::Next(2));
    let started = Instant::now();

    let movies = fetch(&settings(&fake), 1).await.expect("waited");

    assert_eq!(movies.len(), 20);
    assert_eq!(fake.count(Route::popular(1)), 3);
    // Two waits of one second each, one after the other.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_429_without_retry_after_waits_a_second() {
    let fake = FakeTmdb::start(Catalog::generated(20)).await;
    let fault = Fault::RateLimited { retry_after: None };
    fake.fail(Route::Genres, fault, Times::Next(1));
    let started = Instant::now();

    let movies = fetch(&settings(&fake), 1).await.expect("waited");

    assert_eq!(movies.len(), 20);
    assert_eq!(fake.count(Route::Genres), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn endless_rate_limiting_gives_up_within_the_budget() {
    let fake = FakeTmdb::start(Catalog::generated(20)).await;
    fake.rate_limit(Route::popular(1), 0, Times::Always);
    let settings = TmdbSettings {
        retry_budget: 3,
        ..settings(&fake)
    };

    let (request, reason) = unavailable(fetch(&settings, 1).await);

    assert_eq!(request, "GET /movie/popular?page=1");
    assert!(reason.contains("rate-limiting"), "{reason}");
    assert_eq!(fake.count(Route::popular(1)), 1 + 3);
}

#[tokio::test]
async fn the_budget_is_shared_by_the_whole_fetch() {
    let fake = FakeTmdb::start(Catalog::generated(20)).await;
    fake.rate_limit(Route::Any, 0, Times::Always);
    let settings = TmdbSettings {
        retry_budget: 4,
        ..settings(&fake)
    };

    let (_, reason) = unavailable(fetch(&settings, 1).await);

    assert!(reason.contains("rate-limiting"), "{reason}");
    // The genres and the first page start together; retries come from one budget.
    let seen = fake.count(Route::Any);
    assert!((2 + 1..=2 + 4).contains(&seen), "{seen} requests");
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_not_waited_for() {
    let fake = FakeTmdb::start(Catalog::generated(20)).await;
    fake.rate_limit(Route::Genres, 120, Times::Always);
    let started = Instant::now();

    let (request, reason) = unavailable(fetch(&settings(&fake), 1).await);

    assert_eq!(request, "GET /genre/movie/list");
    assert!(
        reason.contains("rate-limiting") && reason.contains("120 s"),
        "{reason}"
    );
    assert_eq!(fake.count(Route::Genres), 1);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn slow_answers_time_out_naming_the_request() {
    let catalog = Catalog::generated(20);
    let id = catalog.movies[3].id;
    let fake = FakeTmdb::start(catalog).await;
    fake.delay(Route::details(id), Duration::from_secs(5));
    let settings = TmdbSettings {
        timeout: Duration::from_millis(300),
        ..settings(&fake)
    };
    let started = Instant::now();

    let err = fetch(&settings, 1).await.expect_err("timeout");

    let TmdbError::Timeout { request, after } = &err else {
        panic!("expected Timeout, got {err:?}");
    };
    assert_eq!(request, &format!("GET /movie/{id}"));
    assert_eq!(*after, Duration::from_millis(300));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(ServiceError::from(err), ServiceError::DeadlineExceeded(m)
            if m == format!("TheMovieDB: GET /movie/{id} did not answer within 0.3 s"))
    );
    // A timeout is not retried.
    assert_eq!(fake.count(Route::details(id)), 1);
}

#[tokio::test]
async fn never_more_than_max_in_flight_and_the_list_order_is_kept() {
    let catalog = Catalog::generated(40);
    let first = catalog.movies[0].id;
    let fake = FakeTmdb::start(catalog.clone()).await;
    fake.delay(Route::Details(None), Duration::from_millis(40));
    // The first lookup answers last; the result still starts with it.
    fake.delay(Route::details(first), Duration::from_millis(400));
    let settings = TmdbSettings {
        max_in_flight: 3,
        ..settings(&fake)
    };

    let movies = fetch(&settings, 2).await.expect("fetch");

    assert_eq!(
        ids(&movies),
        catalog
            .movies
            .iter()
            .map(|movie| movie.id)
            .collect::<Vec<_>>()
    );
    assert_eq!(fake.count(Route::Details(None)), 40);
    let most = fake.max_in_flight();
    assert!(most <= 3, "{most} requests in flight at once");
    assert!(most >= 2, "the lookups never overlapped ({most})");
}

#[tokio::test]
async fn unknown_runtimes_and_vanished_movies_have_no_runtime() {
    let mut catalog = Catalog::generated(20);
    catalog.movies[1].runtime = None;
    catalog.movies[2].runtime = Some(0);
    let vanished = catalog.movies[3].id;
    let fake = FakeTmdb::start(catalog.clone()).await;
    fake.vanish(vanished);

    let movies = fetch(&settings(&fake), 1).await.expect("fetch");

    assert_eq!(movies.len(), 20);
    let runtimes: Vec<Option<i32>> = movies.iter().map(|movie| movie.runtime_minutes).collect();
    assert_eq!(&runtimes[1..4], &[None, None, None]);
    assert_eq!(runtimes[0], catalog.movies[0].runtime);
    assert!(runtimes[4..].iter().all(Option::is_some));
    assert_eq!(movies[3].title, catalog.movies[3].title);
    assert_eq!(fake.count(Route::details(vanished)), 1);
}

#[tokio::test]
async fn movies_listed_twice_are_kept_once() {
    let mut catalog = Catalog::generated(40);
    let repeated = catalog.movies[5].id;
    // The list shifted between page 1 and page 2.
    catalog.movies[22] = FakeMovie {
        id: repeated,
        ..FakeMovie::new(repeated, "Later copy")
    };
    let fake = FakeTmdb::start(catalog.clone()).await;

    let movies = fetch(&settings(&fake), 2).await.expect("fetch");

    let mut expected: Vec<i64> = catalog.movies.iter().map(|movie| movie.id).collect();
    expected.remove(22);
    assert_eq!(ids(&movies), expected);
    let kept = movies.iter().find(|movie| movie.tmdb_id == repeated);
    assert_eq!(kept.expect("kept").title, catalog.movies[5].title);
    assert_eq!(fake.count(Route::details(repeated)), 1);
}

#[tokio::test]
async fn unknown_genres_are_dropped_and_odd_fields_tolerated() {
    let mut catalog = Catalog::generated(3);
    catalog.movies[0].genre_ids = vec![28, 999_999, 12, 28];
    catalog.movies[1].genre_ids = vec![424_242];
    catalog.movies[1].release_date = String::new();
    catalog.movies[2].poster_path = Some(String::new());
    catalog.movies[2].release_date = "someday".to_owned();
    let fake = FakeTmdb::start(catalog).await;

    let movies = fetch(&settings(&fake), 1).await.expect("fetch");

    assert_eq!(movies[0].genres, ["Action", "Adventure"]);
    assert!(movies[1].genres.is_empty());
    assert_eq!(movies[1].release_date, None);
    assert_eq!(movies[2].release_date, None);
    assert_eq!(movies[2].poster_url, None);
}

#[tokio::test]
async fn only_pages_that_exist_are_requested() {
    let fake = FakeTmdb::start(Catalog::generated(25)).await;

    let movies = fetch(&settings(&fake), 5).await.expect("fetch");
    assert_eq!(movies.len(), 25);
    assert_eq!(fake.count(Route::Popular(None)), 2);

    fake.reset_counters();
    let movies = fetch(&settings(&fake), 0).await.expect("fetch");
    assert_eq!(movies.len(), 20);
    assert_eq!(fake.count(Route::Popular(None)), 1);
}

#[tokio::test]
async fn no_server_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let settings = TmdbSettings {
        base_url: format!("http://127.0.0.1:{port}/3"),
        api_token: Some(Secret::new("token")),
        ..TmdbSettings::with_defaults()
    };

    let (request, reason) = unavailable(fetch(&settings, 1).await);

    assert!(
        ["GET /genre/movie/list", "GET /movie/popular?page=1"].contains(&request.as_str()),
        "{request}"
    );
    assert!(reason.contains("could not connect"), "{reason}");
}
