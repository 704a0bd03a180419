//! WatchCatalogEvents: every change's event, in order and numbered without
//! gaps, from any position, then live; and the stream ends with the
//! service.

use kursi_proto::catalog::v1::catalog_event::Event;
use kursi_proto::catalog::v1::*;
use testkit::bearer;
use tonic::Streaming;

use crate::{Env, instant, new_movie, tomorrow};

async fn watch(env: &Env, start_position: i64) -> Streaming<WatchCatalogEventsResponse> {
    env.client()
        .await
        .watch_catalog_events(bearer(
            &env.staff.access_token,
            WatchCatalogEventsRequest { start_position },
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn next(events: &mut Streaming<WatchCatalogEventsResponse>) -> CatalogEvent {
    events.message().await.unwrap().unwrap().event.unwrap()
}

#[tokio::test]
async fn a_movies_life_is_told_in_order_from_position_zero_and_from_any_position() {
    let env = Env::start().await;
    let mut request = new_movie("Dune", 155);
    request.tmdb_id = 438_631;
    let movie = env.create_movie(request).await.unwrap();
    let renamed = env
        .update_movie(UpdateMovieRequest {
            movie_id: movie.movie_id.clone(),
            title: "Dune: Part One".into(),
            genres: movie.genres.clone(),
            duration_minutes: 156,
            tmdb_id: 438_631,
            ..Default::default()
        })
        .await
        .unwrap();
    let start = tomorrow();
    let showing = env.showtime(&renamed, "Studio 1", start).await.unwrap();
    env.cancel(&showing.showtime_id, "projector broke")
        .await
        .unwrap();
    let mut client = env.client().await;
    client
        .delete_movie(bearer(
            &env.admin.access_token,
            DeleteMovieRequest {
                movie_id: movie.movie_id.clone(),
            },
        ))
        .await
        .unwrap();

    let mut events = watch(&env, 0).await;
    let mut walk = Vec::new();
    for position in 1..=5 {
        let event = next(&mut events).await;
        assert_eq!(event.position, position);
        assert_eq!(event.movie_id, movie.movie_id);
        assert_eq!(event.actor_id, env.admin.user_id);
        assert!(event.event_time.is_some());
        walk.push(event);
    }

    let Some(Event::MovieCreated(created)) = &walk[0].event else {
        panic!("{:?}", walk[0]);
    };
    assert_eq!(created.movie.as_ref(), Some(&movie));
    let Some(Event::MovieUpdated(updated)) = &walk[1].event else {
        panic!("{:?}", walk[1]);
    };
    assert_eq!(updated.movie.as_ref(), Some(&renamed));
    assert_eq!(updated.changed_fields, ["title", "duration_minutes"]);
    let Some(Event::ShowtimeScheduled(scheduled)) = &walk[2].event else {
        panic!("{:?}", walk[2]);
    };
    assert_eq!(scheduled.showtime.as_ref(), Some(&showing));
    let Some(Event::ShowtimeCancelled(cancelled)) = &walk[3].event else {
        panic!("{:?}", walk[3]);
    };
    let cancelled = cancelled.showtime.as_ref().unwrap();
    assert_eq!(cancelled.showtime_id, showing.showtime_id);
    assert_eq!(cancelled.movie_title, "Dune: Part One");
    assert_eq!(instant(&cancelled.start_time), start);
    assert_eq!(cancelled.cancel_reason, "projector broke");
    assert_eq!(cancelled.status, ShowtimeStatus::Cancelled as i32);
    assert!(cancelled.cancel_time.is_some());
    assert_eq!(cancelled.seat_capacity, showing.seat_capacity);
    let Some(Event::MovieDeleted(deleted)) = &walk[4].event else {
        panic!("{:?}", walk[4]);
    };
    assert_eq!(
        (
            deleted.movie_id.as_str(),
            deleted.title.as_str(),
            deleted.tmdb_id
        ),
        (movie.movie_id.as_str(), "Dune: Part One", 438_631)
    );
    let showtime_ids: Vec<&str> = walk.iter().map(|e| e.showtime_id.as_str()).collect();
    let id = showing.showtime_id.as_str();
    assert_eq!(showtime_ids, ["", "", id, id, ""]);

    // Resuming after the second event gives the rest, the same.
    let mut resumed = watch(&env, 2).await;
    for expected in &walk[2..] {
        assert_eq!(&next(&mut resumed).await, expected);
    }
}

#[tokio::test]
async fn an_open_stream_gets_new_events_as_they_commit() {
    let env = Env::start().await;
    let first = env.movie("Dune", 155).await;
    let mut live = watch(&env, 0).await;
    assert_eq!(next(&mut live).await.movie_id, first.movie_id);

    let second = env.movie("Past Lives", 105).await;
    let showing = env.showtime(&second, "Studio 2", tomorrow()).await.unwrap();

    let event = next(&mut live).await;
    assert_eq!(
        (event.position, event.movie_id.as_str()),
        (2, second.movie_id.as_str())
    );
    assert!(matches!(event.event, Some(Event::MovieCreated(_))));
    let event = next(&mut live).await;
    assert_eq!(event.position, 3);
    assert_eq!(event.showtime_id, showing.showtime_id);
    assert!(matches!(event.event, Some(Event::ShowtimeScheduled(_))));
}

#[tokio::test]
async fn a_stream_ends_when_the_service_shuts_down() {
    let mut env = Env::start().await;
    let mut live = watch(&env, 0).await;
    // Stopping waits for requests in flight; an open stream must not hold it.
    env.server.stop_ref().await;
    assert!(matches!(live.message().await, Ok(None) | Err(_)));
}
