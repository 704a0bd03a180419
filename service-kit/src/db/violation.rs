//! Database errors that a service expects, classified once: which
//! constraint a statement broke. A service names the refusal for each
//! constraint it relies on (the constraint is the guarantee, the refusal its
//! message); every other error takes the shared mapping of
//! `From<DieselError> for ServiceError`. No constraint name reaches a
//! client: they are the schema's words, not the API's.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::ServiceError;

/// The kinds of constraint whose breaking a service may expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Unique,
    /// An exclusion constraint (23P01): two rows that overlap.
    Exclusion,
    ForeignKey,
    Check,
    NotNull,
}

/// A constraint a failed statement broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Violation<'a> {
    pub kind: ConstraintKind,
    pub constraint: &'a str,
}

/// The constraint `err` broke, when it broke one.
pub fn violation(err: &DieselError) -> Option<Violation<'_>> {
    let DieselError::DatabaseError(kind, info) = err else {
        return None;
    };
    let kind = match kind {
        DatabaseErrorKind::UniqueViolation => ConstraintKind::Unique,
        DatabaseErrorKind::ExclusionViolation => ConstraintKind::Exclusion,
        DatabaseErrorKind::ForeignKeyViolation => ConstraintKind::ForeignKey,
        DatabaseErrorKind::CheckViolation => ConstraintKind::Check,
        DatabaseErrorKind::NotNullViolation => ConstraintKind::NotNull,
        _ => return None,
    };
    Some(Violation {
        kind,
        constraint: info.constraint_name()?,
    })
}

/// `err` as the service's answer: `expected` gives the refusal for a
/// constraint the service relies on, and `None` for any other; those, and
/// errors that broke no constraint, take the shared mapping.
pub fn refuse<E: From<ServiceError>>(
    err: DieselError,
    expected: impl FnOnce(Violation<'_>) -> Option<E>,
) -> E {
    match violation(&err).and_then(expected) {
        Some(refusal) => refusal,
        None => E::from(ServiceError::from(err)),
    }
}

/// [`refuse`] for a result.
pub trait RefuseExt<T> {
    fn refuse<E: From<ServiceError>>(
        self,
        expected: impl FnOnce(Violation<'_>) -> Option<E>,
    ) -> Result<T, E>;
}

impl<T> RefuseExt<T> for Result<T, DieselError> {
    fn refuse<E: From<ServiceError>>(
        self,
        expected: impl FnOnce(Violation<'_>) -> Option<E>,
    ) -> Result<T, E> {
        self.map_err(|err| refuse(err, expected))
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::DatabaseErrorInformation;

    use super::*;

    #[derive(Debug)]
    struct Broke(&'static str);

    impl DatabaseErrorInformation for Broke {
        fn message(&self) -> &str {
            "duplicate key value violates unique constraint"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            Some(self.0)
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn broke(kind: DatabaseErrorKind, constraint: &'static str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(Broke(constraint)))
    }

    #[test]
    fn an_expected_constraint_gets_the_services_refusal() {
        let err = broke(DatabaseErrorKind::UniqueViolation, "tables_label_key");
        let answer: ServiceError = refuse(err, |v| {
            (v.kind == ConstraintKind::Unique && v.constraint == "tables_label_key")
                .then(|| ServiceError::AlreadyExists("a table with this label exists".into()))
        });
        assert!(matches!(answer, ServiceError::AlreadyExists(m) if m.contains("label exists")));
    }

    #[test]
    fn an_unexpected_constraint_takes_the_shared_mapping_without_its_name() {
        let err = broke(DatabaseErrorKind::UniqueViolation, "users_secret_index");
        let answer: ServiceError = refuse(err, |_| None);
        assert!(
            matches!(answer, ServiceError::AlreadyExists(ref m) if !m.contains("users_secret_index")),
            "{answer:?}"
        );
    }

    #[test]
    fn exclusion_and_foreign_keys_are_classified() {
        let err = broke(DatabaseErrorKind::ExclusionViolation, "no_double_booking");
        assert_eq!(
            violation(&err),
            Some(Violation {
                kind: ConstraintKind::Exclusion,
                constraint: "no_double_booking"
            })
        );
        let err = broke(
            DatabaseErrorKind::ForeignKeyViolation,
            "seats_showtime_fkey",
        );
        assert_eq!(
            violation(&err).map(|v| v.kind),
            Some(ConstraintKind::ForeignKey)
        );
        assert_eq!(violation(&DieselError::NotFound), None);
    }
}
