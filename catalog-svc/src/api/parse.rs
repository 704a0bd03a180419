//! Requests into domain values. Every field is checked and every problem
//! reported at once, each naming its field; nothing reaches the database
//! until the whole request is valid.

use chrono::{DateTime, Datelike, Utc};
use kursi_proto::catalog::v1 as pb;
use service_kit::pages::{self, PageSizes};
use service_kit::values::{
    LocalTimes, Violations, parse_id, parse_optional_id, parse_required_timestamp, parse_text,
};
use service_kit::{FieldViolation, ServiceError};
use uuid::Uuid;

use crate::db::{PageRequest, movies, operations, showtimes};
use crate::domain::OperationName;
use crate::domain::values::{
    Duration, Genres, Overview, Title, parse_poster_url, parse_release_date, parse_tmdb_id,
};
use crate::domain::{
    Auditorium, FieldValue, MovieContent, MovieEdit, MovieField, Price, ScheduleRules, SeatLayout,
};
use crate::showtimes::ShowtimeDraft;

/// The seven fields of a movie, as CreateMovie and UpdateMovie carry them.
/// (Two message types with the same fields: [`movie_fields!`] reads them.)
struct MovieFields<'a> {
    title: &'a str,
    genres: &'a [String],
    duration_minutes: i32,
    overview: &'a str,
    release_date: &'a str,
    poster_url: &'a str,
    tmdb_id: i64,
}

/// The [`MovieFields`] of a CreateMovie or UpdateMovie request.
macro_rules! movie_fields {
    ($r:expr) => {
        MovieFields {
            title: &$r.title,
            genres: &$r.genres,
            duration_minutes: $r.duration_minutes,
            overview: &$r.overview,
            release_date: &$r.release_date,
            poster_url: &$r.poster_url,
            tmdb_id: $r.tmdb_id,
        }
    };
}

impl MovieFields<'_> {
    /// The new value of `field`, checked.
    fn value(&self, field: MovieField, v: &mut Violations) -> Option<FieldValue> {
        match field {
            MovieField::Title => v.check(Title::parse(self.title)).map(FieldValue::Title),
            MovieField::Genres => v.check(Genres::parse(self.genres)).map(FieldValue::Genres),
            MovieField::DurationMinutes => v
                .check(Duration::parse(self.duration_minutes))
                .map(FieldValue::DurationMinutes),
            MovieField::Overview => v
                .check(Overview::parse(self.overview))
                .map(FieldValue::Overview),
            MovieField::ReleaseDate => v
                .check(parse_release_date(self.release_date))
                .map(FieldValue::ReleaseDate),
            MovieField::PosterUrl => v
                .check(parse_poster_url(self.poster_url))
                .map(FieldValue::PosterUrl),
            MovieField::TmdbId => v.check(parse_tmdb_id(self.tmdb_id)).map(FieldValue::TmdbId),
        }
    }

    fn values(&self, fields: &[MovieField], v: &mut Violations) -> Option<Vec<FieldValue>> {
        let values: Vec<Option<FieldValue>> = fields.iter().map(|f| self.value(*f, v)).collect();
        values.into_iter().collect()
    }
}

pub fn new_movie(r: &pb::CreateMovieRequest) -> Result<MovieContent, ServiceError> {
    let mut v = Violations::default();
    let values = movie_fields!(r).values(&MovieField::ALL, &mut v);
    let values = v.finish(values)?;
    let blank = MovieContent {
        title: String::new(),
        genres: Vec::new(),
        duration_minutes: 0,
        overview: String::new(),
        release_date: None,
        poster_url: None,
        tmdb_id: None,
    };
    Ok(MovieEdit(values).apply(&blank, &[]).content)
}

/// The movie and the change: the fields the mask names, or all of them.
pub fn movie_edit(r: &pb::UpdateMovieRequest) -> Result<(Uuid, MovieEdit), ServiceError> {
    let mut v = Violations::default();
    let id = v.check(parse_id("movie_id", &r.movie_id));
    let paths: Vec<&str> = r
        .update_mask
        .as_ref()
        .map(|mask| mask.paths.iter().map(|p| p.trim()).collect())
        .unwrap_or_default();
    let named = v.check(MovieField::from_mask(&paths).map_err(FieldViolation::from));
    let values = named.and_then(|named| movie_fields!(r).values(&named, &mut v));
    let (id, values) = v.finish(id.zip(values))?;
    Ok((id, MovieEdit(values)))
}

const MOVIE_PAGES: PageSizes = PageSizes {
    default: 20,
    max: 100,
};
const OPERATION_PAGES: PageSizes = PageSizes {
    default: 20,
    max: 100,
};
const SHOWTIME_PAGES: PageSizes = PageSizes {
    default: 50,
    max: 200,
};

/// ListMovies: the page size, the position, the filter.
pub fn movie_list(
    r: &pb::ListMoviesRequest,
) -> Result<PageRequest<movies::Filter, (String, Uuid)>, ServiceError> {
    let size = MOVIE_PAGES.get(r.page_size)?;
    let after = movie_token(&r.page_token)?;
    Ok(PageRequest {
        filter: movie_filter(r)?,
        after,
        size,
    })
}

/// ListShowtimes: the page size, the position, the filter (see
/// [`showtime_filter`]).
pub fn showtime_list(
    r: &pb::ListShowtimesRequest,
    rules: &ScheduleRules,
    now: DateTime<Utc>,
) -> Result<PageRequest<showtimes::Filter, (DateTime<Utc>, Uuid)>, ServiceError> {
    let size = SHOWTIME_PAGES.get(r.page_size)?;
    let after = timed_token(&r.page_token)?;
    Ok(PageRequest {
        filter: showtime_filter(r, rules, now)?,
        after,
        size,
    })
}

/// ListMovies' filter: the title text and genre, both optional.
fn movie_filter(r: &pb::ListMoviesRequest) -> Result<movies::Filter, ServiceError> {
    let mut v = Violations::default();
    let query = v.check(parse_text("query", &r.query, Title::MAX, false));
    let genre = v.check(parse_text("genre", &r.genre, Genres::MAX_NAME, false));
    let (query, genre) = v.finish(query.zip(genre))?;
    Ok(movies::Filter {
        query: Some(query).filter(|q| !q.is_empty()),
        genre: Some(genre).filter(|g| !g.is_empty()),
    })
}

/// A ListMovies page token: the last movie's title and id.
fn movie_token(token: &str) -> Result<Option<(String, Uuid)>, ServiceError> {
    let Some(key) = pages::decode(token, 2)? else {
        return Ok(None);
    };
    let id = Uuid::parse_str(&key[1]).map_err(|_| invalid_token())?;
    // Only a title a movie can have: a NUL would reach PostgreSQL, which
    // cannot hold one, and fail the query as INTERNAL.
    let title = &key[0];
    if title.chars().count() > Title::MAX || title.chars().any(char::is_control) {
        return Err(invalid_token());
    }
    Ok(Some((title.clone(), id)))
}

fn invalid_token() -> ServiceError {
    ServiceError::invalid("page_token", "is not a token this API returned")
}

pub fn new_showtime(
    call: &tonic::Request<pb::CreateShowtimeRequest>,
    rules: &ScheduleRules,
    now: DateTime<Utc>,
) -> Result<ShowtimeDraft, ServiceError> {
    let r = call.get_ref();
    let local = LocalTimes::of(call);
    let mut v = Violations::default();
    let movie_id = v.check(parse_id("movie_id", &r.movie_id));
    let auditorium = v.check(Auditorium::parse(&r.auditorium));
    let start = v
        .check(parse_required_timestamp(
            "start_time",
            r.start_time.as_ref(),
        ))
        .and_then(|start| v.check(local.resolve("start_time", start, rules.time_zone)))
        .and_then(|start| {
            v.check(
                rules
                    .check_start(start, now)
                    .map(|()| start)
                    .map_err(FieldViolation::from),
            )
        });
    let price = v.check(Price::parse(r.price));
    let layout = match &r.seat_layout {
        Some(layout) => v.check_all(SeatLayout::parse(layout.rows, layout.seats_per_row)),
        None => {
            v.push("seat_layout", "is required: rows and seats_per_row");
            None
        }
    };
    let draft = (|| {
        Some(ShowtimeDraft {
            movie_id: movie_id?,
            auditorium: auditorium?,
            start: start?,
            price: price?,
            layout: layout?,
        })
    })();
    v.finish(draft)
}

/// ListShowtimes' filter; without a day, the showtimes still to end at `now`.
fn showtime_filter(
    r: &pb::ListShowtimesRequest,
    rules: &ScheduleRules,
    now: DateTime<Utc>,
) -> Result<showtimes::Filter, ServiceError> {
    let mut v = Violations::default();
    let movie_id = v.check(parse_optional_id("movie_id", &r.movie_id));
    let day = match r.date.trim() {
        "" => Some(None),
        raw => v
            .check(service_kit::values::parse_day("date", raw))
            .map(Some),
    };
    let (movie_id, day) = v.finish(movie_id.zip(day))?;
    Ok(showtimes::Filter {
        movie_id,
        starts: day.map(|day| rules.day(day)),
        not_ended_at: day.is_none().then_some(now),
        include_cancelled: r.include_cancelled,
    })
}

/// A ListShowtimes page token: the last showtime's start and id.
/// A page token holding the last item's time (in microseconds) and id: a
/// ListShowtimes token (its start) or a ListOperations one (its creation).
fn timed_token(token: &str) -> Result<Option<(DateTime<Utc>, Uuid)>, ServiceError> {
    let Some(key) = pages::decode(token, 2)? else {
        return Ok(None);
    };
    let micros: i64 = key[0].parse().map_err(|_| invalid_token())?;
    // Only a time a row can have (a contract timestamp, years 1 to 9999):
    // chrono reaches further than PostgreSQL, which would refuse the query
    // as INTERNAL.
    let start = DateTime::from_timestamp_micros(micros)
        .filter(|start| (1..=9999).contains(&start.year()))
        .ok_or_else(invalid_token)?;
    let id = Uuid::parse_str(&key[1]).map_err(|_| invalid_token())?;
    Ok(Some((start, id)))
}

/// ImportMovies' page count: 1 to 10, 0 meaning 1.
pub fn import_pages(requested: i32) -> Result<u32, ServiceError> {
    match requested {
        0 => Ok(1),
        1..=10 => Ok(requested as u32),
        _ => Err(ServiceError::invalid(
            "page_count",
            "must be between 1 and 10 (20 movies a page); 0 means 1",
        )),
    }
}

/// A cancellation's optional reason, at most 500 characters.
pub fn cancel_reason(raw: &str) -> Result<Option<String>, ServiceError> {
    let reason =
        parse_text("reason", raw, 500, true).map_err(|v| ServiceError::InvalidArgument(vec![v]))?;
    Ok(Some(reason).filter(|r| !r.is_empty()))
}

/// An operation's `name`: `operations/{uuid}`.
pub fn operation_name(raw: &str) -> Result<OperationName, ServiceError> {
    OperationName::parse(raw).map_err(ServiceError::from)
}

/// ListOperations: the parent `name` (empty or `operations`), the filter
/// (`done=true`, `done=false` or none: `Some(done)`), the page.
pub fn operation_list(
    r: &kursi_proto::google::longrunning::ListOperationsRequest,
) -> Result<operations::ListRequest, ServiceError> {
    let mut v = Violations::default();
    if !matches!(r.name.trim(), "" | "operations") {
        v.push(
            "name",
            "must be empty or \"operations\", the collection of every operation",
        );
    }
    let done = match r.filter.split_whitespace().collect::<String>().as_str() {
        "" => Some(None),
        "done=true" => Some(Some(true)),
        "done=false" => Some(Some(false)),
        _ => {
            v.push("filter", "must be empty, done=true or done=false");
            None
        }
    };
    let filter = v.finish(done)?;
    Ok(PageRequest {
        filter,
        after: timed_token(&r.page_token)?,
        size: OPERATION_PAGES.get(r.page_size)?,
    })
}

/// How long WaitOperation may wait: its `timeout` (none: as long as the
/// call may take), within the call's own deadline (`grpc-timeout`) and the
/// server's request timeout, less a margin so that the answer arrives
/// before either.
pub fn wait_limit(
    timeout: Option<&prost_types::Duration>,
    deadline: Option<std::time::Duration>,
    server: std::time::Duration,
) -> Result<std::time::Duration, ServiceError> {
    let asked = match timeout {
        None => None,
        Some(timeout) => Some(
            std::time::Duration::try_from(*timeout)
                .map_err(|_| ServiceError::invalid("timeout", "must not be negative"))?,
        ),
    };
    let longest = [asked, deadline]
        .into_iter()
        .flatten()
        .fold(server, std::cmp::min);
    let margin = (longest / 5).min(std::time::Duration::from_millis(500));
    Ok(longest.saturating_sub(margin))
}

/// A call's `grpc-timeout` (e.g. `30S`, `500m`): its deadline, if it has
/// one the gRPC spec allows.
pub fn grpc_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<std::time::Duration> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let digits = value.get(..value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    let unit = match value.get(value.len() - 1..)? {
        "H" => std::time::Duration::from_secs(3600),
        "M" => std::time::Duration::from_secs(60),
        "S" => std::time::Duration::from_secs(1),
        "m" => std::time::Duration::from_millis(1),
        "u" => std::time::Duration::from_micros(1),
        "n" => std::time::Duration::from_nanos(1),
        _ => return None,
    };
    unit.checked_mul(u32::try_from(amount).ok()?)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn grpc_timeouts_are_read_as_the_spec_writes_them() {
        let mut metadata = tonic::metadata::MetadataMap::new();
        let mut read = |value: &'static str| {
            metadata.insert("grpc-timeout", value.parse().unwrap());
            grpc_timeout(&metadata)
        };
        assert_eq!(read("30S"), Some(Duration::from_secs(30)));
        assert_eq!(read("500m"), Some(Duration::from_millis(500)));
        assert_eq!(read("2M"), Some(Duration::from_secs(120)));
        assert_eq!(read("S"), None);
        assert_eq!(read("123456789S"), None);
        assert_eq!(read("5x"), None);
        assert_eq!(grpc_timeout(&tonic::metadata::MetadataMap::new()), None);
    }

    #[test]
    fn a_wait_ends_before_the_call_would() {
        let server = Duration::from_secs(30);
        let five = prost_types::Duration {
            seconds: 5,
            nanos: 0,
        };
        assert_eq!(
            wait_limit(Some(&five), None, server).unwrap(),
            Duration::from_millis(4500)
        );
        // The call's deadline is shorter than the timeout asked for.
        assert_eq!(
            wait_limit(Some(&five), Some(Duration::from_secs(1)), server).unwrap(),
            Duration::from_millis(800)
        );
        assert_eq!(
            wait_limit(None, None, server).unwrap(),
            Duration::from_millis(29_500)
        );
        let negative = prost_types::Duration {
            seconds: -1,
            nanos: 0,
        };
        assert!(wait_limit(Some(&negative), None, server).is_err());
    }

    #[test]
    fn operation_lists_take_a_done_filter_and_the_collection_as_parent() {
        let list = |name: &str, filter: &str| {
            operation_list(&kursi_proto::google::longrunning::ListOperationsRequest {
                name: name.into(),
                filter: filter.into(),
                ..Default::default()
            })
        };
        assert_eq!(list("", "").unwrap().filter, None);
        assert_eq!(
            list("operations", "done = true").unwrap().filter,
            Some(true)
        );
        assert_eq!(list("", "done=false").unwrap().filter, Some(false));
        assert_eq!(list("", "").unwrap().size, 20);
        let Err(ServiceError::InvalidArgument(violations)) = list("movies", "state=RUNNING") else {
            panic!("accepted");
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["name", "filter"]);
    }
}
