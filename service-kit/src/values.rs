//! Request fields into values every service reads the same way: ids,
//! timestamps, days, idempotency keys, and the collector that reports every
//! bad field of a request at once.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::{FieldViolation, ServiceError};

/// Collects violations while a request is parsed, so a caller learns about
/// every bad field at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        result.map_err(|v| self.0.push(v)).ok()
    }

    pub fn check_all<T>(&mut self, result: Result<T, Vec<FieldViolation>>) -> Option<T> {
        result.map_err(|v| self.0.extend(v)).ok()
    }

    pub fn push(&mut self, field: &str, why: impl Into<String>) {
        self.0.push(FieldViolation::new(field, why));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|v| v.field.as_str())
    }

    /// `Ok(value)` when nothing was wrong, else every violation.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ServiceError> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ if self.0.is_empty() => Err(ServiceError::internal(
                "a parse produced nothing and no reason",
            )),
            _ => Err(ServiceError::InvalidArgument(self.0)),
        }
    }
}

/// A required UUID.
pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, FieldViolation> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    Uuid::parse_str(raw).map_err(|_| FieldViolation::new(field, "must be a UUID"))
}

/// An optional UUID: empty means none.
pub fn parse_optional_id(field: &str, raw: &str) -> Result<Option<Uuid>, FieldViolation> {
    match raw.trim() {
        "" => Ok(None),
        raw => parse_id(field, raw).map(Some),
    }
}

/// [`parse_id`] as a whole request's error.
pub fn id(field: &str, raw: &str) -> Result<Uuid, ServiceError> {
    parse_id(field, raw).map_err(|v| ServiceError::InvalidArgument(vec![v]))
}

/// A timestamp, kept to microseconds (PostgreSQL's precision), within the
/// years protobuf allows. `None` when unset.
pub fn parse_timestamp(
    field: &str,
    raw: Option<&prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, FieldViolation> {
    let Some(ts) = raw else {
        return Ok(None);
    };
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err(FieldViolation::new(field, "is not a valid timestamp"));
    }
    // 0001-01-01 to 9999-12-31, the range protobuf timestamps allow.
    if !(-62_135_596_800..=253_402_300_799).contains(&ts.seconds) {
        return Err(FieldViolation::new(
            field,
            "must be between years 0001 and 9999",
        ));
    }
    let micros = (ts.nanos / 1_000) * 1_000;
    DateTime::from_timestamp(ts.seconds, micros as u32)
        .map(Some)
        .ok_or_else(|| FieldViolation::new(field, "is not a valid timestamp"))
}

/// A required timestamp, as [`parse_timestamp`].
pub fn parse_required_timestamp(
    field: &str,
    raw: Option<&prost_types::Timestamp>,
) -> Result<DateTime<Utc>, FieldViolation> {
    parse_timestamp(field, raw)?.ok_or_else(|| {
        FieldViolation::new(field, "is required (RFC 3339 with an offset over REST)")
    })
}

/// The request fields whose timestamp was sent without an offset, as a
/// wall-clock reading (the `kursi-local-time` metadata, set by the edge for
/// fields declared `[(kursi.field.v1.rules).local_time = true]`): their value
/// is that reading written as if it were UTC.
#[derive(Debug, Clone, Default)]
pub struct LocalTimes(Vec<String>);

impl LocalTimes {
    pub fn of<T>(request: &tonic::Request<T>) -> Self {
        let fields = request
            .metadata()
            .get("kursi-local-time")
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                value
                    .split(',')
                    .map(|field| field.trim().to_owned())
                    .filter(|field| !field.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Self(fields)
    }

    /// `at`, or when `field` was sent without an offset, its wall-clock
    /// reading taken on `zone`'s clock. A reading that clock skips or shows
    /// twice (a daylight-saving change) is refused, naming the field.
    pub fn resolve(
        &self,
        field: &str,
        at: DateTime<Utc>,
        zone: chrono_tz::Tz,
    ) -> Result<DateTime<Utc>, FieldViolation> {
        use chrono::TimeZone;
        if !self.0.iter().any(|local| local == field) {
            return Ok(at);
        }
        match zone.from_local_datetime(&at.naive_utc()) {
            chrono::LocalResult::Single(local) => Ok(local.with_timezone(&Utc)),
            _ => Err(FieldViolation::new(
                field,
                format!(
                    "{} does not name one moment on the clock of {}; give an offset",
                    at.naive_utc(),
                    zone.name()
                ),
            )),
        }
    }
}

/// A contract timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// A calendar day written exactly `YYYY-MM-DD` (chrono alone would also take
/// "+2026-12-01" and "2026-12-1").
pub fn parse_day(field: &str, raw: &str) -> Result<NaiveDate, FieldViolation> {
    let raw = raw.trim();
    let canonical = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| canonical)
        .ok_or_else(|| FieldViolation::new(field, "must be a day as YYYY-MM-DD"))
}

/// A client-chosen key that makes a create safe to retry: 1 to 100 visible
/// ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The request's `idempotency_key` field, or when that is empty its
    /// `idempotency-key` metadata (where the edge puts the `Idempotency-Key`
    /// header). Neither is "no key".
    pub fn from_request<T>(
        field: &str,
        request: &tonic::Request<T>,
    ) -> Result<Option<Self>, FieldViolation> {
        if !field.trim().is_empty() {
            return Self::parse(field);
        }
        match request.metadata().get("idempotency-key") {
            None => Ok(None),
            Some(value) => Self::parse(value.to_str().map_err(|_| {
                FieldViolation::new(
                    "idempotency_key",
                    "the idempotency-key metadata must be visible ASCII",
                )
            })?),
        }
    }

    /// Empty is "no key".
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldViolation> {
        let key = raw.trim();
        if key.is_empty() {
            return Ok(None);
        }
        if key.len() > 100 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(FieldViolation::new(
                "idempotency_key",
                "must be 1 to 100 visible ASCII characters",
            ));
        }
        Ok(Some(Self(key.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A payment's reference (till receipt, provider id): 1 to 100 characters.
/// A payment is recorded once per reference, which makes paying idempotent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReference(String);

impl PaymentReference {
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let reference = raw.trim();
        let bad = |why: &str| FieldViolation::new("payment_reference", why);
        if reference.is_empty() {
            return Err(bad("is required"));
        }
        if reference.chars().count() > 100 || reference.chars().any(char::is_control) {
            return Err(bad(
                "must be 1 to 100 characters without control characters",
            ));
        }
        Ok(Self(reference.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text a person typed (a title, a note): trimmed, at most `max`
/// characters, and no control characters but line breaks and tabs where
/// `multiline` allows them (PostgreSQL cannot even store NUL).
pub fn parse_text(
    field: &str,
    raw: &str,
    max: usize,
    multiline: bool,
) -> Result<String, FieldViolation> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(FieldViolation::new(
            field,
            if multiline {
                "must not contain control characters other than line breaks and tabs"
            } else {
                "must not contain control characters"
            },
        ));
    }
    Ok(text.to_owned())
}

/// Like [`parse_text`], and at least one character.
pub fn parse_required_text(field: &str, raw: &str, max: usize) -> Result<String, FieldViolation> {
    let text = parse_text(field, raw, max, false)?;
    if text.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_clock_reading_is_read_on_the_services_clock() {
        let mut request = tonic::Request::new(());
        request
            .metadata_mut()
            .insert("kursi-local-time", "start_time".parse().unwrap());
        let local = LocalTimes::of(&request);
        let reading = DateTime::parse_from_rfc3339("2026-12-31T19:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let jakarta = local
            .resolve("start_time", reading, chrono_tz::Asia::Jakarta)
            .unwrap();
        assert_eq!(jakarta.to_rfc3339(), "2026-12-31T12:00:00+00:00");
        // Only the fields named are read so.
        assert_eq!(
            local
                .resolve("start_time_from", reading, chrono_tz::Asia::Jakarta)
                .unwrap(),
            reading
        );
        // 02:30 on the morning Berlin springs forward does not exist.
        let skipped = DateTime::parse_from_rfc3339("2027-03-28T02:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let refused = local
            .resolve("start_time", skipped, chrono_tz::Europe::Berlin)
            .unwrap_err();
        assert_eq!(refused.field, "start_time");
    }

    #[test]
    fn days_are_exactly_yyyy_mm_dd() {
        let day = NaiveDate::from_ymd_opt(2030, 3, 5).unwrap();
        assert_eq!(parse_day("date", "2030-03-05"), Ok(day));
        assert_eq!(parse_day("date", " 2030-03-05\n"), Ok(day));
        for odd in [
            "+2030-03-05",
            "2030-3-5",
            "02030-03-05",
            "2030-03-05T00:00",
            "2030-02-30",
        ] {
            assert_eq!(parse_day("date", odd).unwrap_err().field, "date", "{odd}");
        }
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_up_to_100() {
        assert_eq!(IdempotencyKey::parse("  "), Ok(None));
        assert!(IdempotencyKey::parse(&"k".repeat(101)).is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        let request = {
            let mut r = tonic::Request::new(());
            r.metadata_mut()
                .insert("idempotency-key", "from-header".parse().unwrap());
            r
        };
        let from_header = IdempotencyKey::from_request("", &request).unwrap().unwrap();
        assert_eq!(from_header.as_str(), "from-header");
        let field_wins = IdempotencyKey::from_request("field", &request)
            .unwrap()
            .unwrap();
        assert_eq!(field_wins.as_str(), "field");
    }

    #[test]
    fn text_has_limits_and_no_control_characters() {
        assert_eq!(
            parse_required_text("title", "  Dune ", 10),
            Ok("Dune".into())
        );
        assert!(parse_required_text("title", " ", 10).is_err());
        assert!(parse_required_text("title", "x\u{0}y", 10).is_err());
        assert!(parse_required_text("title", &"é".repeat(11), 10).is_err());
        assert!(parse_required_text("title", &"é".repeat(10), 10).is_ok());
        assert!(parse_text("overview", "a\nb", 10, true).is_ok());
        assert!(parse_text("title", "a\nb", 10, false).is_err());
    }

    #[test]
    fn timestamps_are_checked_and_kept_to_microseconds() {
        let ts = prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 123_456_789,
        };
        let at = parse_timestamp("start_time", Some(&ts)).unwrap().unwrap();
        assert_eq!(at.timestamp_subsec_micros(), 123_456);
        let bad = prost_types::Timestamp {
            seconds: 253_402_300_800,
            nanos: 0,
        };
        assert!(parse_timestamp("start_time", Some(&bad)).is_err());
        assert_eq!(parse_timestamp("start_time", None), Ok(None));
    }
}
