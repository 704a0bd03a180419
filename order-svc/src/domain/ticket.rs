//! Ticket codes: what a customer shows at the door, so they must not be
//! guessable. 128 bits from the operating system's CSPRNG, in base32
//! (RFC 4648 alphabet, no padding): 26 characters that read aloud and type
//! without ambiguity of case.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new ticket code.
pub fn new_code() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(encode(&bytes))
}

fn encode(bytes: &[u8; 16]) -> String {
    let value = u128::from_be_bytes(*bytes);
    // 26 digits of 5 bits hold 130 bits; the top two are always zero.
    (0..26)
        .rev()
        .map(|digit| char::from(ALPHABET[((value >> (digit * 5)) & 31) as usize]))
        .collect()
}

/// Whether `raw` could be a code (checked before any lookup).
pub fn looks_like_code(raw: &str) -> bool {
    raw.len() == 26 && raw.bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_26_base32_characters_and_differ() {
        let a = new_code().unwrap();
        let b = new_code().unwrap();
        assert_eq!(a.len(), 26);
        assert!(looks_like_code(&a));
        assert_ne!(a, b);
        assert_eq!(encode(&[0; 16]), "A".repeat(26));
        assert_eq!(encode(&[0xff; 16]), format!("H{}", "7".repeat(25)));
        assert!(!looks_like_code("abc"));
        assert!(!looks_like_code(&"a".repeat(26)));
    }
}
