//! AIP-158 pagination for every List method: page sizes with a default and
//! a cap, and page tokens that are an opaque keyset position (the sort key
//! of the last item sent), so pages stay stable while rows are added.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ServiceError;

/// A method's page sizes: 0 asks for `default`; more than `max` gets `max`
/// (AIP-158 reads an oversized request as the largest page); negative is
/// refused.
#[derive(Debug, Clone, Copy)]
pub struct PageSizes {
    pub default: i64,
    pub max: i64,
}

impl PageSizes {
    pub fn get(&self, requested: i32) -> Result<i64, ServiceError> {
        match requested {
            0 => Ok(self.default),
            n if n < 0 => Err(ServiceError::invalid("page_size", "must not be negative")),
            n => Ok(i64::from(n).min(self.max)),
        }
    }
}

/// A token holding the sort key of the last item of a page, as strings.
pub fn encode(key: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// The sort key a token holds; `None` for an empty token (the first page).
/// A token that this API did not hand out, or whose key has another number
/// of parts, is INVALID_ARGUMENT.
pub fn decode(token: &str, parts: usize) -> Result<Option<Vec<String>>, ServiceError> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || ServiceError::invalid("page_token", "is not a token this API returned");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let key: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if key.len() != parts {
        return Err(invalid());
    }
    Ok(Some(key))
}

/// The next page's token: the last item's key when the page was full and
/// more follow, else empty.
pub fn next_token<T>(items: &[T], more: bool, key: impl Fn(&T) -> String) -> String {
    match (more, items.last()) {
        (true, Some(last)) => key(last),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let token = encode(&["Dune: Part Two", "0190a7a0-0000-7000-8000-000000000000"]);
        assert_eq!(
            decode(&token, 2).unwrap().unwrap(),
            ["Dune: Part Two", "0190a7a0-0000-7000-8000-000000000000"]
        );
        assert!(decode("%%%", 2).is_err());
        assert!(decode(&token, 3).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("{}"), 2).is_err());
        assert_eq!(decode("", 2).unwrap(), None);
    }

    #[test]
    fn page_sizes_default_and_cap() {
        let sizes = PageSizes {
            default: 20,
            max: 100,
        };
        assert_eq!(sizes.get(0).ok(), Some(20));
        assert_eq!(sizes.get(1000).ok(), Some(100));
        assert_eq!(sizes.get(7).ok(), Some(7));
        assert!(sizes.get(-1).is_err());
    }
}
