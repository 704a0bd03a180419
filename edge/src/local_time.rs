//! Timestamps REST callers may send without an offset. The earlier FastAPI
//! system took `"start_time": "2026-12-31T19:00:00"` as the restaurant's
//! time; Kursi takes it too, for the fields whose contract says so
//! (`[(kursi.field.v1.rules).local_time = true]`), and only those: every
//! other timestamp stays strict RFC 3339.
//!
//! The edge does not know the restaurant's time zone (the service does):
//! it sends the wall-clock time as if it were UTC and names the field in
//! the call's `kursi-local-time` metadata, and the service reads it on its
//! own clock (`service_kit::values::LocalTimes`).

use std::collections::HashSet;

use prost_reflect::{DescriptorPool, FieldDescriptor, Value};

/// The metadata that names the fields sent without an offset.
pub const METADATA: &str = "kursi-local-time";

/// The fields that may be sent without an offset, by full name.
#[derive(Debug, Default)]
pub struct LocalTimeFields(HashSet<String>);

impl LocalTimeFields {
    pub fn new(pool: &DescriptorPool) -> Self {
        let Some(rules) = pool.get_extension_by_name("kursi.field.v1.rules") else {
            return Self::default();
        };
        let fields = pool
            .all_messages()
            .flat_map(|message| message.fields().collect::<Vec<_>>())
            .filter(|field| {
                let options = field.options();
                options.has_extension(&rules)
                    && matches!(
                        options
                            .get_extension(&rules)
                            .as_message()
                            .and_then(|r| r.get_field_by_name("local_time"))
                            .as_deref(),
                        Some(Value::Bool(true))
                    )
            })
            .map(|field| field.full_name().to_owned())
            .collect();
        Self(fields)
    }

    pub fn allows(&self, field: &FieldDescriptor) -> bool {
        self.0.contains(field.full_name())
    }
}

/// `2026-12-31T19:00:00` (seconds and a fraction optional) with no `Z` and
/// no offset: the time part holds none of `Z`, `+` or `-`.
pub fn lacks_offset(text: &str) -> bool {
    let Some((date, time)) = text.split_once(['T', 't', ' ']) else {
        return false;
    };
    date.len() == 10
        && time.len() >= 5
        && time
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bare_wall_clock_time_lacks_its_offset() {
        assert!(lacks_offset("2026-12-31T19:00:00"));
        assert!(lacks_offset("2026-12-31T19:00"));
        assert!(lacks_offset("2026-12-31 19:00:00.5"));
        assert!(!lacks_offset("2026-12-31T19:00:00Z"));
        assert!(!lacks_offset("2026-12-31T19:00:00+07:00"));
        assert!(!lacks_offset("2026-12-31T19:00:00-05:00"));
        assert!(!lacks_offset("2026-12-31"));
        assert!(!lacks_offset("tomorrow at seven"));
    }

    #[test]
    fn the_contracts_declare_the_start_times() {
        let pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).unwrap();
        let fields = LocalTimeFields::new(&pool);
        let start = pool
            .get_message_by_name("kursi.reservation.v1.CreateReservationRequest")
            .and_then(|m| m.get_field_by_name("start_time"))
            .unwrap();
        assert!(fields.allows(&start));
        let from = pool
            .get_message_by_name("kursi.reservation.v1.ListReservationsRequest")
            .and_then(|m| m.get_field_by_name("start_time_from"))
            .unwrap();
        assert!(!fields.allows(&from));
    }
}
