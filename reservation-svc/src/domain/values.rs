//! Value objects, parsed once at the boundary into types that cannot hold
//! bad input. Each parse error is a [`FieldViolation`] naming the request
//! field it came from.

use service_kit::FieldViolation;
use service_kit::accounts::NamedCustomer;
use service_kit::values::{parse_required_text, parse_text};

pub use service_kit::values::{
    IdempotencyKey, PaymentReference, parse_id, parse_required_timestamp, parse_timestamp,
};

/// Who to reach about a booking: a name, a phone number and an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInfo {
    name: String,
    phone: String,
    email: String,
}

impl ContactInfo {
    /// Checks all three fields and reports every problem at once, under
    /// `contact_info.name`, `contact_info.phone` and `contact_info.email`.
    pub fn parse(name: &str, phone: &str, email: &str) -> Result<Self, Vec<FieldViolation>> {
        let name = parse_name(name);
        let phone = parse_phone(phone);
        let email = parse_email("contact_info.email", email);
        match (name, phone, email) {
            (Ok(name), Ok(phone), Ok(email)) => Ok(Self { name, phone, email }),
            (name, phone, email) => Err([name.err(), phone.err(), email.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Digits only, with a leading `+` when one was given.
    pub fn phone(&self) -> &str {
        &self.phone
    }

    pub fn email(&self) -> &str {
        &self.email
    }
}

fn parse_name(raw: &str) -> Result<String, FieldViolation> {
    parse_required_text("contact_info.name", raw, 100)
}

/// 8 to 15 digits (E.164's limit), an optional leading `+`, and spaces or
/// dashes between groups; stored without the separators.
fn parse_phone(raw: &str) -> Result<String, FieldViolation> {
    let phone = raw.trim();
    let bad = || {
        FieldViolation::new(
            "contact_info.phone",
            "must be 8 to 15 digits, optionally with a leading + and spaces or dashes between groups",
        )
    };
    if phone.is_empty() {
        return Err(FieldViolation::new("contact_info.phone", "is required"));
    }
    let (plus, rest) = match phone.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", phone),
    };
    let mut digits = String::with_capacity(rest.len());
    let mut previous_was_separator = true;
    for c in rest.chars() {
        match c {
            '0'..='9' => {
                digits.push(c);
                previous_was_separator = false;
            }
            ' ' | '-' if !previous_was_separator => previous_was_separator = true,
            _ => return Err(bad()),
        }
    }
    if previous_was_separator || !(8..=15).contains(&digits.len()) {
        return Err(bad());
    }
    Ok(format!("{plus}{digits}"))
}

fn parse_email(field: &str, raw: &str) -> Result<String, FieldViolation> {
    let email = raw.trim();
    let bad = |why: &str| FieldViolation::new(field, why);
    if email.is_empty() {
        return Err(bad("is required"));
    }
    if email.len() > 254 {
        return Err(bad("must be at most 254 characters"));
    }
    if !email_address::EmailAddress::is_valid(email)
        || !email.contains('.')
        || email.chars().any(char::is_control)
    {
        return Err(bad("is not a valid email address"));
    }
    Ok(email.to_owned())
}

/// The customer a booking names: by `customer_id` or by `customer_email`
/// (staff at the host stand know a guest's email, not her account's id),
/// not both; `None` when neither is given. Whether the caller may name
/// anyone, and whether the account exists, is decided later.
pub fn parse_named_customer(
    id: &str,
    email: &str,
) -> Result<Option<NamedCustomer>, FieldViolation> {
    match (id.trim().is_empty(), email.trim().is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Err(FieldViolation::new(
            "customer_email",
            "give customer_id or customer_email, not both",
        )),
        (false, true) => parse_id("customer_id", id).map(|id| Some(NamedCustomer::Id(id))),
        (true, false) => {
            parse_email("customer_email", email).map(|email| Some(NamedCustomer::Email(email)))
        }
    }
}

/// How many guests: 1 to 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartySize(i32);

impl PartySize {
    pub const MAX: i32 = 20;
    pub const DEFAULT: i32 = 2;

    /// `None` (left out) is the default, 2.
    pub fn parse(raw: Option<i32>) -> Result<Self, FieldViolation> {
        let size = raw.unwrap_or(Self::DEFAULT);
        if (1..=Self::MAX).contains(&size) {
            Ok(Self(size))
        } else {
            Err(FieldViolation::new(
                "party_size",
                format!("must be between 1 and {} guests", Self::MAX),
            ))
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// How long a table is held: 15 to 480 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationMinutes(i32);

impl DurationMinutes {
    pub const MIN: i32 = 15;
    pub const MAX: i32 = 480;
    /// The seed's default, and the turn time when the policy names none.
    pub const DEFAULT: DurationMinutes = DurationMinutes(90);

    pub fn parse(minutes: i32) -> Result<Self, FieldViolation> {
        if (Self::MIN..=Self::MAX).contains(&minutes) {
            Ok(Self(minutes))
        } else {
            Err(FieldViolation::new(
                "duration_minutes",
                format!("must be between {} and {} minutes", Self::MIN, Self::MAX),
            ))
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }

    pub fn as_chrono(self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.0))
    }
}

/// Free text of at most 500 characters (notes, cancellation descriptions).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Note(String);

impl Note {
    pub const MAX_CHARS: usize = 500;

    /// Line breaks and tabs are fine in free text; other control characters
    /// (NUL above all, which PostgreSQL cannot store) are not.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        parse_text(field, raw, Self::MAX_CHARS, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A table's label: 1 to 32 characters, unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLabel(String);

impl TableLabel {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        parse_required_text("label", raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many guests a table seats: 1 to 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity(i32);

impl Capacity {
    pub fn parse(raw: i32) -> Result<Self, FieldViolation> {
        if (1..=50).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err(FieldViolation::new(
                "capacity",
                "must be between 1 and 50 guests",
            ))
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// Where a table stands ("Indoor", "Outdoor", "VIP"): 1 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area(String);

impl Area {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        parse_required_text("area", raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(violations: Vec<FieldViolation>) -> Vec<String> {
        violations.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn contact_info_is_trimmed_and_the_phone_normalised() {
        let contact =
            ContactInfo::parse(" Siti ", "+62 812-3456-789", "siti@example.com").expect("valid");
        assert_eq!(contact.name(), "Siti");
        assert_eq!(contact.phone(), "+628123456789");
        assert_eq!(contact.email(), "siti@example.com");
        assert_eq!(
            ContactInfo::parse("Budi", "08123456789", "b@x.co")
                .expect("valid")
                .phone(),
            "08123456789"
        );
    }

    #[test]
    fn contact_info_reports_every_bad_field() {
        let err = ContactInfo::parse(" ", "12", "not-an-email").unwrap_err();
        assert_eq!(
            fields(err),
            [
                "contact_info.name",
                "contact_info.phone",
                "contact_info.email"
            ]
        );
    }

    #[test]
    fn phones_need_8_to_15_digits_and_nothing_else() {
        for bad in [
            "",
            "1234567",
            "1234567890123456",
            "0812-abc-4567",
            "++628123456789",
            "0812--3456789",
            "08123456789-",
            "-08123456789",
            "0812 3456 789 ext 2",
        ] {
            assert!(parse_phone(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(parse_phone("12345678").as_deref(), Ok("12345678"));
    }

    #[test]
    fn a_booking_names_its_customer_by_id_or_by_email_not_both() {
        let id = uuid::Uuid::from_u128(5);
        assert_eq!(parse_named_customer("", " "), Ok(None));
        assert_eq!(
            parse_named_customer(&id.to_string(), ""),
            Ok(Some(NamedCustomer::Id(id)))
        );
        assert_eq!(
            parse_named_customer("", " siti@example.com "),
            Ok(Some(NamedCustomer::Email("siti@example.com".into())))
        );
        let both = parse_named_customer(&id.to_string(), "siti@example.com").unwrap_err();
        assert_eq!(both.field, "customer_email");
        assert_eq!(
            parse_named_customer("", "siti").unwrap_err().field,
            "customer_email"
        );
        assert_eq!(
            parse_named_customer("not-a-uuid", "").unwrap_err().field,
            "customer_id"
        );
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert!(parse_email("contact_info.email", "a@b").is_err());
        assert!(parse_email("contact_info.email", "a b@c.d").is_err());
        assert!(parse_email("contact_info.email", "a\u{0}b@c.de").is_err());
        assert!(
            parse_email(
                "contact_info.email",
                &format!("{}@example.com", "a".repeat(250))
            )
            .is_err()
        );
        assert!(parse_email("contact_info.email", "ana@example.co.id").is_ok());
    }

    #[test]
    fn names_are_limited() {
        assert!(parse_name(&"a".repeat(100)).is_ok());
        assert!(parse_name(&"a".repeat(101)).is_err());
        assert!(parse_name("a\u{7}b").is_err());
    }

    #[test]
    fn party_sizes_default_to_two_and_stay_within_1_to_20() {
        assert_eq!(PartySize::parse(None).map(PartySize::get), Ok(2));
        assert_eq!(PartySize::parse(Some(20)).map(PartySize::get), Ok(20));
        for bad in [0, -1, 21, i32::MAX] {
            assert_eq!(PartySize::parse(Some(bad)).unwrap_err().field, "party_size");
        }
    }

    #[test]
    fn durations_stay_within_15_to_480_minutes() {
        assert!(DurationMinutes::parse(15).is_ok());
        assert!(DurationMinutes::parse(480).is_ok());
        for bad in [-90, 0, 14, 481, i32::MAX] {
            assert_eq!(
                DurationMinutes::parse(bad).unwrap_err().field,
                "duration_minutes"
            );
        }
    }

    #[test]
    fn notes_keys_and_references_have_limits() {
        assert!(Note::parse("note", &"x".repeat(500)).is_ok());
        assert_eq!(
            Note::parse("description", &"x".repeat(501))
                .unwrap_err()
                .field,
            "description"
        );
        assert!(Note::parse("note", "two\nlines\tand a tab").is_ok());
        assert!(Note::parse("note", "nul\u{0}byte").is_err());
        assert!(PaymentReference::parse("").is_err());
        assert!(PaymentReference::parse("TILL-0001").is_ok());
    }

    #[test]
    fn tables_values_have_limits() {
        assert!(TableLabel::parse("T1").is_ok());
        assert!(TableLabel::parse("").is_err());
        assert!(TableLabel::parse(&"x".repeat(33)).is_err());
        assert!(Capacity::parse(0).is_err());
        assert!(Capacity::parse(51).is_err());
        assert!(Capacity::parse(50).is_ok());
        assert!(Area::parse("VIP").is_ok());
        assert!(Area::parse(" ").is_err());
    }
}
