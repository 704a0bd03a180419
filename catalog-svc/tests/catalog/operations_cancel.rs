//! CancelOperation: a running import stops and ends CANCELLED with nothing
//! imported; a repeated cancel answers as before; an import that ended
//! otherwise cannot be cancelled.

use std::time::Duration;

use kursi_proto::catalog::v1::*;
use kursi_proto::google::longrunning::*;
use testkit::bearer;
use testkit::tmdb::Route;
use tonic::Code;

use crate::{Env, eventually, metadata, outcome};

async fn cancel(env: &Env, name: &str) -> Result<(), tonic::Status> {
    env.operations()
        .await
        .cancel_operation(bearer(
            &env.admin.access_token,
            CancelOperationRequest { name: name.into() },
        ))
        .await
        .map(drop)
}

#[tokio::test]
async fn a_cancelled_import_stops_and_imports_nothing() {
    let env = Env::start().await;
    env.tmdb
        .delay(Route::Details(None), Duration::from_millis(300));
    let started = env.start_import(1).await.unwrap();
    eventually("the import fetches details", || async {
        (env.tmdb.count(Route::Details(None)) > 0).then_some(())
    })
    .await;

    cancel(&env, &started.name).await.unwrap();
    let done = env.done(&started.name).await;

    let err = outcome(&done).unwrap_err();
    assert_eq!(err.code(), Code::Cancelled, "{err:?}");
    assert_eq!(
        err.message(),
        "cancelled (CancelOperation); nothing was imported"
    );
    let ended = metadata(&done);
    assert_eq!(ended.state, ImportState::Cancelled as i32);
    assert!(ended.movies_fetched < 20, "{ended:?}");
    assert_eq!(env.dump().await, Vec::<String>::new());
    // It stopped asking TheMovieDB.
    let asked = env.tmdb.count(Route::Any);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(env.tmdb.count(Route::Any), asked);

    // Cancelling again answers as before and changes nothing.
    cancel(&env, &started.name).await.unwrap();
    let again = env.operation(&started.name).await.unwrap();
    assert_eq!(again, done);
    // And the next import runs.
    assert_eq!(env.import(1).await.unwrap().created_count, 20);
}

#[tokio::test]
async fn an_import_that_ended_otherwise_cannot_be_cancelled_nor_a_running_one_deleted() {
    let env = Env::start().await;
    env.tmdb
        .delay(Route::Details(None), Duration::from_millis(200));
    let started = env.start_import(1).await.unwrap();

    let err = env
        .operations()
        .await
        .delete_operation(bearer(
            &env.admin.access_token,
            DeleteOperationRequest {
                name: started.name.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("still running"), "{err:?}");

    let done = env.done(&started.name).await;
    assert!(outcome(&done).is_ok());
    let err = cancel(&env, &started.name).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(
        err.message(),
        "the operation has already succeeded; only a running operation can be cancelled"
    );
    assert_eq!(env.operation(&started.name).await.unwrap(), done);
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 20);

    let unknown = format!("operations/{}", uuid::Uuid::now_v7());
    let err = cancel(&env, &unknown).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
}
