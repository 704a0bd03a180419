//! The imports nobody asks for: at start-up, and on an interval that every
//! replica keeps but that holds across all of them.

use std::time::Duration;

use catalog_svc::import::{Importer, Trigger};
use catalog_svc::tmdb::TmdbClient;
use kursi_proto::catalog::v1::catalog_event::Event;
use kursi_proto::catalog::v1::*;
use service_kit::outbox::Outbox;
use testkit::bearer;
use testkit::tmdb::Route;

use crate::{Env, eventually};

#[tokio::test]
async fn with_import_on_start_the_movies_arrive_without_any_call() {
    let env = Env::start_with(|c| c.import.on_start = true).await;

    eventually("the start-up import", || async {
        (env.count("SELECT count(*) FROM movie_imports").await > 0).then_some(())
    })
    .await;

    assert_eq!(env.count("SELECT count(*) FROM movies").await, 20);
    assert_eq!(
        env.texts("SELECT trigger || ' ' || coalesce(actor_id::text, 'nobody') || ' ' || created_count FROM movie_imports")
            .await,
        ["start-up nobody 20"]
    );
    // Recorded as an operation, as a requested import is.
    let name = env
        .texts("SELECT 'operations/' || id FROM operations")
        .await;
    let operation = env.operation(&name[0]).await.unwrap();
    assert_eq!(crate::outcome(&operation).unwrap().created_count, 20);
    let metadata = crate::metadata(&operation);
    assert_eq!(metadata.trigger, ImportTrigger::StartUp as i32);
    assert_eq!(metadata.requested_by, "");
    let mut events = env
        .client()
        .await
        .watch_catalog_events(bearer(
            &env.staff.access_token,
            WatchCatalogEventsRequest { start_position: 0 },
        ))
        .await
        .unwrap()
        .into_inner();
    let first = events.message().await.unwrap().unwrap().event.unwrap();
    assert!(matches!(first.event, Some(Event::MovieCreated(_))));
    assert_eq!(first.actor_id, "", "nobody made it");
}

#[tokio::test]
async fn two_replicas_on_an_interval_import_only_once_the_last_import_is_an_interval_old() {
    const EVERY: Duration = Duration::from_millis(300);
    let env = Env::start_with(|c| c.import.interval = Some(EVERY)).await;
    let config = env.config.clone();
    let _replica = testkit::spawn(move |l, s| catalog_svc::app::run(config, l, s)).await;

    eventually("four imports on the interval", || async {
        (env.count("SELECT count(*) FROM movie_imports").await >= 4).then_some(())
    })
    .await;

    let rows = env
        .texts(
            "SELECT trigger || ' ' || (extract(epoch FROM completed_at) * 1000000)::bigint
             FROM movie_imports ORDER BY completed_at",
        )
        .await;
    let mut last: Option<i64> = None;
    for row in &rows {
        let (trigger, micros) = row.split_once(' ').unwrap();
        assert_eq!(trigger, "interval");
        let micros: i64 = micros.parse().unwrap();
        if let Some(last) = last {
            assert!(
                micros - last >= EVERY.as_micros() as i64,
                "imports {} µs apart: {rows:?}",
                micros - last
            );
        }
        last = Some(micros);
    }
    // Each import that ran has its operation; a skipped turn has none.
    assert_eq!(
        env.count(
            "SELECT count(*) FROM operations WHERE state = 'SUCCEEDED' AND trigger = 'interval'"
        )
        .await,
        env.count("SELECT count(*) FROM movie_imports").await
    );
    assert_eq!(
        env.count("SELECT count(*) FROM operations WHERE state <> 'SUCCEEDED'")
            .await,
        0
    );
    // The first created the movies; the others found nothing new.
    assert_eq!(env.count("SELECT count(*) FROM movies").await, 20);
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'movie_created'")
            .await,
        20
    );
}

#[tokio::test]
async fn an_interval_import_is_skipped_while_the_last_import_is_younger_than_the_interval() {
    let env = Env::start().await;
    let importer = Importer::new(
        Outbox::new(service_kit::db::pool(env.db.url(), 2)),
        TmdbClient::new(&env.config.tmdb).unwrap(),
        env.config.common.clock.clone(),
    );
    env.import(1).await.unwrap();
    let requests = env.tmdb.count(Route::Any);

    let hourly = Trigger::Interval {
        every: Duration::from_secs(3600),
    };
    let skipped = importer.run(hourly, 1).await.unwrap();

    assert!(skipped.is_none(), "{skipped:?}");
    assert_eq!(env.tmdb.count(Route::Any), requests);
    assert_eq!(env.count("SELECT count(*) FROM movie_imports").await, 1);
    // Once the last import is older than the interval, it runs.
    let often = Trigger::Interval {
        every: Duration::from_millis(1),
    };
    let ran = importer.run(often, 1).await.unwrap().expect("an import");
    assert_eq!(ran.unchanged, 20);
    assert_eq!(
        env.texts("SELECT trigger FROM movie_imports ORDER BY id")
            .await,
        ["request", "interval"]
    );
}
