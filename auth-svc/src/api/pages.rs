//! AIP-158 pages for ListUsers, newest first: the token is the keyset
//! position of the last account sent (its creation time and id), so pages
//! stay stable while accounts are added.

use chrono::{DateTime, Utc};
use service_kit::ServiceError;
use service_kit::pages::{self, PageSizes};
use uuid::Uuid;

const SIZES: PageSizes = PageSizes {
    default: 50,
    max: 200,
};

pub fn page_size(requested: i32) -> Result<i64, ServiceError> {
    SIZES.get(requested)
}

pub fn encode(created_at: DateTime<Utc>, id: Uuid) -> String {
    pages::encode(&[&created_at.timestamp_micros().to_string(), &id.to_string()])
}

pub fn decode(token: &str) -> Result<Option<(DateTime<Utc>, Uuid)>, ServiceError> {
    let Some(key) = pages::decode(token, 2)? else {
        return Ok(None);
    };
    let invalid = || ServiceError::invalid("page_token", "is not a token this API returned");
    let micros: i64 = key[0].parse().map_err(|_| invalid())?;
    let created_at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
    let id = Uuid::parse_str(&key[1]).map_err(|_| invalid())?;
    Ok(Some((created_at, id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time");
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode(at, id)).ok().flatten(), Some((at, id)));
        assert!(decode("%%%").is_err());
        assert!(decode(&pages::encode(&["x", "y"])).is_err());
    }
}
