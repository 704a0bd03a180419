//! The gRPC face of auth-svc: each RPC is the caller, `parse::*`,
//! [`Accounts`] and the answer rendered. No SQL and no rules live here.

mod convert;
mod pages;
mod parse;

use kursi_proto::auth::v1::auth_service_server::AuthService;
use kursi_proto::auth::v1::*;
use service_kit::auth::{caller, role_name};
use tonic::{Request, Response, Status};

use crate::accounts::{Accounts, TokenPair};
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

/// LoginResponse and RefreshTokenResponse carry the same fields.
macro_rules! token_response {
    ($response:ident, $pair:expr) => {{
        let pair: TokenPair = $pair;
        $response {
            access_token: pair.access_token,
            token_type: "bearer".into(),
            expires_in: pair.expires_in.as_secs() as i64,
            refresh_token: pair.refresh_token,
            refresh_expires_in: pair.refresh_expires_in.as_secs() as i64,
        }
    }};
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn register(&self, request: Request<RegisterRequest>) -> Reply<RegisterResponse> {
        let registration = parse::registration(request.get_ref())?;
        let user = self.accounts.register(registration).await?;
        tracing::info!(user_id = %user.id, "account registered");
        Ok(Response::new(RegisterResponse {
            user: Some(user_to_proto(&user, self.accounts.now())),
        }))
    }

    async fn login(&self, request: Request<LoginRequest>) -> Reply<LoginResponse> {
        let (login, password) = parse::login(request.get_ref())?;
        let pair = self.accounts.login(login, password).await?;
        Ok(Response::new(token_response!(LoginResponse, pair)))
    }

    async fn refresh_token(
        &self,
        request: Request<RefreshTokenRequest>,
    ) -> Reply<RefreshTokenResponse> {
        let presented = parse::refresh_token(&request.get_ref().refresh_token)?;
        let pair = self.accounts.refresh(presented).await?;
        Ok(Response::new(token_response!(RefreshTokenResponse, pair)))
    }

    async fn logout(&self, request: Request<LogoutRequest>) -> Reply<LogoutResponse> {
        let presented = parse::refresh_token(&request.get_ref().refresh_token)?;
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
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        let now = self.accounts.now();
        Ok(Response::new(ListUsersResponse {
            next_page_token: service_kit::pages::next_token(&rows, more, |last| {
                pages::encode(last.created_at, last.id)
            }),
            users: rows.iter().map(|row| user_to_proto(row, now)).collect(),
            total_size,
        }))
    }

    async fn get_user(&self, request: Request<GetUserRequest>) -> Reply<GetUserResponse> {
        let id = service_kit::values::id("user_id", &request.get_ref().user_id)?;
        let user = self.accounts.user(id).await?;
        Ok(Response::new(GetUserResponse {
            user: Some(user_to_proto(&user, self.accounts.now())),
        }))
    }

    async fn lookup_user(&self, request: Request<LookupUserRequest>) -> Reply<LookupUserResponse> {
        let email = parse::email(&request.get_ref().email)?;
        let user = self.accounts.user_by_email(&email).await?;
        Ok(Response::new(LookupUserResponse {
            user: Some(user_to_proto(&user, self.accounts.now())),
        }))
    }

    async fn set_user_role(
        &self,
        request: Request<SetUserRoleRequest>,
    ) -> Reply<SetUserRoleResponse> {
        let admin = caller(&request)?.user_id;
        let (user_id, role) = parse::role_change(request.get_ref())?;
        let user = self.accounts.set_role(admin, user_id, role).await?;
        tracing::info!(%user_id, role = role_name(role), by = %admin, "role changed");
        Ok(Response::new(SetUserRoleResponse {
            user: Some(user_to_proto(&user, self.accounts.now())),
        }))
    }
}
