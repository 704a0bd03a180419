//! auth-svc's settings. Besides the shared ones ([`service_kit::config`]):
//!
//! - `AUTH_SIGNING_KEY_FILE` (required): Ed25519 private key, PKCS#8 PEM
//!   (`auth-svc generate-key PATH` writes one). Replacing the file and
//!   restarting rotates the key; the old one stays published until its tokens expire.
//! - `ACCESS_TOKEN_TTL_SECONDS` (900), `REFRESH_TOKEN_TTL_SECONDS` (2592000, 30 days).
//! - `BCRYPT_COST` (12; 4..=31).
//! - `LOGIN_LOCKOUT_THRESHOLD` (5) failed sign-ins in a row lock an account
//!   for `LOGIN_LOCKOUT_SECONDS` (900).
//! - `BOOTSTRAP_ADMIN_EMAIL`, `BOOTSTRAP_ADMIN_PASSWORD` (both or neither),
//!   `BOOTSTRAP_ADMIN_USERNAME` (`admin`): an ADMIN account created at start
//!   when missing. There is no built-in password.

use std::time::Duration;

use service_kit::config::{self, CommonConfig, ConfigError, Secret};

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:50051";

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub common: CommonConfig,
    /// The PEM text of the current signing key.
    pub signing_key_pem: Secret,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub bcrypt_cost: u32,
    pub lockout: LockoutPolicy,
    pub bootstrap_admin: Option<BootstrapAdmin>,
}

/// How many failed sign-ins lock an account, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub threshold: i32,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub email: String,
    pub username: String,
    pub password: Secret,
}

impl AuthConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let key_file = config::required("AUTH_SIGNING_KEY_FILE")?;
        let pem = std::fs::read_to_string(&key_file).map_err(|err| ConfigError::Invalid {
            name: "AUTH_SIGNING_KEY_FILE",
            value: key_file.clone(),
            reason: format!(
                "cannot read it ({err}); `auth-svc generate-key {key_file}` creates one"
            ),
        })?;
        crate::keys::SigningKey::from_pem(&pem).map_err(|reason| ConfigError::Invalid {
            name: "AUTH_SIGNING_KEY_FILE",
            value: key_file,
            reason,
        })?;
        Ok(Self {
            common: CommonConfig::from_env(DEFAULT_LISTEN_ADDR)?,
            signing_key_pem: Secret::new(pem),
            access_token_ttl: config::seconds_or("ACCESS_TOKEN_TTL_SECONDS", 900, 30..=86_400)?,
            refresh_token_ttl: config::seconds_or(
                "REFRESH_TOKEN_TTL_SECONDS",
                30 * 86_400,
                60..=365 * 86_400,
            )?,
            bcrypt_cost: config::ranged_or("BCRYPT_COST", 12, 4..=31)?,
            lockout: LockoutPolicy {
                threshold: config::ranged_or("LOGIN_LOCKOUT_THRESHOLD", 5, 1..=1000)?,
                duration: config::seconds_or("LOGIN_LOCKOUT_SECONDS", 900, 1..=86_400)?,
            },
            bootstrap_admin: bootstrap_admin_from_env()?,
        })
    }
}

fn bootstrap_admin_from_env() -> Result<Option<BootstrapAdmin>, ConfigError> {
    match (
        config::var("BOOTSTRAP_ADMIN_EMAIL"),
        config::var("BOOTSTRAP_ADMIN_PASSWORD"),
    ) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::Missing("BOOTSTRAP_ADMIN_PASSWORD")),
        (None, Some(_)) => Err(ConfigError::Missing("BOOTSTRAP_ADMIN_EMAIL")),
        (Some(email), Some(password)) => {
            let invalid = |name, value: &str, reason: String| ConfigError::Invalid {
                name,
                value: value.to_owned(),
                reason,
            };
            crate::domain::Email::parse(&email)
                .map_err(|v| invalid("BOOTSTRAP_ADMIN_EMAIL", &email, v.description))?;
            crate::domain::Password::parse(&password)
                .map_err(|v| invalid("BOOTSTRAP_ADMIN_PASSWORD", "(hidden)", v.description))?;
            let username =
                config::var("BOOTSTRAP_ADMIN_USERNAME").unwrap_or_else(|| "admin".into());
            crate::domain::Username::parse(&username)
                .map_err(|v| invalid("BOOTSTRAP_ADMIN_USERNAME", &username, v.description))?;
            Ok(Some(BootstrapAdmin {
                email,
                username,
                password: Secret::new(password),
            }))
        }
    }
}
