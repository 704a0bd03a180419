//! The Ed25519 key that signs access tokens, and its public half as a JWK.
//!
//! The key id is the RFC 7638 thumbprint of the public key, so the same key
//! always has the same `kid` on every replica, with nothing to configure.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{
    DecodePrivateKey, EncodePrivateKey, KeypairBytes, spki::der::pem::LineEnding,
};
use jsonwebtoken::EncodingKey;
use kursi_proto::auth::v1::Jwk;
use sha2::{Digest, Sha256};

/// The current signing key.
#[derive(Clone)]
pub struct SigningKey {
    encoding: EncodingKey,
    kid: String,
    public_x: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PKCS#8 PEM Ed25519 private key.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map_err(|err| format!("not an Ed25519 PKCS#8 PEM private key: {err}"))?;
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes())
            .map_err(|err| format!("unusable Ed25519 key: {err}"))?;
        let public_x = URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
        Ok(Self {
            encoding,
            kid: thumbprint(&public_x),
            public_x,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_x(&self) -> &str {
        &self.public_x
    }

    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

/// A new random Ed25519 private key as PKCS#8 PEM.
///
/// Written as PKCS#8 v1 (the seed alone), the form `openssl genpkey
/// -algorithm ed25519` writes: OpenSSL and most tooling refuse the v2 form
/// that embeds the public key, and operators should be able to inspect
/// their key with them.
pub fn generate_pem() -> Result<String, String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|err| format!("no randomness available: {err}"))?;
    let seed_only = KeypairBytes {
        secret_key: seed,
        public_key: None,
    };
    seed_only
        .to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|err| format!("cannot encode the key: {err}"))
}

/// The public JWK of a key with this `x` and `kid`.
pub fn jwk(kid: &str, public_x: &str) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: public_x.into(),
        kid: kid.into(),
        alg: "EdDSA".into(),
        r#use: "sig".into(),
    }
}

/// RFC 7638: SHA-256 over the required members in lexicographic order.
fn thumbprint(public_x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{public_x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_and_have_stable_distinct_ids() {
        let pem = generate_pem().expect("generate");
        let key = SigningKey::from_pem(&pem).expect("load");
        assert_eq!(key.kid(), SigningKey::from_pem(&pem).expect("reload").kid());
        let other = SigningKey::from_pem(&generate_pem().expect("generate")).expect("load");
        assert_ne!(key.kid(), other.kid());
        assert_eq!(
            URL_SAFE_NO_PAD.decode(key.public_x()).map(|x| x.len()),
            Ok(32)
        );
    }

    #[test]
    fn thumbprint_matches_rfc_8037_appendix_a3() {
        // RFC 8037 A.3: the thumbprint of its example Ed25519 key.
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn generated_keys_are_pkcs8_v1_like_openssl_writes() {
        let pem = generate_pem().expect("generate");
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64");
        // SEQUENCE { INTEGER 0, AlgorithmIdentifier Ed25519, OCTET STRING seed }: 48 bytes.
        assert_eq!(der.len(), 48);
        assert_eq!(&der[..5], &[0x30, 0x2e, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn a_key_made_by_openssl_loads_with_the_right_public_key() {
        // `openssl genpkey -algorithm ed25519`; its public key read with
        // `openssl pkey -pubout`. A throwaway key for this test only.
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEIPZWSmlBQLRGUj0PDeeGGw6OGL6kjYo95ktpwRbVhK0h\n\
                   -----END PRIVATE KEY-----\n";
        let key = SigningKey::from_pem(pem).expect("openssl key");
        assert_eq!(
            key.public_x(),
            "xn-eBGA9vHxRvDkd7zwMdwSkdTDJbJT4Cu6Yhe4wieU"
        );
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(
            SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
    }
}
