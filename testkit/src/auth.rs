//! A real auth-svc for tests, with an ADMIN account bootstrapped, and helpers
//! to get signed-in callers of each role.

use std::net::SocketAddr;
use std::time::Duration;

use auth_svc::config::{AuthConfig, BootstrapAdmin, LockoutPolicy};
use kursi_proto::access::v1::Role;
use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use kursi_proto::auth::v1::{LoginRequest, RegisterRequest, SetUserRoleRequest};
use service_kit::config::{CommonConfig, JwtSettings, Secret};
use tonic::transport::Channel;

use crate::{Spawned, TestDb, bearer, channel, spawn};

pub const ADMIN_EMAIL: &str = "admin@kursi.test";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A running auth-svc on its own database.
pub struct TestAuth {
    pub server: Spawned,
    pub db: TestDb,
    /// The PEM of the key it signs with, for tests that forge tokens.
    pub signing_key_pem: String,
}

/// A caller with tokens.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestAuth {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with the test configuration changed by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut AuthConfig)) -> Self {
        let db = TestDb::new("auth", &auth_svc::db::MIGRATIONS).await;
        let pem = auth_svc::keys::generate_pem().expect("generate key");
        let server = Self::serve(&db, &pem, adjust).await;
        Self {
            server,
            db,
            signing_key_pem: pem,
        }
    }

    /// Runs auth-svc on an existing database with the given key, as a restart would.
    pub async fn serve(db: &TestDb, pem: &str, adjust: impl FnOnce(&mut AuthConfig)) -> Spawned {
        let mut config = auth_config(db.url(), pem);
        adjust(&mut config);
        spawn(move |listener, shutdown| auth_svc::app::run(config, listener, shutdown)).await
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub async fn client(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(channel(self.addr()).await)
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<SignedIn, tonic::Status> {
        let reply = self
            .client()
            .await
            .login(LoginRequest {
                username: username.into(),
                password: password.into(),
                grant_type: String::new(),
            })
            .await?
            .into_inner();
        let me = self
            .client()
            .await
            .get_me(bearer(
                &reply.access_token,
                kursi_proto::auth::v1::GetMeRequest {},
            ))
            .await?
            .into_inner()
            .user
            .expect("user");
        Ok(SignedIn {
            user_id: me.user_id,
            email: me.email,
            access_token: reply.access_token,
            refresh_token: reply.refresh_token,
        })
    }

    pub async fn admin(&self) -> SignedIn {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .expect("admin login")
    }

    /// Registers a new account with `role` and signs it in.
    pub async fn sign_up(&self, role: Role) -> SignedIn {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "a perfectly fine password";
        let user = self
            .client()
            .await
            .register(RegisterRequest {
                email: email.clone(),
                password: password.into(),
                display_name: "Test User".into(),
                username: String::new(),
            })
            .await
            .expect("register")
            .into_inner()
            .user
            .expect("user");
        if role != Role::Customer {
            let admin = self.admin().await;
            self.client()
                .await
                .set_user_role(bearer(
                    &admin.access_token,
                    SetUserRoleRequest {
                        user_id: user.user_id.clone(),
                        role: role as i32,
                    },
                ))
                .await
                .expect("set role");
        }
        self.login(&email, password).await.expect("login")
    }
}

/// The shared settings of a service under test that verifies tokens with
/// the auth-svc at `auth_url`.
pub fn service_config(database_url: &str, auth_url: &str) -> CommonConfig {
    CommonConfig {
        database_url: Secret::new(database_url),
        listen_addr: "127.0.0.1:0".parse().expect("addr"),
        auth_grpc_url: auth_url.into(),
        jwt: JwtSettings::default(),
        request_timeout: Duration::from_secs(30),
        max_concurrent_requests: 512,
        database_pool_size: 5,
        database_connect_timeout: service_kit::db::DEFAULT_CONNECT_TIMEOUT,
        metrics_addr: None,
        max_connection_age: Duration::from_secs(300),
        clock: service_kit::clock::Clock::system(),
    }
}

/// Fast settings for tests: bcrypt at its lowest cost, a known admin.
pub fn auth_config(database_url: &str, pem: &str) -> AuthConfig {
    AuthConfig {
        // auth-svc verifies with its own keys; the URL is never used.
        common: service_config(database_url, "http://127.0.0.1:1"),
        signing_key_pem: Secret::new(pem),
        access_token_ttl: Duration::from_secs(900),
        refresh_token_ttl: Duration::from_secs(86_400),
        bcrypt_cost: 4,
        lockout: LockoutPolicy {
            threshold: 5,
            duration: Duration::from_secs(900),
        },
        bootstrap_admin: Some(BootstrapAdmin {
            email: ADMIN_EMAIL.into(),
            username: "admin".into(),
            password: Secret::new(ADMIN_PASSWORD),
        }),
    }
}
