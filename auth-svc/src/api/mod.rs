//! The gRPC face of auth-svc: parse each request into domain values, call
//! [`Accounts`], render the answer. No SQL and no rules live here.

mod convert;
mod pages;

use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::auth_service_server::AuthService;
use kursi_proto::auth::v1::*;
use service_kit::auth::{caller, role_name};
use service_kit::{FieldViolation, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::accounts::{Accounts, Registration, TokenPair};
use crate::domain::{DisplayName, Email, Password, Username};
use crate::jwks::PublishedKeys;
use convert::user_to_proto;

pub struct AuthApi {
    accounts: Accounts,
    keys: PublishedKeys,
}

impl AuthApi {
    pub fn new(accounts: Accounts, keys: PublishedKeys) -> Self {
        Self { accounts, keys }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn register(&self, request: Request<RegisterRequest>) -> Reply<RegisterResponse> {
        let registration = parse_registration(request.get_ref())?;
        let user = self.accounts.register(registration).await?;
        tracing::info!(user_id = %user.id, "account registered");
        Ok(Response::new(RegisterResponse {
            user: Some(user_to_proto(&user, self.accounts.now())),
        }))
    }

    async fn login(&self, request: Request<LoginRequest>) -> Reply<LoginResponse> {
        let login = request.get_ref();
        let mut violations = Vec::new();
        if login.username.trim().is_empty() {
            violations.push(FieldViolation::new(
                "username",
                "is required (an email or a username)",
            ));
        } else if login.username.trim().chars().any(char::is_control) {
            // No email or username can hold one, and PostgreSQL cannot even
            // compare text with a NUL in it: refuse before the lookup.
            violations.push(FieldViolation::new(
                "username",
                "must not contain control characters",
            ));
        }
        if login.password.is_empty() {
            violations.push(FieldViolation::new("password", "is required"));
        }
        if !matches!(login.grant_type.as_str(), "" | "password") {
            violations.push(FieldViolation::new(
                "grant_type",
                "must be \"password\" or left out",
            ));
        }
        if !violations.is_empty() {
            return Err(ServiceError::InvalidArgument(violations).into());
        }
        let pair = self
            .accounts
            .login(&login.username, &login.password)
            .await?;
        let TokenReply(a, t, e, r, re) = TokenReply::from(pair);
        Ok(Response::new(LoginResponse {
            access_token: a,
            token_type: t,
            expires_in: e,
            refresh_token: r,
            refresh_expires_in: re,
        }))
    }

    async fn refresh_token(
        &self,
        request: Request<RefreshTokenRequest>,
    ) -> Reply<RefreshTokenResponse> {
        let presented = required_token(&request.get_ref().refresh_token)?;
        let pair = self.accounts.refresh(presented).await?;
        let TokenReply(a, t, e, r, re) = TokenReply::from(pair);
        Ok(Response::new(RefreshTokenResponse {
            access_token: a,
            token_type: t,
            expires_in: e,
            refresh_token: r,
            refresh_expires_in: re,
        }))
    }

    async fn logout(&self, request: Request<LogoutRequest>) -> Reply<LogoutResponse> {
        let presented = required_token(&request.get_ref().refresh_token)?;
        self.accounts.logout(presented).await?;
        Ok(Response::new(LogoutResponse {}))
    }

    async fn get_me(&self, request: Request<GetMeRequest>) -> Reply<GetMeResponse> {
        let me = caller(&request)?;
        let user = self.accounts.user(me.user_id).await?;
        Ok(Response::new(GetMeResponse {
            user: Some(user_to_proto(&user, self.accounts.now())),
        }))
    }

    async fn get_jwks(&self, _request: Request<GetJwksRequest>) -> Reply<GetJwksResponse> {
        Ok(Response::new(GetJwksResponse {
            keys: self.keys.list().await?,
        }))
    }

    async fn list_users(&self, request: Request<ListUsersRequest>) -> Reply<ListUsersResponse> {
        let query = request.get_ref();
        let size = pages::page_size(query.page_size)?;
        let after = pages::decode(&query.page_token)?;
        // One extra row tells whether another page follows.
        let (mut rows, total_size) = self.accounts.page(after, size + 1).await?;
        let next_page_token = if rows.len() as i64 > size {
            rows.truncate(size as usize);
            rows.last()
                .map(|last| pages::encode(last.created_at, last.id))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListUsersResponse {
            users: rows
                .iter()
                .map(|row| user_to_proto(row, self.accounts.now()))
                .collect(),
            next_page_token,
            total_size,
        }))
    }

    async fn set_user_role(
        &self,
        request: Request<SetUserRoleRequest>,
    ) -> Reply<SetUserRoleResponse> {
        let admin = caller(&request)?.user_id;
        let change = request.get_ref();
        let user_id = Uuid::parse_str(change.user_id.trim())
            .map_err(|_| ServiceError::invalid("user_id", "must be a UUID"))?;
        let role = match Role::try_from(change.role) {
            Ok(Role::Unspecified) | Err(_) => {
                return Err(
                    ServiceError::invalid("role", "must be CUSTOMER, STAFF or ADMIN").into(),
                );
            }
            Ok(role) => role,
        };
        let user = self.accounts.set_role(admin, user_id, role).await?;
        tracing::info!(%user_id, role = role_name(role), by = %admin, "role changed");
        Ok(Response::new(SetUserRoleResponse {
            user: Some(user_to_proto(&user, self.accounts.now())),
        }))
    }
}

/// Every field checked, every problem reported at once.
fn parse_registration(request: &RegisterRequest) -> Result<Registration, ServiceError> {
    let email = Email::parse(&request.email);
    let password = Password::parse(&request.password);
    let display_name = DisplayName::parse(&request.display_name);
    let username = match request.username.trim() {
        "" => Ok(None),
        name => Username::parse(name).map(Some),
    };
    match (email, password, display_name, username) {
        (Ok(email), Ok(password), Ok(display_name), Ok(username)) => Ok(Registration {
            email,
            password,
            display_name,
            username,
        }),
        (email, password, display_name, username) => Err(ServiceError::InvalidArgument(
            [
                email.err(),
                password.err(),
                display_name.err(),
                username.err(),
            ]
            .into_iter()
            .flatten()
            .collect(),
        )),
    }
}

fn required_token(token: &str) -> Result<&str, ServiceError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(ServiceError::invalid("refresh_token", "is required"));
    }
    Ok(token)
}

/// The fields LoginResponse and RefreshTokenResponse share.
struct TokenReply(String, String, i64, String, i64);

impl From<TokenPair> for TokenReply {
    fn from(pair: TokenPair) -> Self {
        TokenReply(
            pair.access_token,
            "bearer".into(),
            pair.expires_in.as_secs() as i64,
            pair.refresh_token,
            pair.refresh_expires_in.as_secs() as i64,
        )
    }
}
