//! Rows to contract messages: what callers see, and the events the outbox
//! stores.

use chrono::{DateTime, SecondsFormat, Utc};
use kursi_proto::catalog::v1 as pb;
use kursi_proto::google::longrunning as lro;
use pb::catalog_event::Event;
use prost::Message;
use service_kit::pages;
use service_kit::values::timestamp;
use uuid::Uuid;

use crate::db::Page;
use crate::db::movies::MovieRow;
use crate::db::operations::{OperationRow, Progress, Response};
use crate::db::showtimes::ShowtimeView;
use crate::domain::{MovieField, OperationName, OperationState, ShowtimeStatus};
use crate::events::CatalogChange;

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

/// An import's operation as it stands at `now` (a wait that is over is
/// not shown).
pub fn operation(row: &OperationRow, now: DateTime<Utc>) -> lro::Operation {
    let state = row.state();
    let result = match state {
        OperationState::Running => None,
        OperationState::Succeeded => row.response().map(|response| {
            let complete = row.finished_at.unwrap_or(row.updated_at);
            lro::operation::Result::Response(any(
                "ImportMoviesResponse",
                &import_response(&response, complete),
            ))
        }),
        OperationState::Failed | OperationState::Cancelled => Some(lro::operation::Result::Error(
            kursi_proto::google::rpc::Status {
                code: row.error_code.unwrap_or(tonic::Code::Unknown as i32),
                message: row.error_message.clone().unwrap_or_default(),
                details: Vec::new(),
            },
        )),
    };
    lro::Operation {
        name: OperationName::of(row.id).to_string(),
        metadata: Some(any("ImportMoviesMetadata", &import_metadata(row, now))),
        done: state.is_done(),
        result,
    }
}

/// A ListOperations page; its token holds the last operation's start (in
/// microseconds) and id.
pub fn operation_page(
    page: &Page<OperationRow>,
    now: DateTime<Utc>,
) -> lro::ListOperationsResponse {
    lro::ListOperationsResponse {
        operations: page.rows.iter().map(|row| operation(row, now)).collect(),
        next_page_token: pages::next_token(&page.rows, page.more, |row| {
            let start = row.created_at.timestamp_micros().to_string();
            pages::encode(&[&start, &row.id.to_string()])
        }),
        // One database: every operation is reachable.
        unreachable: Vec::new(),
    }
}

/// A message of this package packed in a `google.protobuf.Any`.
fn any(name: &str, message: &impl Message) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/kursi.catalog.v1.{name}"),
        value: message.encode_to_vec(),
    }
}

fn import_response(response: &Response, complete: DateTime<Utc>) -> pb::ImportMoviesResponse {
    pb::ImportMoviesResponse {
        created_count: response.created,
        updated_count: response.updated,
        complete_time: Some(timestamp(complete)),
        unchanged_count: response.unchanged,
        skipped: response
            .skipped
            .iter()
            .map(|s| pb::SkippedMovie {
                tmdb_id: s.tmdb_id,
                title: s.title.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
    }
}

fn import_metadata(row: &OperationRow, now: DateTime<Utc>) -> pb::ImportMoviesMetadata {
    let state = row.state();
    let progress = row.progress();
    let waiting = match (&progress.waiting_until, &progress.waiting_for) {
        (Some(until), Some(why)) if state == OperationState::Running && *until > now => {
            Some((*until, why.clone()))
        }
        _ => None,
    };
    let trigger = match row.trigger.as_str() {
        "request" => pb::ImportTrigger::Request,
        "start-up" => pb::ImportTrigger::StartUp,
        "interval" => pb::ImportTrigger::Interval,
        _ => pb::ImportTrigger::Unspecified,
    };
    pb::ImportMoviesMetadata {
        state: import_state(state) as i32,
        trigger: trigger as i32,
        requested_by: row.actor_id.map(|id| id.to_string()).unwrap_or_default(),
        page_count: row.pages,
        requests_made: progress.requests_made,
        pages_fetched: progress.pages_fetched,
        movies_fetched: progress.movies_fetched,
        retries: progress.retries,
        waiting_until: waiting.as_ref().map(|(until, _)| timestamp(*until)),
        waiting_for: waiting
            .as_ref()
            .map(|(_, why)| why.clone())
            .unwrap_or_default(),
        status_message: status_message(row, &progress, waiting.as_ref()),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        end_time: row.finished_at.map(timestamp),
    }
}

fn import_state(state: OperationState) -> pb::ImportState {
    match state {
        OperationState::Running => pb::ImportState::Running,
        OperationState::Succeeded => pb::ImportState::Succeeded,
        OperationState::Failed => pb::ImportState::Failed,
        OperationState::Cancelled => pb::ImportState::Cancelled,
    }
}

/// One line an admin reads: what the import is doing, or how it ended.
fn status_message(
    row: &OperationRow,
    progress: &Progress,
    waiting: Option<&(DateTime<Utc>, String)>,
) -> String {
    match row.state() {
        OperationState::Running => match waiting {
            Some((until, why)) => format!(
                "waiting on TheMovieDB until {} ({why})",
                until.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            None if row.cancel_requested_at.is_some() => "cancelling".into(),
            None => format!(
                "fetching from TheMovieDB: {} of {} page(s) and {} movie(s) fetched, {} \
                 request(s), {} retries",
                progress.pages_fetched,
                row.pages,
                progress.movies_fetched,
                progress.requests_made,
                progress.retries
            ),
        },
        OperationState::Succeeded => match row.response() {
            Some(r) => format!(
                "imported: {} created, {} updated, {} unchanged, {} skipped",
                r.created,
                r.updated,
                r.unchanged,
                r.skipped.len()
            ),
            None => "imported".into(),
        },
        OperationState::Failed => format!(
            "failed: {}",
            row.error_message.as_deref().unwrap_or("no reason recorded")
        ),
        OperationState::Cancelled => row
            .error_message
            .clone()
            .unwrap_or_else(|| "cancelled".into()),
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
