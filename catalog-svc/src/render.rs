//! Rows to contract messages: what callers see, and the events the outbox
//! stores.

use chrono::{DateTime, Utc};
use kursi_proto::catalog::v1 as pb;
use pb::catalog_event::Event;
use service_kit::pages;
use service_kit::values::timestamp;
use uuid::Uuid;

use crate::db::Page;
use crate::db::movies::MovieRow;
use crate::db::showtimes::ShowtimeView;
use crate::domain::{MovieField, ShowtimeStatus};
use crate::events::CatalogChange;
use crate::import::Summary;

pub const CURRENCY: &str = "IDR";

pub fn movie(row: &MovieRow) -> pb::Movie {
    pb::Movie {
        movie_id: row.id.to_string(),
        title: row.title.clone(),
        genres: row.genres.clone(),
        duration_minutes: row.duration_minutes,
        overview: row.overview.clone(),
        release_date: row
            .release_date
            .map(|day| day.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        poster_url: row.poster_url.clone().unwrap_or_default(),
        tmdb_id: row.tmdb_id.unwrap_or_default(),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

/// A ListMovies page; its token holds the last movie's title and id.
pub fn movie_page(page: &Page<MovieRow>) -> pb::ListMoviesResponse {
    pb::ListMoviesResponse {
        movies: page.rows.iter().map(movie).collect(),
        next_page_token: pages::next_token(&page.rows, page.more, |row| {
            pages::encode(&[&row.title, &row.id.to_string()])
        }),
        total_size: page.total,
    }
}

fn status(row: &crate::db::showtimes::ShowtimeRow) -> i32 {
    match row.status() {
        Some(ShowtimeStatus::Scheduled) => pb::ShowtimeStatus::Scheduled as i32,
        Some(ShowtimeStatus::Cancelled) => pb::ShowtimeStatus::Cancelled as i32,
        None => pb::ShowtimeStatus::Unspecified as i32,
    }
}

pub fn showtime(view: &ShowtimeView) -> pb::Showtime {
    let row = &view.row;
    pb::Showtime {
        showtime_id: row.id.to_string(),
        movie_id: row.movie_id.to_string(),
        movie_title: view.movie_title.clone(),
        auditorium: row.auditorium.clone(),
        start_time: Some(timestamp(row.start_time)),
        end_time: Some(timestamp(row.end_time)),
        price: row.price,
        currency: CURRENCY.into(),
        seat_layout: Some(pb::SeatLayout {
            rows: row.seat_rows,
            seats_per_row: row.seats_per_row,
        }),
        seat_capacity: row.seat_rows * row.seats_per_row,
        status: status(row),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        cancel_reason: row.cancel_reason.clone().unwrap_or_default(),
        cancel_time: row.cancelled_at.map(timestamp),
    }
}

/// A ListShowtimes page; its token holds the last showtime's start (in
/// microseconds) and id.
pub fn showtime_page(page: &Page<ShowtimeView>) -> pb::ListShowtimesResponse {
    pb::ListShowtimesResponse {
        showtimes: page.rows.iter().map(showtime).collect(),
        next_page_token: pages::next_token(&page.rows, page.more, |view| {
            let start = view.row.start_time.timestamp_micros().to_string();
            pages::encode(&[&start, &view.row.id.to_string()])
        }),
        total_size: page.total,
    }
}

pub fn import_summary(summary: &Summary) -> pb::ImportMoviesResponse {
    pb::ImportMoviesResponse {
        created_count: summary.created,
        updated_count: summary.updated,
        complete_time: Some(timestamp(summary.completed_at)),
        unchanged_count: summary.unchanged,
        skipped: summary
            .skipped
            .iter()
            .map(|s| pb::SkippedMovie {
                tmdb_id: s.tmdb_id,
                title: s.title.clone(),
                reason: s.reason.to_string(),
            })
            .collect(),
    }
}

/// An event's envelope, its position left 0 until it is read back.
pub fn envelope(
    movie_id: Uuid,
    showtime_id: Option<Uuid>,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    event: Event,
) -> pb::CatalogEvent {
    pb::CatalogEvent {
        position: 0,
        movie_id: movie_id.to_string(),
        showtime_id: showtime_id.map(|id| id.to_string()).unwrap_or_default(),
        event_time: Some(timestamp(at)),
        actor_id: actor.map(|id| id.to_string()).unwrap_or_default(),
        event: Some(event),
    }
}

pub fn movie_created(row: &MovieRow) -> CatalogChange {
    movie_event(
        row,
        Event::MovieCreated(pb::MovieCreated {
            movie: Some(movie(row)),
        }),
    )
}

pub fn movie_updated(row: &MovieRow, changed: &[MovieField]) -> CatalogChange {
    movie_event(
        row,
        Event::MovieUpdated(pb::MovieUpdated {
            movie: Some(movie(row)),
            changed_fields: changed.iter().map(|f| f.name().into()).collect(),
        }),
    )
}

pub fn movie_deleted(row: &MovieRow) -> CatalogChange {
    movie_event(
        row,
        Event::MovieDeleted(pb::MovieDeleted {
            movie_id: row.id.to_string(),
            title: row.title.clone(),
            tmdb_id: row.tmdb_id.unwrap_or_default(),
        }),
    )
}

pub fn showtime_scheduled(view: &ShowtimeView) -> CatalogChange {
    showtime_event(
        view,
        Event::ShowtimeScheduled(pb::ShowtimeScheduled {
            showtime: Some(showtime(view)),
        }),
    )
}

pub fn showtime_cancelled(view: &ShowtimeView) -> CatalogChange {
    showtime_event(
        view,
        Event::ShowtimeCancelled(pb::ShowtimeCancelled {
            showtime: Some(showtime(view)),
        }),
    )
}

/// An event filed under the movie.
fn movie_event(row: &MovieRow, event: Event) -> CatalogChange {
    CatalogChange {
        movie_id: row.id,
        showtime_id: None,
        event,
    }
}

/// An event filed under the showtime.
fn showtime_event(view: &ShowtimeView, event: Event) -> CatalogChange {
    CatalogChange {
        movie_id: view.row.movie_id,
        showtime_id: Some(view.row.id),
        event,
    }
}
