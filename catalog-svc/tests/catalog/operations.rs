//! ImportMovies as a long-running operation: answered at once, polled
//! through `google.longrunning.Operations` to its end, its progress (a
//! Retry-After being waited out included) and its failures told in the
//! operation, kept in the database across replicas and restarts.

use std::time::{Duration, Instant};

use kursi_proto::catalog::v1::*;
use kursi_proto::google::longrunning::operations_client::OperationsClient;
use kursi_proto::google::longrunning::*;
use testkit::bearer;
use testkit::tmdb::{Fault, Route, Times};
use tonic::Code;

use crate::{Env, eventually, metadata, outcome, violated_fields};

#[tokio::test]
async fn an_import_answers_at_once_and_is_polled_to_its_summary() {
    let env = Env::start().await;
    // 20 movies' details, 4 at a time: the import takes over a second.
    env.tmdb
        .delay(Route::Details(None), Duration::from_millis(250));

    let asked = Instant::now();
    let started = env.start_import(1).await.unwrap();

    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    assert!(started.name.starts_with("operations/"), "{}", started.name);
    assert!(!started.done);
    assert!(started.result.is_none());
    let running = metadata(&started);
    assert_eq!(running.state, ImportState::Running as i32);
    assert_eq!(running.trigger, ImportTrigger::Request as i32);
    assert_eq!(running.requested_by, env.admin.user_id);
    assert_eq!(running.page_count, 1);
    assert!(running.end_time.is_none());

    // Progress shows while it runs.
    let fetching = eventually("progress is reported", || async {
        let operation = env.operation(&started.name).await.unwrap();
        let progress = metadata(&operation);
        (!operation.done && progress.movies_fetched > 0).then_some(progress)
    })
    .await;
    assert_eq!(fetching.pages_fetched, 1);
    assert!(
        fetching
            .status_message
            .starts_with("fetching from TheMovieDB: 1 of 1 page(s)"),
        "{}",
        fetching.status_message
    );

    let done = env.done(&started.name).await;
    let summary = outcome(&done).unwrap();
    assert_eq!((summary.created_count, summary.updated_count), (20, 0));
    let ended = metadata(&done);
    assert_eq!(ended.state, ImportState::Succeeded as i32);
    assert_eq!((ended.pages_fetched, ended.movies_fetched), (1, 20));
    assert_eq!((ended.requests_made, ended.retries), (22, 0));
    assert_eq!(ended.end_time, summary.complete_time);
    assert_eq!(
        ended.status_message,
        "imported: 20 created, 0 updated, 0 unchanged, 0 skipped"
    );
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 20);
}

#[tokio::test]
async fn a_retry_after_shows_as_waiting_until_and_then_the_import_succeeds() {
    let env = Env::start().await;
    env.tmdb.rate_limit(Route::popular(1), 3, Times::Next(1));

    let started = env.start_import(1).await.unwrap();

    let waiting = eventually("the wait shows", || async {
        let progress = metadata(&env.operation(&started.name).await.unwrap());
        progress.waiting_until.is_some().then_some(progress)
    })
    .await;
    assert_eq!(waiting.state, ImportState::Running as i32);
    assert_eq!(
        waiting.waiting_for,
        "GET /movie/popular?page=1 answered 429 Too Many Requests (Retry-After: 3 s)"
    );
    let until = crate::instant(&waiting.waiting_until);
    let left = until - chrono::Utc::now();
    assert!(
        left > chrono::Duration::zero() && left <= chrono::Duration::seconds(3),
        "{left}"
    );
    assert!(
        waiting
            .status_message
            .starts_with("waiting on TheMovieDB until "),
        "{}",
        waiting.status_message
    );
    assert_eq!(waiting.retries, 1);

    let done = env.done(&started.name).await;
    assert_eq!(outcome(&done).unwrap().created_count, 20);
    let ended = metadata(&done);
    assert!(ended.waiting_until.is_none());
    assert_eq!(ended.waiting_for, "");
    assert_eq!(ended.retries, 1);
    assert_eq!(env.tmdb.count(Route::popular(1)), 2);
}

#[tokio::test]
async fn themoviedb_down_ends_the_operation_failed_naming_the_request_with_nothing_imported() {
    let env = Env::start().await;
    env.tmdb
        .fail(Route::popular(1), Fault::Status(503), Times::Always);

    let started = env.start_import(1).await.unwrap();
    let done = env.done(&started.name).await;

    let err = outcome(&done).unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(
        err.message()
            .starts_with("TheMovieDB: GET /movie/popular?page=1 failed: answered 503"),
        "{err:?}"
    );
    let ended = metadata(&done);
    assert_eq!(ended.state, ImportState::Failed as i32);
    assert_eq!(
        ended.retries, 2,
        "two retries after a 503, then it gives up"
    );
    assert!(
        ended
            .status_message
            .starts_with("failed: TheMovieDB: GET /movie/popular?page=1")
    );
    assert!(ended.end_time.is_some());
    assert_eq!(env.dump().await, Vec::<String>::new());
}

/// An import's operation RUNNING as a process that stopped mid-import
/// leaves it (written behind the service's back); its name.
async fn left_running(env: &Env) -> String {
    let id = uuid::Uuid::now_v7();
    env.exec(&format!(
        "INSERT INTO operations (id, kind, state, trigger, pages, created_at, updated_at)
         VALUES ('{id}', 'import_movies', 'RUNNING', 'request', 1, now(), now())"
    ))
    .await;
    format!("operations/{id}")
}

#[tokio::test]
async fn an_operation_left_running_by_a_stopped_process_reads_failed_after_a_restart() {
    let env = Env::start().await;
    let name = left_running(&env).await;
    assert!(!env.operation(&name).await.unwrap().done);

    // The service starts again (a replica on the same database).
    let config = env.config.clone();
    let restarted = testkit::spawn(move |l, s| catalog_svc::app::run(config, l, s)).await;
    let operations = OperationsClient::new(testkit::channel(restarted.addr).await);

    let read = eventually("the restart marks it", || async {
        let operation = operations
            .clone()
            .get_operation(bearer(
                &env.admin.access_token,
                GetOperationRequest { name: name.clone() },
            ))
            .await
            .unwrap()
            .into_inner();
        operation.done.then_some(operation)
    })
    .await;
    let err = outcome(&read).unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(
        err.message(),
        "interrupted by a restart; nothing was imported"
    );
    assert_eq!(metadata(&read).state, ImportState::Failed as i32);
    // And imports go on.
    assert_eq!(env.import(1).await.unwrap().created_count, 20);
}

#[tokio::test]
async fn a_new_import_marks_an_operation_nobody_runs_any_more_failed() {
    let env = Env::start().await;
    let orphan = left_running(&env).await;

    let started = env.start_import(1).await.unwrap();

    assert_ne!(started.name, orphan);
    let orphan = env.operation(&orphan).await.unwrap();
    assert!(orphan.done);
    assert_eq!(outcome(&orphan).unwrap_err().code(), Code::Aborted);
    assert!(outcome(&env.done(&started.name).await).is_ok());
}

#[tokio::test]
async fn any_replica_answers_for_an_operation_and_wait_returns_when_it_is_done() {
    let env = Env::start().await;
    env.tmdb
        .delay(Route::Details(None), Duration::from_millis(150));
    let config = env.config.clone();
    let replica = testkit::spawn(move |l, s| catalog_svc::app::run(config, l, s)).await;
    let mut elsewhere = OperationsClient::new(testkit::channel(replica.addr).await);
    let started = env.start_import(1).await.unwrap();
    let wait = |timeout: Option<prost_types::Duration>| {
        bearer(
            &env.admin.access_token,
            WaitOperationRequest {
                name: started.name.clone(),
                timeout,
            },
        )
    };

    // A short wait answers, not done, when its timeout is up.
    let asked = Instant::now();
    let short = prost_types::Duration {
        seconds: 0,
        nanos: 200_000_000,
    };
    let early = elsewhere.wait_operation(wait(Some(short))).await.unwrap();
    assert!(!early.into_inner().done);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );

    // A long one answers when the import ends, in the other replica.
    let long = prost_types::Duration {
        seconds: 30,
        nanos: 0,
    };
    let done = elsewhere.wait_operation(wait(Some(long))).await.unwrap();
    let done = done.into_inner();
    assert!(done.done);
    assert_eq!(outcome(&done).unwrap().created_count, 20);
    assert!(asked.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn operations_are_listed_newest_first_in_pages_and_by_done() {
    let env = Env::start().await;
    let mut names = Vec::new();
    for _ in 0..3 {
        let started = env.start_import(1).await.unwrap();
        env.done(&started.name).await;
        names.push(started.name);
    }
    names.reverse();
    let mut operations = env.operations().await;
    let list = |page_size: i32, page_token: String, filter: &str| {
        let request = bearer(
            &env.admin.access_token,
            ListOperationsRequest {
                name: "operations".into(),
                filter: filter.into(),
                page_size,
                page_token,
                ..Default::default()
            },
        );
        let mut operations = operations.clone();
        async move { operations.list_operations(request).await }
    };

    let first = list(2, String::new(), "").await.unwrap().into_inner();
    let listed: Vec<&str> = first.operations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(listed, names[..2]);
    assert!(!first.next_page_token.is_empty());
    let rest = list(2, first.next_page_token, "")
        .await
        .unwrap()
        .into_inner();
    let listed: Vec<&str> = rest.operations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(listed, names[2..]);
    assert_eq!(rest.next_page_token, "");

    let done = list(0, String::new(), "done=true")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.operations.len(), 3);
    let running = list(0, String::new(), "done=false")
        .await
        .unwrap()
        .into_inner();
    assert!(running.operations.is_empty());
    let err = list(0, String::new(), "state=RUNNING").await.unwrap_err();
    assert_eq!(violated_fields(&err), ["filter"]);
    let err = list(0, "garbage".into(), "").await.unwrap_err();
    assert_eq!(violated_fields(&err), ["page_token"]);

    // DeleteOperation forgets a finished one; the movies stay.
    operations
        .delete_operation(bearer(
            &env.admin.access_token,
            DeleteOperationRequest {
                name: names[0].clone(),
            },
        ))
        .await
        .unwrap();
    let gone = env.operation(&names[0]).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 20);
}

#[tokio::test]
async fn bad_names_are_invalid_and_unknown_ones_not_found() {
    let env = Env::start().await;
    for bad in [
        "",
        "operations/42",
        "movies/0190a7a0-0000-7000-8000-000000000000",
    ] {
        let err = env.operation(bad).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["name"], "{bad}");
    }
    let unknown = format!("operations/{}", uuid::Uuid::now_v7());
    let err = env.operation(&unknown).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(err.message(), format!("no operation named {unknown}"));
}

#[tokio::test]
async fn only_an_admin_reads_or_cancels_operations() {
    let env = Env::start().await;
    let started = env.start_import(1).await.unwrap();
    let mut operations = env.operations().await;
    for (token, expected) in [
        (env.customer.access_token.as_str(), Code::PermissionDenied),
        (env.staff.access_token.as_str(), Code::PermissionDenied),
        ("not.a.token", Code::Unauthenticated),
    ] {
        let get = GetOperationRequest {
            name: started.name.clone(),
        };
        let err = operations
            .get_operation(bearer(token, get))
            .await
            .unwrap_err();
        assert_eq!(err.code(), expected, "{err:?}");
        let cancel = CancelOperationRequest {
            name: started.name.clone(),
        };
        let err = operations
            .cancel_operation(bearer(token, cancel))
            .await
            .unwrap_err();
        assert_eq!(err.code(), expected, "{err:?}");
        let list = ListOperationsRequest::default();
        let err = operations
            .list_operations(bearer(token, list))
            .await
            .unwrap_err();
        assert_eq!(err.code(), expected, "{err:?}");
    }
    assert!(outcome(&env.done(&started.name).await).is_ok());
}
