//! Tokens the door has verified lately, so a caller's next requests skip
//! the Ed25519 signature check: that check was a third of the edge's CPU
//! on a small read, for a token it had checked a moment before.
//!
//! Only tokens that passed the full check are remembered, keyed by their
//! exact text, so a token that differs in any byte is checked afresh. An
//! entry lasts [`REMEMBER_FOR`] at most and never past the token's `exp`
//! (the full check would still allow its clock-skew leeway): well within
//! the five minutes the verifier already trusts a fetched key set, so no
//! token is accepted that the verifier alone would refuse because a key
//! was withdrawn. The service behind checks the token again anyway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use service_kit::auth::Caller;

/// How long a verification is reused.
pub const REMEMBER_FOR: Duration = Duration::from_secs(30);
/// Tokens remembered at most (a few MiB): past it, expired entries go, and
/// if none had expired, all of them.
const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct Verified {
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

struct Entry {
    caller: Arc<Caller>,
    until: Instant,
}

impl Verified {
    /// The caller of a token verified less than [`REMEMBER_FOR`] ago and
    /// not expired since.
    pub fn get(&self, token: &str) -> Option<Arc<Caller>> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(token)?;
        (Instant::now() < entry.until).then(|| entry.caller.clone())
    }

    /// Remembers a token that passed the full check.
    pub fn insert(&self, token: &str, caller: Arc<Caller>) {
        let Some(expires_in) = expires_in(token, SystemTime::now()) else {
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
        entries.insert(token.into(), Entry { caller, until });
    }
}

/// Time left before the token's `exp`, read from its payload (already
/// verified by the caller of [`Verified::insert`]); `None` if past or unreadable.
fn expires_in(token: &str, now: SystemTime) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct Expiry {
        exp: u64,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let Expiry { exp } = serde_json::from_slice(&bytes).ok()?;
    let now = now.duration_since(UNIX_EPOCH).ok()?;
    Duration::from_secs(exp).checked_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(exp: u64) -> String {
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"x","exp":{exp}}}"#));
        format!("eyJhbGciOiJFZERTQSJ9.{payload}.c2lnbmF0dXJl")
    }

    fn unix_now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn caller() -> Arc<Caller> {
        Arc::new(Caller::new(uuid::Uuid::nil(), vec![], "jti".into(), "t"))
    }

    #[test]
    fn a_verified_token_is_remembered_by_its_exact_text() {
        let verified = Verified::default();
        let good = token(unix_now() + 600);
        assert!(verified.get(&good).is_none());
        verified.insert(&good, caller());
        assert!(verified.get(&good).is_some());
        // One byte off (another signature): not the same token.
        let forged = format!("{}x", &good[..good.len() - 1]);
        assert!(verified.get(&forged).is_none());
    }

    #[test]
    fn expired_or_unreadable_tokens_are_not_remembered() {
        let verified = Verified::default();
        let expired = token(unix_now().saturating_sub(1));
        verified.insert(&expired, caller());
        assert!(verified.get(&expired).is_none());
        verified.insert("not-a-jwt", caller());
        assert!(verified.get("not-a-jwt").is_none());
    }

    #[test]
    fn an_entry_lasts_until_exp_and_never_past_the_window() {
        let now = SystemTime::now();
        let unix = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let soon = expires_in(&token(unix + 5), now).unwrap();
        assert!(soon <= Duration::from_secs(5));
        let later = expires_in(&token(unix + 900), now).unwrap();
        assert!(later.min(REMEMBER_FOR) == REMEMBER_FOR);
        assert!(expires_in(&token(unix - 1), now).is_none());
    }

    #[test]
    fn it_never_grows_past_its_capacity() {
        let verified = Verified::default();
        let exp = unix_now() + 600;
        for n in 0..CAPACITY + 10 {
            let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp},"n":{n}}}"#));
            verified.insert(&format!("h.{payload}.s"), caller());
        }
        let len = verified.entries.lock().unwrap().len();
        assert!(len <= CAPACITY, "{len}");
    }
}
