//! Account values, parsed once at the boundary into types that cannot hold
//! bad input. Each parse error names the request field it came from.

use service_kit::FieldViolation;
use service_kit::values::parse_required_text;

/// A valid email address, kept as typed; uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let email = raw.trim();
        let bad = |why: &str| FieldViolation::new("email", why);
        if email.is_empty() {
            return Err(bad("is required"));
        }
        if email.len() > Self::MAX_LEN {
            return Err(bad("must be at most 254 characters"));
        }
        if !email_address::EmailAddress::is_valid(email) {
            return Err(bad("is not a valid email address"));
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password within bcrypt's limits. No composition rules (NIST SP 800-63B).
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    /// bcrypt ignores everything past 72 bytes; refusing is more honest than truncating.
    pub const MAX_BYTES: usize = 72;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(FieldViolation::new(
                "password",
                "must be at least 8 characters",
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(FieldViolation::new(
                "password",
                format!(
                    "must be at most 72 bytes (bcrypt's limit); this one is {} bytes",
                    raw.len()
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// An optional sign-in name: 3 to 32 of a-z, 0-9, '.', '_' and '-'.
/// Never contains '@', so it cannot be mistaken for an email at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let name = raw.trim().to_ascii_lowercase();
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
        if !(3..=32).contains(&name.len()) || !name.chars().all(allowed) {
            return Err(FieldViolation::new(
                "username",
                "must be 3 to 32 characters of a-z, 0-9, '.', '_' and '-'",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown on bookings: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        parse_required_text("display_name", raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_validated_and_trimmed() {
        assert_eq!(
            Email::parse(" a@b.co ").map(|e| e.0),
            Ok("a@b.co".to_owned())
        );
        assert_eq!(
            Email::parse("not-an-email").map_err(|v| v.field),
            Err("email".to_owned())
        );
        assert!(Email::parse("").is_err());
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_have_a_floor_in_characters_and_a_ceiling_in_bytes() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"a".repeat(72)).is_ok());
        let too_long = Password::parse(&"a".repeat(73)).map(|_| ()).unwrap_err();
        assert_eq!(too_long.field, "password");
        assert!(too_long.description.contains("72 bytes"));
        // 25 three-byte characters: 25 characters but 75 bytes.
        assert!(Password::parse(&"€".repeat(25)).is_err());
    }

    #[test]
    fn usernames_are_lowercased_and_never_look_like_emails() {
        assert_eq!(
            Username::parse("Ana_B").map(|u| u.0),
            Ok("ana_b".to_owned())
        );
        assert!(Username::parse("a@b").is_err());
        assert!(Username::parse("ab").is_err());
    }

    #[test]
    fn display_names_are_required() {
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse("Ana").is_ok());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }
}
