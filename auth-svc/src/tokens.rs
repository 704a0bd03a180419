//! Minting tokens: signed JWT access tokens, and opaque refresh tokens of
//! which only a SHA-256 hash is ever stored.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header};
use kursi_proto::access::v1::Role;
use service_kit::ServiceError;
use service_kit::auth::{AccessClaims, role_name};
use service_kit::config::JwtSettings;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::keys::SigningKey;

/// Signs an access token for `user_id` holding `role`.
pub fn access_token(
    key: &SigningKey,
    jwt: &JwtSettings,
    user_id: Uuid,
    role: Role,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<String, ServiceError> {
    let issued = now.timestamp();
    let claims = AccessClaims {
        iss: jwt.issuer.clone(),
        sub: user_id.to_string(),
        aud: jwt.audience.clone(),
        exp: issued + ttl.as_secs() as i64,
        iat: issued,
        nbf: issued,
        jti: Uuid::new_v4().to_string(),
        roles: vec![role_name(role).to_owned()],
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, &claims, key.encoding_key()).map_err(ServiceError::internal)
}

/// A new refresh token: what the client gets, and what the database keeps.
pub struct RefreshToken {
    pub plain: String,
    pub hash: Vec<u8>,
}

impl RefreshToken {
    pub fn generate() -> Result<Self, ServiceError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(ServiceError::internal)?;
        let plain = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_refresh_token(&plain);
        Ok(Self { plain, hash })
    }
}

pub fn hash_refresh_token(plain: &str) -> Vec<u8> {
    Sha256::digest(plain.as_bytes()).to_vec()
}
