//! Showtimes: what scheduling one works out, the auditorium rule under
//! concurrency, and cancelling (lists are in `showtime_lists`).

use std::sync::Arc;

use chrono::Duration;
use kursi_proto::catalog::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, code, instant, new_showtime, tomorrow, ts, violated_fields};

#[tokio::test]
async fn a_showtime_ends_after_its_movie_and_seats_rows_times_seats() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    let start = tomorrow();
    let mut request = new_showtime(&movie.movie_id, "Studio 1", start);
    request.price = 75_000;
    request.seat_layout = Some(SeatLayout {
        rows: 12,
        seats_per_row: 20,
    });

    let created = env
        .client()
        .await
        .create_showtime(bearer(&env.admin.access_token, request))
        .await
        .unwrap()
        .into_inner()
        .showtime
        .unwrap();

    assert_eq!(instant(&created.start_time), start);
    assert_eq!(instant(&created.end_time), start + Duration::minutes(155));
    assert_eq!(created.seat_capacity, 240);
    assert_eq!(created.movie_title, "Dune");
    assert_eq!(created.movie_id, movie.movie_id);
    assert_eq!(created.auditorium, "Studio 1");
    assert_eq!((created.price, created.currency.as_str()), (75_000, "IDR"));
    assert_eq!(
        created.seat_layout,
        Some(SeatLayout {
            rows: 12,
            seats_per_row: 20
        })
    );
    assert_eq!(created.status, ShowtimeStatus::Scheduled as i32);
    assert_eq!(
        (created.cancel_reason.as_str(), created.cancel_time),
        ("", None)
    );
    assert_eq!(
        env.get_showtime(&created.showtime_id).await.unwrap(),
        created
    );
}

#[tokio::test]
async fn a_showing_may_start_once_the_room_is_free_after_the_turnaround_and_not_a_minute_before() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 120).await;
    let start = tomorrow();
    let first = env.showtime(&movie, "Studio 1", start).await.unwrap();
    // Free at start + 120 + 15 minutes.
    let free_at = start + Duration::minutes(135);

    for (auditorium, at) in [
        ("studio 1", free_at - Duration::minutes(1)),
        ("STUDIO 1", start),
        ("Studio 1", start - Duration::minutes(134)),
    ] {
        let clash = env.showtime(&movie, auditorium, at).await.unwrap_err();
        assert_eq!(clash.code(), Code::FailedPrecondition, "{clash:?}");
        assert!(clash.message().contains(&first.showtime_id), "{clash:?}");
    }
    env.showtime(&movie, "STUDIO 1", free_at).await.unwrap();
    env.showtime(&movie, "Studio 1", start - Duration::minutes(135))
        .await
        .unwrap();
    env.showtime(&movie, "Studio 2", start).await.unwrap();
    assert_eq!(env.count("SELECT count(*) FROM showtimes").await, 4);
}

#[tokio::test]
async fn a_cancelled_showtime_frees_its_room() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 120).await;
    let start = tomorrow();
    let first = env.showtime(&movie, "Studio 1", start).await.unwrap();
    let clash = env.showtime(&movie, "Studio 1", start).await;
    assert_eq!(code(&clash), Code::FailedPrecondition);

    env.cancel(&first.showtime_id, "double booked")
        .await
        .unwrap();

    let second = env.showtime(&movie, "Studio 1", start).await.unwrap();
    assert_ne!(second.showtime_id, first.showtime_id);
}

/// The race, run a few times over: a single run rarely lands two inserts
/// in the window where PostgreSQL's exclusion check deadlocks them.
#[tokio::test]
async fn of_sixteen_racing_overlapping_showtimes_in_one_room_exactly_one_is_scheduled() {
    const RACERS: usize = 16;
    const ROUNDS: usize = 30;
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    let start = tomorrow();
    for round in 0..ROUNDS {
        let room = format!("Studio {round}");
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
        let mut racers = Vec::new();
        for i in 0..RACERS {
            let mut client = env.client().await;
            let barrier = Arc::clone(&barrier);
            let auditorium = if i % 2 == 0 {
                room.clone()
            } else {
                room.to_uppercase()
            };
            let at = start + Duration::minutes(i as i64 * 5);
            let request = bearer(
                &env.admin.access_token,
                new_showtime(&movie.movie_id, &auditorium, at),
            );
            racers.push(tokio::spawn(async move {
                barrier.wait().await;
                client.create_showtime(request).await
            }));
        }
        let mut codes = Vec::new();
        for racer in racers {
            let result = racer.await.unwrap();
            if let Err(status) = &result {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert!(status.message().contains("showtime "), "{status:?}");
            }
            codes.push(code(&result));
        }
        let won = codes.iter().filter(|c| **c == Code::Ok).count();
        assert_eq!(won, 1, "round {round}: {codes:?}");
        let rows = env
            .count(&format!(
                "SELECT count(*) FROM showtimes WHERE lower(auditorium) = lower('{room}')"
            ))
            .await;
        assert_eq!(rows, 1, "round {round}");
    }
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'showtime_scheduled'")
            .await,
        ROUNDS as i64
    );
}

#[tokio::test]
async fn cancelling_keeps_the_reason_and_time_and_again_answers_the_same_without_an_event() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    let showing = env.showtime(&movie, "Studio 1", tomorrow()).await.unwrap();

    let cancelled = env
        .cancel(&showing.showtime_id, "projector broke")
        .await
        .unwrap();
    assert_eq!(cancelled.status, ShowtimeStatus::Cancelled as i32);
    assert_eq!(cancelled.cancel_reason, "projector broke");
    assert!(cancelled.cancel_time.is_some());
    assert_eq!(cancelled.update_time, cancelled.cancel_time);
    let events = env.count("SELECT count(*) FROM outbox").await;

    let again = env
        .cancel(&showing.showtime_id, "another reason")
        .await
        .unwrap();

    assert_eq!(again, cancelled);
    assert_eq!(
        env.get_showtime(&showing.showtime_id).await.unwrap(),
        cancelled
    );
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, events);
    let nobody = uuid::Uuid::now_v7().to_string();
    assert_eq!(code(&env.cancel(&nobody, "").await), Code::NotFound);
}

#[tokio::test]
async fn a_showtime_that_has_ended_cannot_be_cancelled() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    let showing = env.showtime(&movie, "Studio 1", tomorrow()).await.unwrap();
    env.exec(&format!(
        "UPDATE showtimes SET start_time = now() - interval '3 hours',
             end_time = now() - interval '1 minute', free_at = now() + interval '14 minutes'
         WHERE id = '{}'",
        showing.showtime_id
    ))
    .await;
    let events = env.count("SELECT count(*) FROM outbox").await;

    let refused = env
        .cancel(&showing.showtime_id, "too late")
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("ended"), "{refused:?}");
    let read = env.get_showtime(&showing.showtime_id).await.unwrap();
    assert_eq!(read.status, ShowtimeStatus::Scheduled as i32);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, events);
}

#[tokio::test]
async fn a_start_in_the_past_or_beyond_the_window_is_refused() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    let mut client = env.client().await;
    for at in [
        chrono::Utc::now() - Duration::minutes(1),
        chrono::Utc::now() + Duration::days(366),
    ] {
        let mut request = new_showtime(&movie.movie_id, "Studio 1", at);
        request.start_time = Some(ts(at));
        let err = client
            .create_showtime(bearer(&env.admin.access_token, request))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), ["start_time"]);
    }
    // Just inside the window is fine.
    env.showtime(&movie, "Studio 1", chrono::Utc::now() + Duration::days(364))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_start_named_in_kursi_local_time_is_read_on_the_cinemas_clock() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    // A wall-clock reading, written as if UTC, as the edge sends one a REST
    // caller gave without an offset.
    let reading = tomorrow();
    let mut request = bearer(
        &env.admin.access_token,
        new_showtime(&movie.movie_id, "Studio 1", reading),
    );
    request
        .metadata_mut()
        .insert("kursi-local-time", "start_time".parse().unwrap());
    let created = env
        .client()
        .await
        .create_showtime(request)
        .await
        .unwrap()
        .into_inner()
        .showtime
        .unwrap();
    // The cinema's clock is Asia/Jakarta, UTC+7.
    assert_eq!(instant(&created.start_time), reading - Duration::hours(7));
}
