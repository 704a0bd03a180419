//! What makes two requests the same request: a SHA-256 over the fields that
//! define it, as the service parsed them (so a default filled in and the
//! same value given explicitly agree). Each field goes in with its name and
//! length, so no two different requests can hash alike by shifting bytes
//! from one field to the next.

use sha2::{Digest, Sha256};

/// A request's fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Starts a fingerprint of an `operation`'s request.
    pub fn of(operation: &str) -> FingerprintBuilder {
        let mut builder = FingerprintBuilder(Sha256::new());
        builder.part(b"operation", operation.as_bytes());
        builder
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(super) fn from_stored(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

/// Adds a request's defining fields, one at a time.
#[derive(Debug, Clone)]
pub struct FingerprintBuilder(Sha256);

impl FingerprintBuilder {
    fn part(&mut self, name: &[u8], value: &[u8]) {
        for bytes in [name, value] {
            self.0.update((bytes.len() as u64).to_be_bytes());
            self.0.update(bytes);
        }
    }

    /// A field, in any form that prints the same for the same value
    /// (`Display` of a UUID, a timestamp in RFC 3339, a number).
    pub fn field(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.part(name.as_bytes(), value.to_string().as_bytes());
        self
    }

    pub fn finish(self) -> Fingerprint {
        Fingerprint(self.0.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_fields_agree_and_any_difference_tells() {
        let a = || {
            Fingerprint::of("CreateOrder")
                .field("showtime_id", "s1")
                .field("quantity", 2)
        };
        assert_eq!(a().finish(), a().finish());
        assert_ne!(a().finish(), a().field("seats", "").finish());
        assert_ne!(
            a().finish(),
            Fingerprint::of("CreateOrder")
                .field("showtime_id", "s1")
                .field("quantity", 5)
                .finish()
        );
        // Bytes moved from one field into its neighbour do not hash alike.
        assert_ne!(
            Fingerprint::of("x")
                .field("a", "bc")
                .field("d", "")
                .finish(),
            Fingerprint::of("x")
                .field("a", "b")
                .field("d", "c")
                .finish()
        );
        assert_ne!(
            a().finish(),
            Fingerprint::of("CreateReservation")
                .field("showtime_id", "s1")
                .field("quantity", 2)
                .finish()
        );
    }
}
