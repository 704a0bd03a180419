//! Verifies access tokens with the public keys auth-svc publishes (JWKS).
//!
//! Keys are cached. A token signed with a key we have not seen makes us fetch
//! the set again (key rotation), but no more often than [`MIN_REFETCH`], so a
//! flood of tokens with made-up `kid`s cannot turn into a flood of fetches.
//! The algorithm is pinned to EdDSA: `alg: none` and HS256 tokens signed with
//! the public key as a secret are refused before any key is looked at.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use kursi_proto::auth::v1::{GetJwksRequest, Jwk, auth_service_client::AuthServiceClient};
use tokio::sync::{Mutex, RwLock};
use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;

use super::verified::Verified;
use super::{AccessClaims, Caller, parse_role};
use crate::config::JwtSettings;

/// How long a fetched key set is trusted before it is fetched again.
const MAX_KEY_AGE: Duration = Duration::from_secs(300);
/// The least time between two fetches caused by unknown `kid`s, by default.
const MIN_REFETCH: Duration = Duration::from_secs(5);

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Unauthenticated(String),
    /// The keys could not be fetched: the caller is not at fault.
    #[error("{0}")]
    Unavailable(String),
}

impl From<VerifyError> for tonic::Status {
    fn from(err: VerifyError) -> Self {
        match err {
            VerifyError::Unauthenticated(m) => tonic::Status::unauthenticated(m),
            VerifyError::Unavailable(m) => tonic::Status::unavailable(m),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeySourceError(pub String);

/// Where the public keys come from: auth-svc over gRPC for every other
/// service, auth-svc's own database inside auth-svc.
pub trait KeySource: Send + Sync + 'static {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, KeySourceError>>;
}

/// The JWKS of auth-svc, fetched with `AuthService.GetJwks`.
#[derive(Clone)]
pub struct RemoteJwks {
    client: AuthServiceClient<Channel>,
}

impl RemoteJwks {
    /// Connects lazily: a service starts even while auth-svc is down.
    pub fn new(auth_grpc_url: &str) -> Result<Self, String> {
        let endpoint = Endpoint::from_shared(auth_grpc_url.to_owned())
            .map_err(|err| format!("AUTH_GRPC_URL: {err}"))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5));
        Ok(Self {
            client: AuthServiceClient::new(endpoint.connect_lazy()),
        })
    }
}

impl KeySource for RemoteJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, KeySourceError>> {
        let mut client = self.client.clone();
        Box::pin(async move {
            client
                .get_jwks(GetJwksRequest {})
                .await
                .map(|response| response.into_inner().keys)
                .map_err(|status| {
                    KeySourceError(format!(
                        "auth-svc did not hand out its keys: {}",
                        status.message()
                    ))
                })
        })
    }
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

impl KeyCache {
    fn is_fresh(&self) -> bool {
        self.fetched_at.is_some_and(|at| at.elapsed() < MAX_KEY_AGE)
    }

    fn may_refetch(&self, floor: Duration) -> bool {
        self.fetched_at.is_none_or(|at| at.elapsed() >= floor)
    }
}

/// Checks signature, algorithm, `iss`, `aud`, `exp` and `nbf`, and turns the
/// claims into a [`Caller`].
pub struct TokenVerifier {
    source: Box<dyn KeySource>,
    validation: Validation,
    cache: RwLock<KeyCache>,
    refetch: Mutex<()>,
    refetch_floor: Duration,
    verified: Verified,
}

impl TokenVerifier {
    pub fn new(source: impl KeySource, settings: &JwtSettings) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = settings.leeway.as_secs();
        Self {
            source: Box::new(source),
            validation,
            cache: RwLock::new(KeyCache::default()),
            refetch: Mutex::new(()),
            refetch_floor: MIN_REFETCH,
            verified: Verified::default(),
        }
    }

    /// Sets the least time between fetches caused by unknown `kid`s.
    pub fn with_refetch_floor(mut self, floor: Duration) -> Self {
        self.refetch_floor = floor;
        self
    }

    /// The caller of a valid token. A token that passed this check in the
    /// last few seconds is taken at its word (see `verified`).
    pub async fn verify(&self, token: &str) -> Result<Caller, VerifyError> {
        if let Some(caller) = self.verified.get(token) {
            return Ok(caller);
        }
        let unauthenticated =
            |why: &str| VerifyError::Unauthenticated(format!("invalid access token: {why}"));
        let header = decode_header(token).map_err(|_| unauthenticated("not a JWT"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(unauthenticated("unsupported signing algorithm"));
        }
        let kid = header
            .kid
            .ok_or_else(|| unauthenticated("no key id (kid)"))?;
        let key = self.key(&kid).await?;
        let claims = decode::<AccessClaims>(token, &key, &self.validation)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                match err.kind() {
                    ErrorKind::ExpiredSignature => unauthenticated("expired"),
                    ErrorKind::ImmatureSignature => unauthenticated("not valid yet"),
                    ErrorKind::InvalidAudience => unauthenticated("wrong audience"),
                    ErrorKind::InvalidIssuer => unauthenticated("wrong issuer"),
                    ErrorKind::InvalidSignature => unauthenticated("bad signature"),
                    _ => unauthenticated("malformed"),
                }
            })?
            .claims;
        let user_id = Uuid::parse_str(&claims.sub).map_err(|_| unauthenticated("bad subject"))?;
        let roles = claims
            .roles
            .iter()
            .filter_map(|name| parse_role(name))
            .collect();
        let caller = Caller::new(user_id, roles, claims.jti, token);
        self.verified.insert(token, claims.exp, &caller);
        Ok(caller)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, VerifyError> {
        {
            let cache = self.cache.read().await;
            if cache.is_fresh()
                && let Some(key) = cache.keys.get(kid)
            {
                return Ok(key.clone());
            }
        }
        // One fetch at a time; whoever waited here may find it already done.
        let _turn = self.refetch.lock().await;
        let mut cache = self.cache.write().await;
        let known = cache.keys.contains_key(kid);
        let should_fetch = !cache.is_fresh() || (!known && cache.may_refetch(self.refetch_floor));
        if should_fetch {
            match self.source.fetch().await {
                Ok(jwks) => {
                    cache.keys = decoding_keys(&jwks);
                    cache.fetched_at = Some(Instant::now());
                }
                Err(err) if cache.keys.contains_key(kid) => {
                    // A key we already trust stays usable while auth-svc is away.
                    tracing::warn!(error = %err, "could not refresh the JWKS; using cached keys");
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not fetch the JWKS");
                    return Err(VerifyError::Unavailable(
                        "cannot verify the access token: the signing keys are unavailable".into(),
                    ));
                }
            }
        }
        cache.keys.get(kid).cloned().ok_or_else(|| {
            VerifyError::Unauthenticated("invalid access token: unknown signing key".into())
        })
    }
}

fn decoding_keys(jwks: &[Jwk]) -> HashMap<String, DecodingKey> {
    jwks.iter()
        .filter(|jwk| jwk.kty == "OKP" && jwk.crv == "Ed25519" && jwk.alg == "EdDSA")
        .filter_map(|jwk| match DecodingKey::from_ed_components(&jwk.x) {
            Ok(key) => Some((jwk.kid.clone(), key)),
            Err(err) => {
                tracing::warn!(kid = %jwk.kid, error = %err, "skipping an unusable JWK");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::SigningKey;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use jsonwebtoken::{EncodingKey, Header, encode};

    use super::*;

    const KID: &str = "test-key";

    /// A JWKS of one fixed key, as auth-svc would publish it.
    struct FixedJwks(Jwk);

    impl KeySource for FixedJwks {
        fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, KeySourceError>> {
            let jwk = self.0.clone();
            Box::pin(async move { Ok(vec![jwk]) })
        }
    }

    fn jwk(key: &SigningKey) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            kid: KID.into(),
            alg: "EdDSA".into(),
            r#use: "sig".into(),
        }
    }

    fn settings() -> JwtSettings {
        JwtSettings::default()
    }

    fn token(key: &SigningKey, jti: &str) -> String {
        token_expiring(key, jti, chrono::Utc::now().timestamp() + 600)
    }

    fn token_expiring(key: &SigningKey, jti: &str, exp: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            iss: "kursi".into(),
            sub: Uuid::new_v4().to_string(),
            aud: "kursi".into(),
            exp,
            iat: now,
            nbf: now,
            jti: jti.into(),
            roles: vec!["CUSTOMER".into()],
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(KID.into());
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes()).unwrap();
        encode(&header, &claims, &encoding).unwrap()
    }

    #[tokio::test]
    async fn a_token_verified_a_moment_ago_skips_the_signature_check() {
        let signer = SigningKey::from_bytes(&[7; 32]);
        let verifier = TokenVerifier::new(FixedJwks(jwk(&signer)), &settings());
        let first = token(&signer, "first");
        verifier.verify(&first).await.expect("a valid token");

        // The cached key for the kid no longer matches the signer, so only
        // a token remembered from before can still pass.
        let stranger = SigningKey::from_bytes(&[9; 32]);
        let keys = decoding_keys(&[jwk(&stranger)]);
        verifier.cache.write().await.keys = keys;

        let again = verifier.verify(&first).await.expect("remembered");
        assert_eq!(again.token_id, "first");
        assert_eq!(
            verifier.verify(&token(&signer, "second")).await.err(),
            Some(VerifyError::Unauthenticated(
                "invalid access token: bad signature".into()
            )),
            "a token not seen before gets the full check"
        );
    }

    #[tokio::test]
    async fn an_expired_token_is_refused_after_a_few_seconds_of_leeway() {
        let signer = SigningKey::from_bytes(&[7; 32]);
        let verifier = TokenVerifier::new(FixedJwks(jwk(&signer)), &settings());
        let now = chrono::Utc::now().timestamp();
        // With the earlier 30 s of leeway, a token 20 s past its exp was
        // still taken.
        let late = token_expiring(&signer, "late", now - 20);
        assert_eq!(
            verifier.verify(&late).await.err(),
            Some(VerifyError::Unauthenticated(
                "invalid access token: expired".into()
            ))
        );
        let skewed = token_expiring(&signer, "skewed", now - 1);
        verifier
            .verify(&skewed)
            .await
            .expect("a second past exp is within the leeway");
    }
}
