//! The catalog's walk, end to end: a movie, its showtime, a clash, a
//! cancellation, an import, and the events all of that wrote.

use kursi_proto::catalog::v1::catalog_event::Event;
use kursi_proto::catalog::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, code, tomorrow};

#[tokio::test]
async fn a_movie_a_showtime_a_clash_a_cancellation_an_import_and_their_events() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let admin = &env.admin.access_token;

    let dune = env.movie("Dune", 155).await;
    let start = tomorrow();
    let showing = env.showtime(&dune, "Studio 1", start).await.unwrap();
    assert_eq!(showing.movie_title, "Dune");
    assert_eq!(showing.seat_capacity, 40);
    assert_eq!(
        showing.end_time.as_ref().unwrap().seconds - showing.start_time.as_ref().unwrap().seconds,
        155 * 60
    );

    let clash = env
        .showtime(&dune, "studio 1", start + chrono::Duration::minutes(160))
        .await;
    assert_eq!(code(&clash), Code::FailedPrecondition, "{clash:?}");
    assert!(clash.unwrap_err().message().contains(&showing.showtime_id));

    let cancelled = client
        .cancel_showtime(bearer(
            admin,
            CancelShowtimeRequest {
                showtime_id: showing.showtime_id.clone(),
                reason: "projector broke".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .showtime
        .unwrap();
    assert_eq!(cancelled.status, ShowtimeStatus::Cancelled as i32);
    assert_eq!(cancelled.cancel_reason, "projector broke");

    let started = client
        .import_movies(bearer(admin, ImportMoviesRequest { page_count: 1 }))
        .await
        .unwrap()
        .into_inner();
    let imported = crate::outcome(&env.done(&started.name).await).unwrap();
    assert_eq!(
        imported.created_count + imported.skipped.len() as i32,
        20,
        "{imported:?}"
    );

    let mut events = client
        .watch_catalog_events(bearer(
            &env.staff.access_token,
            WatchCatalogEventsRequest { start_position: 0 },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut kinds = Vec::new();
    for expected in 1..=(3 + imported.created_count as i64) {
        let event = events.message().await.unwrap().unwrap().event.unwrap();
        assert_eq!(event.position, expected);
        kinds.push(match event.event.unwrap() {
            Event::MovieCreated(_) => "movie_created",
            Event::ShowtimeScheduled(_) => "showtime_scheduled",
            Event::ShowtimeCancelled(c) => {
                assert_eq!(c.showtime.unwrap().cancel_reason, "projector broke");
                "showtime_cancelled"
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        &kinds[..3],
        ["movie_created", "showtime_scheduled", "showtime_cancelled"]
    );
}
