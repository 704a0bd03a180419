//! Database rows to contract messages.

use chrono::{DateTime, Utc};
use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::User;
use service_kit::auth::parse_role;

use crate::db::users::UserRow;

pub fn user_to_proto(row: &UserRow) -> User {
    User {
        user_id: row.id.to_string(),
        email: row.email.clone(),
        username: row.username.clone().unwrap_or_default(),
        display_name: row.display_name.clone(),
        role: parse_role(&row.role).unwrap_or(Role::Unspecified) as i32,
        create_time: Some(timestamp(row.created_at)),
        locked_until: row.locked_at(Utc::now()).map(timestamp),
    }
}

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}
