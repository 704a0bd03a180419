//! bcrypt, kept off the async runtime.
//!
//! Sign-in with an unknown account verifies against a dummy hash of the same
//! cost, so it takes as long as a wrong password and cannot be told apart.

use service_kit::ServiceError;

use crate::domain::Password;

#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(cost: u32) -> Result<Self, String> {
        let dummy_hash =
            bcrypt::hash("kursi-dummy-password", cost).map_err(|err| err.to_string())?;
        Ok(Self { cost, dummy_hash })
    }

    pub async fn hash(&self, password: &Password) -> Result<String, ServiceError> {
        let plain = password.expose().to_owned();
        let cost = self.cost;
        tokio::task::spawn_blocking(move || bcrypt::hash(plain, cost))
            .await?
            .map_err(ServiceError::internal)
    }

    /// True when `plain` matches `hash`; `None` burns the same work and is false.
    pub async fn verify(&self, plain: &str, hash: Option<&str>) -> Result<bool, ServiceError> {
        let plain = plain.to_owned();
        let (hash, known) = match hash {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.clone(), false),
        };
        let matches = tokio::task::spawn_blocking(move || bcrypt::verify(plain, &hash))
            .await?
            .map_err(ServiceError::internal)?;
        Ok(known && matches)
    }
}
