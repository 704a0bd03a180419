//! reservation-svc's SQL, one module per table. Handlers never write
//! queries; the service layer (`floor`, `reservations`, `sweeper`)
//! calls these inside its transactions.

pub mod created;
pub mod history;
pub mod reservations;
pub mod schema;
pub mod tables;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use service_kit::ServiceError;

/// The exclusion constraint that keeps a table from being held twice.
pub const NO_DOUBLE_BOOKING: &str = "reservations_no_double_booking";

/// What a failed statement means for the caller. diesel reports SQLSTATE
/// 23P01 as `ExclusionViolation`, which the shared mapping treats as a bug;
/// here it is the expected outcome of losing a race for a table. A deadlock
/// (40P01, which diesel does not classify) is a conflict worth a retry.
pub fn conflict(err: DieselError) -> ServiceError {
    match &err {
        DieselError::DatabaseError(DatabaseErrorKind::ExclusionViolation, info)
            if info.constraint_name() == Some(NO_DOUBLE_BOOKING) =>
        {
            ServiceError::FailedPrecondition(
                "the table is already held by another reservation for an overlapping time".into(),
            )
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if info.message().contains("deadlock detected") =>
        {
            ServiceError::Aborted("a concurrent change conflicted with this one; retry".into())
        }
        _ => ServiceError::from(err),
    }
}
