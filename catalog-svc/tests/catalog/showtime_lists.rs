//! ListShowtimes: ordered by start, then id; by movie; by day on the
//! cinema's clock; what has not ended yet; cancelled ones when asked; and
//! AIP-158 pages.

use chrono::Duration;
use kursi_proto::catalog::v1::*;

use crate::{Env, instant, jakarta, jakarta_day, tomorrow, violated_fields};

fn listing(movie_id: &str, date: &str, include_cancelled: bool) -> ListShowtimesRequest {
    ListShowtimesRequest {
        page_size: 0,
        page_token: String::new(),
        movie_id: movie_id.into(),
        date: date.into(),
        include_cancelled,
    }
}

fn ids(page: &ListShowtimesResponse) -> Vec<&str> {
    page.showtimes
        .iter()
        .map(|s| s.showtime_id.as_str())
        .collect()
}

#[tokio::test]
async fn showtimes_are_listed_by_start_then_id_and_by_movie() {
    let env = Env::start().await;
    let dune = env.movie("Dune", 155).await;
    let past_lives = env.movie("Past Lives", 105).await;
    let start = tomorrow();
    let late = env
        .showtime(&dune, "Studio 1", start + Duration::hours(5))
        .await;
    let a = env.showtime(&dune, "Studio 2", start).await.unwrap();
    let b = env.showtime(&past_lives, "Studio 3", start).await.unwrap();
    let early = env
        .showtime(&past_lives, "Studio 1", start - Duration::hours(4))
        .await;
    let (late, early) = (late.unwrap(), early.unwrap());
    let mut same_start = [a.showtime_id.clone(), b.showtime_id.clone()];
    same_start.sort();

    let all = env.list_showtimes(listing("", "", false)).await.unwrap();
    assert_eq!(
        ids(&all),
        [
            early.showtime_id.as_str(),
            &same_start[0],
            &same_start[1],
            &late.showtime_id
        ]
    );
    assert_eq!(all.total_size, 4);

    let of_dune = env
        .list_showtimes(listing(&dune.movie_id, "", false))
        .await
        .unwrap();
    assert_eq!(ids(&of_dune), [a.showtime_id.as_str(), &late.showtime_id]);
    assert_eq!(of_dune.total_size, 2);
    assert!(of_dune.showtimes.iter().all(|s| s.movie_title == "Dune"));
    let unknown = uuid::Uuid::now_v7().to_string();
    let none = env
        .list_showtimes(listing(&unknown, "", false))
        .await
        .unwrap();
    assert_eq!((none.showtimes.len(), none.total_size), (0, 0));
}

#[tokio::test]
async fn a_day_is_a_day_on_the_cinemas_clock() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    // Jakarta keeps no daylight saving time: its days are 24 hours.
    let day = jakarta(2, 0, 0);
    let next_day = day + Duration::days(1);
    let at = |offset: Duration| day + offset;
    let midnight = env.showtime(&movie, "Studio 1", day).await.unwrap();
    let late = env
        .showtime(&movie, "Studio 2", at(Duration::minutes(23 * 60 + 30)))
        .await;
    let next_midnight = env.showtime(&movie, "Studio 3", next_day).await.unwrap();
    let after_midnight = env
        .showtime(&movie, "Studio 4", at(Duration::minutes(24 * 60 + 30)))
        .await;
    let (late, after_midnight) = (late.unwrap(), after_midnight.unwrap());
    // 23:30 in Jakarta is 16:30 UTC, on the same day there.
    use chrono::Timelike;
    assert_eq!(instant(&late.start_time).hour(), 16);
    assert_eq!(jakarta_day(instant(&late.start_time)), jakarta_day(day));

    let listed = env
        .list_showtimes(listing("", &jakarta_day(day), false))
        .await
        .unwrap();
    assert_eq!(
        ids(&listed),
        [midnight.showtime_id.as_str(), &late.showtime_id]
    );
    assert_eq!(listed.total_size, 2);
    let next = env
        .list_showtimes(listing("", &jakarta_day(next_day), false))
        .await
        .unwrap();
    assert_eq!(
        ids(&next),
        [
            next_midnight.showtime_id.as_str(),
            &after_midnight.showtime_id
        ]
    );
    let of_movie_on_day = env
        .list_showtimes(listing(&movie.movie_id, &jakarta_day(next_day), false))
        .await
        .unwrap();
    assert_eq!(of_movie_on_day.total_size, 2);
}

#[tokio::test]
async fn without_a_date_only_showtimes_still_to_end_are_listed_and_cancelled_ones_when_asked() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    let start = tomorrow();
    let ended = env.showtime(&movie, "Studio 1", start).await.unwrap();
    let running = env.showtime(&movie, "Studio 2", start).await.unwrap();
    let to_come = env.showtime(&movie, "Studio 3", start).await.unwrap();
    let cancelled = env.showtime(&movie, "Studio 4", start).await.unwrap();
    env.cancel(&cancelled.showtime_id, "").await.unwrap();
    env.exec(&format!(
        "UPDATE showtimes SET start_time = now() - interval '3 hours',
             end_time = now() - interval '1 minute', free_at = now() + interval '14 minutes'
         WHERE id = '{}';
         UPDATE showtimes SET start_time = now() - interval '1 hour',
             end_time = now() + interval '1 hour', free_at = now() + interval '75 minutes'
         WHERE id = '{}'",
        ended.showtime_id, running.showtime_id
    ))
    .await;

    let current = env.list_showtimes(listing("", "", false)).await.unwrap();
    assert_eq!(
        ids(&current),
        [running.showtime_id.as_str(), &to_come.showtime_id]
    );
    assert_eq!(current.total_size, 2);
    let with_cancelled = env.list_showtimes(listing("", "", true)).await.unwrap();
    assert_eq!(with_cancelled.total_size, 3);
    assert!(ids(&with_cancelled).contains(&cancelled.showtime_id.as_str()));
    assert!(!ids(&with_cancelled).contains(&ended.showtime_id.as_str()));
    // A day lists what started on it, ended or not.
    let started = instant(
        &env.get_showtime(&ended.showtime_id)
            .await
            .unwrap()
            .start_time,
    );
    let day = jakarta_day(started);
    let on_that_day = env.list_showtimes(listing("", &day, false)).await.unwrap();
    assert!(ids(&on_that_day).contains(&ended.showtime_id.as_str()));
    let started_that_day = env
        .count(&format!(
            "SELECT count(*) FROM showtimes WHERE status = 'SCHEDULED'
               AND (start_time AT TIME ZONE 'Asia/Jakarta')::date = '{day}'"
        ))
        .await;
    assert_eq!(on_that_day.total_size, started_that_day);
    // GetShowtime answers cancelled ones too.
    let read = env.get_showtime(&cancelled.showtime_id).await.unwrap();
    assert_eq!(read.status, ShowtimeStatus::Cancelled as i32);
}

#[tokio::test]
async fn showtime_pages_default_to_50_cap_at_200_and_walk_every_showtime_once() {
    let env = Env::start().await;
    let movie = env.movie("Dune", 155).await;
    // Two by two at the same start, so pages end between equal starts.
    env.exec(&format!(
        "INSERT INTO showtimes (id, movie_id, auditorium, start_time, end_time, free_at,
                                price, seat_rows, seats_per_row, status)
         SELECT gen_random_uuid(), '{}', 'Studio ' || i,
                now() + (i / 2) * interval '1 hour' + interval '1 day',
                now() + (i / 2) * interval '1 hour' + interval '1 day 3 hours',
                now() + (i / 2) * interval '1 hour' + interval '1 day 4 hours',
                50000, 5, 8, 'SCHEDULED'
         FROM generate_series(1, 205) i",
        movie.movie_id
    ))
    .await;
    let expected = env
        .texts("SELECT id::text FROM showtimes ORDER BY start_time, id")
        .await;

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token = String::new();
    loop {
        let mut request = listing("", "", false);
        request.page_token = token;
        let page = env.list_showtimes(request).await.unwrap();
        assert_eq!(page.total_size, 205);
        sizes.push(page.showtimes.len());
        seen.extend(page.showtimes.iter().map(|s| s.showtime_id.clone()));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(sizes, [50, 50, 50, 50, 5]);
    assert_eq!(seen, expected);

    let mut big = listing("", "", false);
    big.page_size = 1000;
    let capped = env.list_showtimes(big).await.unwrap();
    assert_eq!(capped.showtimes.len(), 200);
    assert!(!capped.next_page_token.is_empty());

    let mut negative = listing("", "", false);
    negative.page_size = -1;
    let err = env.list_showtimes(negative).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["page_size"]);
    let id = uuid::Uuid::now_v7().to_string();
    for token in [
        "garbage".to_owned(),
        service_kit::pages::encode(&["soon", &id]),
        service_kit::pages::encode(&["1700000000000000", "x"]),
        // Instants no showtime can start at, beyond PostgreSQL's years.
        service_kit::pages::encode(&["-8000000000000000000", &id]),
        service_kit::pages::encode(&["8000000000000000000", &id]),
    ] {
        let mut request = listing("", "", false);
        request.page_token = token.clone();
        let err = env.list_showtimes(request).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["page_token"], "{token}");
    }
}
