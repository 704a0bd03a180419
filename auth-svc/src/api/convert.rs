//! Database rows to contract messages.

use chrono::{DateTime, Utc};
use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::User;
use service_kit::auth::parse_role;
use service_kit::values::timestamp;

use crate::db::users::UserRow;

/// The account as of `now` (a lock that ran out is not shown).
pub fn user_to_proto(row: &UserRow, now: DateTime<Utc>) -> User {
    User {
        user_id: row.id.to_string(),
        email: row.email.clone(),
        username: row.username.clone().unwrap_or_default(),
        display_name: row.display_name.clone(),
        role: parse_role(&row.role).unwrap_or(Role::Unspecified) as i32,
        create_time: Some(timestamp(row.created_at)),
        locked_until: row.locked_at(now).map(timestamp),
    }
}
