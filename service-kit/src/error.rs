//! The one mapping from what can go wrong in a service to a `tonic::Status`.
//!
//! Handlers return [`ServiceError`]; the `From` impls below decide the gRPC
//! code. Bad input carries google.rpc.BadRequest field violations so that
//! clients (and the edge) can point at the field. INTERNAL is reserved for
//! bugs, and its detail goes to the log, never to the caller.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Everything a service handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid argument: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Aborted(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    Unavailable(String),
    /// Something this service waits on (another service, TheMovieDB) did
    /// not answer in time.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// An idempotency key sent before with another request (the key is
    /// held): FAILED_PRECONDITION with a google.rpc.ErrorInfo whose reason
    /// is [`IDEMPOTENCY_KEY_REUSED`], which the edge answers as HTTP 422.
    #[error(
        "{field} {key:?} was sent before with another request; a new request needs a new {field}"
    )]
    IdempotencyKeyReused {
        /// The request field that carries the key: `idempotency_key`, or a
        /// payment's `payment_reference`.
        field: &'static str,
        key: String,
    },
    /// The connection to the database was lost under a query (the server
    /// restarted, or ended the session). UNAVAILABLE; `db::read` and
    /// `db::transaction` send such work once more on a fresh connection.
    #[error("the database connection was lost; retry")]
    ConnectionLost,
    /// The connection was lost while a COMMIT was under way: the change
    /// may or may not have been made. UNAVAILABLE, never retried here; the
    /// client's retry with its idempotency key is safe.
    #[error(
        "the database connection was lost while the change was being committed; it may or may not have been made: retry with the same idempotency key"
    )]
    CommitOutcomeUnknown,
    /// A bug or an unexpected failure: logged in full, reported generically.
    #[error("internal error: {0}")]
    Internal(String),
}

/// google.rpc.ErrorInfo's `domain` for Kursi's own reasons.
pub const ERROR_DOMAIN: &str = "kursi";
/// The ErrorInfo reason of [`ServiceError::IdempotencyKeyReused`].
pub const IDEMPOTENCY_KEY_REUSED: &str = "IDEMPOTENCY_KEY_REUSED";

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ServiceError {
    /// Bad input in one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }
}

impl From<ServiceError> for Status {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::InvalidArgument(violations) => {
                let message = format!("invalid argument: {}", describe(&violations));
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ServiceError::NotFound(m) => Status::not_found(m),
            ServiceError::AlreadyExists(m) => Status::already_exists(m),
            ServiceError::FailedPrecondition(m) => Status::failed_precondition(m),
            ServiceError::Aborted(m) => Status::aborted(m),
            ServiceError::Unauthenticated(m) => Status::unauthenticated(m),
            ServiceError::PermissionDenied(m) => Status::permission_denied(m),
            ServiceError::ResourceExhausted(m) => Status::resource_exhausted(m),
            ServiceError::Unavailable(m) => Status::unavailable(m),
            ServiceError::DeadlineExceeded(m) => Status::deadline_exceeded(m),
            ServiceError::ConnectionLost | ServiceError::CommitOutcomeUnknown => {
                Status::unavailable(err.to_string())
            }
            ServiceError::IdempotencyKeyReused { field, ref key } => {
                let message = err.to_string();
                let mut details = ErrorDetails::new();
                details.set_error_info(
                    IDEMPOTENCY_KEY_REUSED,
                    ERROR_DOMAIN,
                    [(field.to_owned(), key.clone())],
                );
                details.add_precondition_failure_violation(
                    "IDEMPOTENCY_KEY",
                    key.clone(),
                    "sent before with another request",
                );
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            ServiceError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Status::internal("internal error; the details are in the service's log")
            }
        }
    }
}

impl From<DieselError> for ServiceError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => Self::NotFound("not found".into()),
            DieselError::DatabaseError(kind, info) => match kind {
                // A service names the refusal for each unique index it
                // relies on (`db::violation`); one it did not expect still
                // says what happened, without the schema's names.
                DatabaseErrorKind::UniqueViolation => {
                    tracing::warn!(constraint = ?info.constraint_name(), "unexpected unique violation");
                    Self::AlreadyExists("already exists".into())
                }
                // A deadlock (40P01) is not classified by diesel; like a
                // serialization failure, the loser may simply retry.
                DatabaseErrorKind::SerializationFailure => {
                    Self::Aborted("a concurrent change conflicted with this one; retry".into())
                }
                DatabaseErrorKind::Unknown if info.message().contains("deadlock detected") => {
                    Self::Aborted("a concurrent change conflicted with this one; retry".into())
                }
                // The second is what a connection that the server closed
                // answers to the next query sent on it (tokio-postgres
                // errors without a SQLSTATE).
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    Self::ConnectionLost
                }
                // 57P01..57P03: the server ends the session (terminated,
                // shutting down, restarting); diesel does not classify them.
                DatabaseErrorKind::Unknown if ends_the_session(info.message()) => {
                    Self::ConnectionLost
                }
                DatabaseErrorKind::ReadOnlyTransaction => {
                    Self::Unavailable("the database is read-only right now; retry later".into())
                }
                _ => Self::Internal(format!("database error {kind:?}: {}", info.message())),
            },
            other => Self::Internal(format!("database error: {other}")),
        }
    }
}

/// The messages of SQLSTATE 57P01 (admin_shutdown), 57P02 (crash_shutdown)
/// and 57P03 (cannot_connect_now): the session is over.
fn ends_the_session(message: &str) -> bool {
    message.starts_with("terminating connection")
        || message.contains("the database system is shutting down")
        || message.contains("the database system is starting up")
        || message.contains("the database system is in recovery mode")
}

impl From<bb8::RunError<diesel_async::pooled_connection::PoolError>> for ServiceError {
    fn from(err: bb8::RunError<diesel_async::pooled_connection::PoolError>) -> Self {
        tracing::warn!(error = %err, "no database connection");
        Self::Unavailable("the database is unavailable; retry later".into())
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Internal(format!("a blocking task failed: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_the_field_in_bad_request_details() {
        let status = Status::from(ServiceError::invalid("email", "is not an email address"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("email"));
        let details = status.get_error_details();
        let bad_request = details.bad_request().expect("bad request details");
        assert_eq!(bad_request.field_violations[0].field, "email");
    }

    #[test]
    fn internal_hides_its_detail_from_the_caller() {
        let status = Status::from(ServiceError::internal("relation users does not exist"));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("users"));
    }

    #[test]
    fn unique_violation_is_already_exists() {
        let err = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_string()),
        );
        assert_eq!(
            Status::from(ServiceError::from(err)).code(),
            Code::AlreadyExists
        );
    }

    #[test]
    fn a_reused_idempotency_key_names_itself_and_its_reason() {
        let status = Status::from(ServiceError::IdempotencyKeyReused {
            field: "idempotency_key",
            key: "walk-1".into(),
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert!(status.message().contains("walk-1"), "{}", status.message());
        let info = status.get_details_error_info().expect("error info");
        assert_eq!(info.reason, IDEMPOTENCY_KEY_REUSED);
        assert_eq!(
            info.metadata.get("idempotency_key").map(String::as_str),
            Some("walk-1")
        );
    }

    #[test]
    fn a_lost_connection_is_unavailable() {
        for kind in [
            DatabaseErrorKind::ClosedConnection,
            DatabaseErrorKind::UnableToSendCommand,
        ] {
            let err = DieselError::DatabaseError(kind, Box::new("connection closed".to_string()));
            assert_eq!(
                Status::from(ServiceError::from(err)).code(),
                Code::Unavailable
            );
        }
    }
}
