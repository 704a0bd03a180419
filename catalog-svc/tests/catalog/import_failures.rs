//! ImportMovies when TheMovieDB fails: all or nothing, a clear code and a
//! message naming the request that failed, and the token's problems said
//! as the service's own, never as the caller's.

use std::time::Duration;

use testkit::tmdb::{Catalog, Fault, Route, Times};
use tonic::Code;

use crate::Env;

#[tokio::test]
async fn an_import_failing_half_way_leaves_the_catalog_exactly_as_it_was() {
    let env = Env::start().await;
    env.import(1).await.unwrap();
    // TheMovieDB has news: every title changed and more movies.
    let mut catalog = Catalog::generated(45);
    for movie in &mut catalog.movies {
        movie.title.push_str(" II");
    }
    env.tmdb.set_catalog(catalog.clone());
    let before = env.dump().await;
    let (late, later) = (catalog.movies[25].id, catalog.movies[39].id);
    let cases = [
        (
            Route::popular(2),
            Fault::Status(500),
            "GET /movie/popular?page=2",
        ),
        (Route::Genres, Fault::Status(503), "GET /genre/movie/list"),
        (
            Route::popular(1),
            Fault::Garbage,
            "GET /movie/popular?page=1",
        ),
        (
            Route::details(late),
            Fault::Disconnect,
            &format!("GET /movie/{late}"),
        ),
        (
            Route::details(later),
            Fault::Status(500),
            &format!("GET /movie/{later}"),
        ),
    ];

    for (route, fault, request) in cases {
        env.tmdb.heal();
        env.tmdb.fail(route, fault.clone(), Times::Always);

        let err = env.import(2).await.unwrap_err();

        assert_eq!(err.code(), Code::Unavailable, "{fault:?}: {err:?}");
        assert!(err.message().contains(request), "{fault:?}: {err:?}");
        assert_eq!(env.dump().await, before, "{fault:?}");
    }
    // Once TheMovieDB is well again, the same import goes through.
    env.tmdb.heal();
    let summary = env.import(2).await.unwrap();
    assert_eq!((summary.created_count, summary.updated_count), (20, 20));
}

#[tokio::test]
async fn a_themoviedb_slower_than_the_timeout_is_deadline_exceeded_naming_the_request() {
    let env = Env::start_with(|c| c.tmdb.timeout = Duration::from_millis(300)).await;
    env.tmdb.delay(Route::details(1004), Duration::from_secs(3));

    let err = env.import(1).await.unwrap_err();

    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    assert!(err.message().contains("GET /movie/1004"), "{err:?}");
    assert_eq!(env.dump().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_token_themoviedb_refuses_is_failed_precondition_never_unauthenticated() {
    let env = Env::start_with(|c| {
        c.tmdb.api_token = Some(service_kit::config::Secret::new("expired-token"));
    })
    .await;

    let err = env.import(1).await.unwrap_err();

    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("token was refused"), "{err:?}");
    assert!(!err.message().contains("expired-token"), "{err:?}");
    assert_eq!(env.dump().await, Vec::<String>::new());
}

#[tokio::test]
async fn without_a_token_the_import_is_refused_and_nothing_is_fetched() {
    let env = Env::start_with(|c| c.tmdb.api_token = None).await;

    let err = env.import(1).await.unwrap_err();

    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("TMDB_API_TOKEN is not set"),
        "{err:?}"
    );
    assert_eq!(env.tmdb.count(Route::Any), 0);
    assert_eq!(env.dump().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_the_import_succeeds() {
    let env = Env::start().await;
    env.tmdb.rate_limit(Route::popular(1), 1, Times::Next(1));

    let summary = env.import(1).await.unwrap();

    assert_eq!(summary.created_count, 20);
    assert_eq!(env.tmdb.count(Route::popular(1)), 2);
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 20);
}
