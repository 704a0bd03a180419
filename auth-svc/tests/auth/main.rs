//! auth-svc through a real tonic client against a real server and PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod accounts;
mod admin;
mod forged_tokens;
mod key_rotation;
mod login;
mod reflection;
mod refresh;

use tonic::{Code, Status};

/// The field named by the google.rpc.BadRequest details of an INVALID_ARGUMENT.
pub fn violated_fields(status: &Status) -> Vec<String> {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}
