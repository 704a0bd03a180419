//! Tokens verified lately, so a caller's next requests skip the Ed25519
//! signature check. That check cost 40–50 µs of CPU, a third of the edge's
//! work and about half of a service's on a small read, for a token that had
//! been checked a moment before.
//!
//! Only tokens that passed the full check are remembered, keyed by their
//! exact text, so a token that differs in any byte is checked afresh. An
//! entry lasts [`REMEMBER_FOR`] at most and never past the token's `exp`
//! (the full check would still allow its clock-skew leeway): well within
//! the five minutes the verifier already trusts a fetched key set, so no
//! token is accepted that the verifier alone would refuse because a key
//! was withdrawn.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Caller;

/// How long a verification is reused.
pub const REMEMBER_FOR: Duration = Duration::from_secs(30);
/// Tokens remembered at most (a few MiB): past it, expired entries go, and
/// if none had expired, all of them.
const CAPACITY: usize = 4096;

#[derive(Default)]
pub(super) struct Verified {
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

struct Entry {
    caller: Caller,
    until: Instant,
}

impl Verified {
    /// The caller of a token verified less than [`REMEMBER_FOR`] ago and
    /// not expired since.
    pub(super) fn get(&self, token: &str) -> Option<Caller> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(token)?;
        (Instant::now() < entry.until).then(|| entry.caller.clone())
    }

    /// Remembers a token that passed the full check and expires at `exp`
    /// (seconds since the Unix epoch).
    pub(super) fn insert(&self, token: &str, exp: i64, caller: &Caller) {
        let Some(expires_in) = expires_in(exp, SystemTime::now()) else {
            return;
        };
        let now = Instant::now();
        let until = now + expires_in.min(REMEMBER_FOR);
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, entry| entry.until > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let caller = caller.clone();
        entries.insert(token.into(), Entry { caller, until });
    }
}

/// Time left before `exp`; `None` if it has passed.
fn expires_in(exp: i64, now: SystemTime) -> Option<Duration> {
    let now = now.duration_since(UNIX_EPOCH).ok()?;
    Duration::from_secs(u64::try_from(exp).ok()?).checked_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix_now() -> i64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        i64::try_from(now.as_secs()).unwrap()
    }

    fn caller() -> Caller {
        Caller::new(uuid::Uuid::nil(), vec![], "jti".into(), "t")
    }

    #[test]
    fn a_verified_token_is_remembered_by_its_exact_text() {
        let verified = Verified::default();
        let good = "header.payload.signature";
        assert!(verified.get(good).is_none());
        verified.insert(good, unix_now() + 600, &caller());
        assert!(verified.get(good).is_some());
        // One byte off (another signature): not the same token.
        assert!(verified.get("header.payload.signaturf").is_none());
    }

    #[test]
    fn expired_tokens_are_not_remembered() {
        let verified = Verified::default();
        verified.insert("expired", unix_now().saturating_sub(1), &caller());
        assert!(verified.get("expired").is_none());
    }

    #[test]
    fn an_entry_lasts_until_exp_and_never_past_the_window() {
        let now = SystemTime::now();
        let unix = i64::try_from(now.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap();
        let soon = expires_in(unix + 5, now).unwrap();
        assert!(soon <= Duration::from_secs(5));
        let later = expires_in(unix + 900, now).unwrap();
        assert!(later.min(REMEMBER_FOR) == REMEMBER_FOR);
        assert!(expires_in(unix - 1, now).is_none());
    }

    #[test]
    fn it_never_grows_past_its_capacity() {
        let verified = Verified::default();
        let exp = unix_now() + 600;
        for n in 0..CAPACITY + 10 {
            verified.insert(&format!("token-{n}"), exp, &caller());
        }
        let len = verified.entries.lock().unwrap().len();
        assert!(len <= CAPACITY, "{len}");
    }
}
