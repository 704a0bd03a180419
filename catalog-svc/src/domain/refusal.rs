//! Why the catalog says no. Every rule that refuses a command is a variant
//! here, carrying what its message names, and `From<Refusal> for
//! ServiceError` below is the one place each gets its gRPC code.

use chrono::{DateTime, Utc};
use service_kit::{FieldViolation, ServiceError};
use uuid::Uuid;

use super::MovieField;
use super::operation::OperationState;

/// A rule that a field of the request breaks: INVALID_ARGUMENT naming the
/// field, reported together with the request's other problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldRefusal {
    /// A new showtime starts now or earlier.
    #[error("must be in the future")]
    StartNotInTheFuture,
    /// A new showtime starts beyond the schedule window.
    #[error("must be within {days} days from now (SCHEDULE_WINDOW_DAYS)")]
    StartBeyondTheWindow { days: i64 },
    /// An update mask names fields a movie does not have.
    #[error("unknown field(s) {}; a movie's fields are {}", .unknown.join(", "), movie_fields())]
    UnknownMovieFields { unknown: Vec<String> },
    /// Two genres are the same to PostgreSQL's lower(), which the table's
    /// check uses; `Genres` compares as lower() does, so this is a backstop.
    #[error("two of them are the same genre regardless of case")]
    GenresAlike,
    /// An operation's name is `operations/{uuid}`.
    #[error("must be an operation's name, operations/{{uuid}}")]
    NotAnOperationName,
}

impl FieldRefusal {
    /// The request field the rule is about.
    pub fn field(&self) -> &'static str {
        match self {
            FieldRefusal::StartNotInTheFuture | FieldRefusal::StartBeyondTheWindow { .. } => {
                "start_time"
            }
            FieldRefusal::UnknownMovieFields { .. } => "update_mask",
            FieldRefusal::GenresAlike => "genres",
            FieldRefusal::NotAnOperationName => "name",
        }
    }
}

fn movie_fields() -> String {
    let names: Vec<&str> = MovieField::ALL.iter().map(|f| f.name()).collect();
    names.join(", ")
}

impl From<FieldRefusal> for FieldViolation {
    fn from(refusal: FieldRefusal) -> Self {
        FieldViolation::new(refusal.field(), refusal.to_string())
    }
}

/// A command the catalog's rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{}: {}", .0.field(), .0)]
    Field(#[from] FieldRefusal),
    #[error("no movie with id {0}")]
    NoMovie(Uuid),
    #[error("no showtime with id {0}")]
    NoShowtime(Uuid),
    /// TheMovieDB ids are unique.
    #[error("another movie already has tmdb_id {tmdb_id}")]
    TmdbIdTaken { tmdb_id: i64 },
    /// A movie goes only when none of its SCHEDULED showtimes is still to
    /// end.
    #[error("{title} has {count} scheduled showtime(s) still to end; cancel them first")]
    MovieHasShowtimesToCome { title: String, count: i64 },
    /// Only a showtime still to end can be cancelled.
    #[error(
        "the showtime ended at {}; only showtimes still to end can be cancelled",
        .end.to_rfc3339()
    )]
    ShowtimeEnded { end: DateTime<Utc> },
    /// Another SCHEDULED showing holds the auditorium.
    #[error(transparent)]
    AuditoriumTaken(Box<Clash>),
    /// The exclusion constraint refused a showing over `[start, free_at)`:
    /// a concurrent one took the auditorium first. The command names the
    /// winner ([`Refusal::AuditoriumTaken`]) when it can still find it; this
    /// is the answer when it has gone again.
    #[error("a concurrent change took the auditorium and released it again; retry")]
    AuditoriumTakenMeanwhile {
        start: DateTime<Utc>,
        free_at: DateTime<Utc>,
    },
    /// One import runs at a time, across replicas. ImportMovies answers the
    /// running import's operation instead; this is the answer only when
    /// that one cannot be found (it ended meanwhile, again and again).
    #[error("another TheMovieDB import is running; try again when it has finished")]
    ImportRunning,
    #[error("no operation named {0}")]
    NoOperation(String),
    /// Only a running operation can be cancelled (a cancelled one is
    /// answered as it is).
    #[error("the operation has already {state}; only a running operation can be cancelled")]
    OperationEnded { state: OperationState },
    /// DeleteOperation forgets only an operation that has ended.
    #[error(
        "the operation is still running; cancel it (CancelOperation) and delete it once it has \
         ended"
    )]
    OperationRunning,
    /// A movie the import was adding was added by someone else meanwhile.
    #[error("a movie with TheMovieDB id {tmdb_id} was added meanwhile; run the import again")]
    ImportOvertaken { tmdb_id: i64 },
}

/// The showing in the way of a new one, as people at the cinema read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{auditorium} is taken from {from} to {until} ({time_zone}, turnaround of \
     {turnaround_minutes} minutes included) by {movie_title} (showtime {showtime_id})"
)]
pub struct Clash {
    pub auditorium: String,
    /// Its start, on the cinema's clock.
    pub from: String,
    /// When the auditorium is free again, on the cinema's clock.
    pub until: String,
    pub time_zone: &'static str,
    pub turnaround_minutes: i64,
    pub movie_title: String,
    pub showtime_id: Uuid,
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            Refusal::Field(field) => ServiceError::InvalidArgument(vec![field.into()]),
            Refusal::NoMovie(_) | Refusal::NoShowtime(_) | Refusal::NoOperation(_) => {
                ServiceError::NotFound(message)
            }
            Refusal::TmdbIdTaken { .. } => ServiceError::AlreadyExists(message),
            Refusal::MovieHasShowtimesToCome { .. }
            | Refusal::ShowtimeEnded { .. }
            | Refusal::AuditoriumTaken(_)
            | Refusal::OperationEnded { .. }
            | Refusal::OperationRunning => ServiceError::FailedPrecondition(message),
            Refusal::AuditoriumTakenMeanwhile { .. }
            | Refusal::ImportRunning
            | Refusal::ImportOvertaken { .. } => ServiceError::Aborted(message),
        }
    }
}

impl From<FieldRefusal> for ServiceError {
    fn from(refusal: FieldRefusal) -> Self {
        Refusal::Field(refusal).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_gets_its_code_and_a_field_rule_names_its_field() {
        let ServiceError::InvalidArgument(violations) =
            ServiceError::from(FieldRefusal::StartBeyondTheWindow { days: 365 })
        else {
            panic!("not INVALID_ARGUMENT");
        };
        assert_eq!(
            violations,
            [FieldViolation::new(
                "start_time",
                "must be within 365 days from now (SCHEDULE_WINDOW_DAYS)"
            )]
        );
        let unknown = FieldRefusal::UnknownMovieFields {
            unknown: vec!["rating".into()],
        };
        assert!(
            unknown.to_string().starts_with(
                "unknown field(s) rating; a movie's fields are title, genres, duration_minutes"
            ),
            "{unknown}"
        );
        assert!(matches!(
            ServiceError::from(Refusal::TmdbIdTaken { tmdb_id: 550 }),
            ServiceError::AlreadyExists(m) if m.contains("550")
        ));
        assert!(matches!(
            ServiceError::from(Refusal::NoShowtime(Uuid::nil())),
            ServiceError::NotFound(_)
        ));
        assert!(matches!(
            ServiceError::from(Refusal::ImportRunning),
            ServiceError::Aborted(_)
        ));
        assert!(matches!(
            ServiceError::from(Refusal::NoOperation("operations/x".into())),
            ServiceError::NotFound(m) if m == "no operation named operations/x"
        ));
        assert!(matches!(
            ServiceError::from(Refusal::OperationEnded { state: OperationState::Failed }),
            ServiceError::FailedPrecondition(m) if m.contains("already failed")
        ));
        assert!(matches!(
            ServiceError::from(Refusal::OperationRunning),
            ServiceError::FailedPrecondition(_)
        ));
        let ServiceError::InvalidArgument(violations) =
            ServiceError::from(FieldRefusal::NotAnOperationName)
        else {
            panic!("not INVALID_ARGUMENT");
        };
        assert_eq!(violations[0].field, "name");
    }

    #[test]
    fn a_clash_names_the_showing_in_the_way() {
        let clash = Clash {
            auditorium: "Studio 1".into(),
            from: "2030-01-02 19:00".into(),
            until: "2030-01-02 21:50".into(),
            time_zone: "Asia/Jakarta",
            turnaround_minutes: 15,
            movie_title: "Dune".into(),
            showtime_id: Uuid::nil(),
        };
        let ServiceError::FailedPrecondition(message) =
            ServiceError::from(Refusal::AuditoriumTaken(Box::new(clash)))
        else {
            panic!("not FAILED_PRECONDITION");
        };
        assert_eq!(
            message,
            "Studio 1 is taken from 2030-01-02 19:00 to 2030-01-02 21:50 (Asia/Jakarta, \
             turnaround of 15 minutes included) by Dune (showtime \
             00000000-0000-0000-0000-000000000000)"
        );
    }
}
