//! The sign-in rules: registration, login with lockout, refresh-token rotation
//! with reuse detection, logout, and the bootstrap admin.
//!
//! Handlers in `api` parse requests and call these; these call `db`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use kursi_proto::access::v1::Role;
use service_kit::auth::{parse_role, role_name};
use service_kit::clock::Clock;
use service_kit::config::JwtSettings;
use service_kit::db::{self, Pool, RefuseExt, ScopedFutureExt};
use service_kit::{FieldViolation, ServiceError};
use uuid::Uuid;

use crate::config::{AuthConfig, BootstrapAdmin, LockoutPolicy};
use crate::db::refresh_tokens::{self, NewRefreshToken};
use crate::db::users::{self, NewUser, UserRow};
use crate::domain::{DisplayName, Email, Password, Username};
use crate::keys::SigningKey;
use crate::passwords::PasswordHasher;
use crate::tokens::{self, RefreshToken};

/// A new account, already validated.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub display_name: DisplayName,
    pub username: Option<Username>,
}

/// What a successful login or refresh hands out.
#[derive(Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: Duration,
    pub refresh_token: String,
    pub refresh_expires_in: Duration,
}

/// Settings that shape the tokens.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub jwt: JwtSettings,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

#[derive(Clone)]
pub struct Accounts {
    pool: Pool,
    hasher: PasswordHasher,
    key: SigningKey,
    tokens: TokenPolicy,
    lockout: LockoutPolicy,
    clock: Clock,
}

const BAD_CREDENTIALS: &str = "invalid username or password";
const BAD_REFRESH_TOKEN: &str = "the refresh token is not valid; sign in again";

impl Accounts {
    /// The accounts on `pool`, with the token, lockout and clock settings
    /// of `config`.
    pub fn new(pool: Pool, hasher: PasswordHasher, key: SigningKey, config: &AuthConfig) -> Self {
        Self {
            pool,
            hasher,
            key,
            tokens: TokenPolicy {
                jwt: config.common.jwt.clone(),
                access_ttl: config.access_token_ttl,
                refresh_ttl: config.refresh_token_ttl,
            },
            lockout: config.lockout,
            clock: config.common.clock.clone(),
        }
    }

    /// Now, on the service's clock: what tokens, locks and answers go by.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn register(&self, registration: Registration) -> Result<UserRow, ServiceError> {
        let hash = self.hasher.hash(&registration.password).await?;
        let now = self.clock.now();
        let new_user = NewUser {
            id: Uuid::now_v7(),
            email: registration.email.as_str(),
            username: registration.username.as_ref().map(Username::as_str),
            display_name: registration.display_name.as_str(),
            password_hash: &hash,
            role: role_name(Role::Customer),
            created_at: now,
            updated_at: now,
        };
        db::write_once(&self.pool, |conn| {
            async move {
                users::insert(conn, new_user).await.refuse(|broken| {
                    let taken = match broken.constraint {
                        users::USERNAME_UNIQUE => "username",
                        users::EMAIL_UNIQUE => "email",
                        _ => return None,
                    };
                    Some(ServiceError::AlreadyExists(format!(
                        "an account with this {taken} already exists"
                    )))
                })
            }
            .scope_boxed()
        })
        .await
    }

    /// Signs in by email or username. Unknown accounts and wrong passwords
    /// get the same answer after the same bcrypt work.
    pub async fn login(&self, login: &str, password: &str) -> Result<TokenPair, ServiceError> {
        let user = db::read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(users::find_by_login(conn, login.trim()).await?) }
                .scope_boxed()
        })
        .await?;
        if let Some(until) = user
            .as_ref()
            .and_then(|user| user.locked_at(self.clock.now()))
        {
            return Err(locked(until));
        }
        let matches = self
            .hasher
            .verify(
                password,
                user.as_ref().map(|user| user.password_hash.as_str()),
            )
            .await?;
        let Some(user) = user else {
            return Err(ServiceError::Unauthenticated(BAD_CREDENTIALS.into()));
        };
        if !matches {
            let now = self.clock.now();
            let lock_until = now
                + chrono::Duration::from_std(self.lockout.duration)
                    .map_err(ServiceError::internal)?;
            let threshold = self.lockout.threshold;
            let after = db::write_once(&self.pool, |conn| {
                async move {
                    Ok::<_, ServiceError>(
                        users::record_failed_login(conn, user.id, threshold, lock_until, now)
                            .await?,
                    )
                }
                .scope_boxed()
            })
            .await?;
            tracing::info!(user_id = %user.id, "failed sign-in");
            return Err(match after.locked_at(now) {
                Some(until) => locked(until),
                None => ServiceError::Unauthenticated(BAD_CREDENTIALS.into()),
            });
        }
        db::write_once(&self.pool, |conn| {
            async move {
            Ok::<_, ServiceError>(users::record_successful_login(conn, user.id).await?)
        }.scope_boxed()
        })
        .await?;
        self.issue(&user, Uuid::now_v7()).await
    }

    /// Trades a refresh token for a new pair. A token presented a second time
    /// has leaked or been replayed: its whole family is revoked.
    pub async fn refresh(&self, presented: &str) -> Result<TokenPair, ServiceError> {
        let hash = &tokens::hash_refresh_token(presented);
        let now = self.clock.now();
        let outcome = db::transaction(&self.pool, |conn| async move {
                let Some(token) = refresh_tokens::find_for_update(conn, hash).await? else {
                    return Ok::<_, ServiceError>(Exchange::Refused);
                };
                if token.revoked_at.is_some() || token.expires_at <= now {
                    return Ok(Exchange::Refused);
                }
                if token.spent_at.is_some() {
                    let revoked = refresh_tokens::revoke_family(conn, token.family_id, now).await?;
                    tracing::warn!(user_id = %token.user_id, family = %token.family_id, revoked, "refresh token reused; family revoked");
                    return Ok(Exchange::Reused);
                }
                refresh_tokens::mark_spent(conn, token.id, now).await?;
                let user = users::find(conn, token.user_id).await?;
                Ok(user.map_or(Exchange::Refused, |user| Exchange::Spent(user, token.family_id)))
            }.scope_boxed())
            .await?;
        match outcome {
            Exchange::Spent(user, family) => self.issue(&user, family).await,
            Exchange::Refused => Err(ServiceError::Unauthenticated(BAD_REFRESH_TOKEN.into())),
            Exchange::Reused => Err(ServiceError::Unauthenticated(
                "this refresh token was already used, so every session of that sign-in has been revoked; sign in again"
                    .into(),
            )),
        }
    }

    /// Revokes the presented token's family. Logging out twice is fine.
    pub async fn logout(&self, presented: &str) -> Result<(), ServiceError> {
        let hash = &tokens::hash_refresh_token(presented);
        let now = self.clock.now();
        let family = db::transaction(&self.pool, |conn| {
            async move {
                let Some(token) = refresh_tokens::find_for_update(conn, hash).await? else {
                    return Ok::<_, ServiceError>(None);
                };
                refresh_tokens::revoke_family(conn, token.family_id, now).await?;
                Ok(Some(token.family_id))
            }
            .scope_boxed()
        })
        .await?;
        match family {
            Some(_) => Ok(()),
            None => Err(ServiceError::Unauthenticated(BAD_REFRESH_TOKEN.into())),
        }
    }

    pub async fn user(&self, id: Uuid) -> Result<UserRow, ServiceError> {
        db::read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(users::find(conn, id).await?) }.scope_boxed()
        })
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no account with id {id}")))
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<UserRow, ServiceError> {
        db::read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(users::find_by_email(conn, email.as_str()).await?) }
                .scope_boxed()
        })
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no account with email {}", email.as_str())))
    }

    /// Up to `limit` accounts after a (created_at, id) position, oldest
    /// first, and how many accounts there are in all.
    pub async fn page(
        &self,
        after: Option<(chrono::DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> Result<(Vec<UserRow>, i64), ServiceError> {
        db::read(&self.pool, |conn| {
            async move {
                let rows = users::page(conn, after, limit).await?;
                let total = users::count(conn).await?;
                Ok::<_, ServiceError>((rows, total))
            }
            .scope_boxed()
        })
        .await
    }

    /// An admin gives another account a new role; their own is off limits so
    /// that the last admin cannot lock everyone out by accident.
    pub async fn set_role(
        &self,
        admin: Uuid,
        user_id: Uuid,
        role: Role,
    ) -> Result<UserRow, ServiceError> {
        if user_id == admin {
            return Err(ServiceError::FailedPrecondition(
                "admins cannot change their own role; ask another admin".into(),
            ));
        }
        let now = self.clock.now();
        db::write_once(&self.pool, |conn| {
            async move {
                Ok::<_, ServiceError>(users::set_role(conn, user_id, role_name(role), now).await?)
            }
            .scope_boxed()
        })
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no account with id {user_id}")))
    }

    /// Creates the configured admin when missing, or makes sure it is ADMIN.
    /// An existing account's password is left alone.
    pub async fn bootstrap_admin(&self, admin: &BootstrapAdmin) -> Result<(), ServiceError> {
        let mut conn = self.pool.get().await?;
        if let Some(existing) = users::find_by_email(&mut conn, &admin.email).await? {
            if parse_role(&existing.role) != Some(Role::Admin) {
                let now = self.clock.now();
                users::set_role(&mut conn, existing.id, role_name(Role::Admin), now).await?;
                tracing::info!(email = %admin.email, "bootstrap account promoted to ADMIN");
            }
            return Ok(());
        }
        drop(conn);
        let invalid = |v: FieldViolation| ServiceError::InvalidArgument(vec![v]);
        let registration = Registration {
            email: Email::parse(&admin.email).map_err(invalid)?,
            password: Password::parse(admin.password.expose()).map_err(invalid)?,
            display_name: DisplayName::parse("Administrator").map_err(invalid)?,
            username: Some(Username::parse(&admin.username).map_err(invalid)?),
        };
        let user = match self.register(registration).await {
            Ok(user) => user,
            // Another replica bootstrapped it at the same moment.
            Err(ServiceError::AlreadyExists(_)) => return Ok(()),
            Err(err) => return Err(err),
        };
        let mut conn = self.pool.get().await?;
        users::set_role(&mut conn, user.id, role_name(Role::Admin), self.clock.now()).await?;
        tracing::info!(email = %admin.email, "bootstrap ADMIN account created");
        Ok(())
    }

    async fn issue(&self, user: &UserRow, family_id: Uuid) -> Result<TokenPair, ServiceError> {
        let role = parse_role(&user.role).ok_or_else(|| {
            ServiceError::internal(format!("user {} has unknown role {}", user.id, user.role))
        })?;
        let now = self.clock.now();
        let access_token = tokens::access_token(
            &self.key,
            &self.tokens.jwt,
            user.id,
            role,
            now,
            self.tokens.access_ttl,
        )?;
        let refresh = RefreshToken::generate()?;
        let expires_at = now
            + chrono::Duration::from_std(self.tokens.refresh_ttl)
                .map_err(ServiceError::internal)?;
        let token = NewRefreshToken {
            id: Uuid::now_v7(),
            family_id,
            user_id: user.id,
            token_hash: &refresh.hash,
            issued_at: now,
            expires_at,
        };
        db::write_once(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(refresh_tokens::insert(conn, token).await?) }
                .scope_boxed()
        })
        .await?;
        Ok(TokenPair {
            access_token,
            expires_in: self.tokens.access_ttl,
            refresh_token: refresh.plain,
            refresh_expires_in: self.tokens.refresh_ttl,
        })
    }
}

enum Exchange {
    Spent(UserRow, Uuid),
    Refused,
    Reused,
}

fn locked(until: chrono::DateTime<Utc>) -> ServiceError {
    ServiceError::ResourceExhausted(format!(
        "too many failed sign-ins: the account is locked until {}",
        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    ))
}
