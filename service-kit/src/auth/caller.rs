//! The verified identity of whoever made a request, handed to handlers as a
//! typed value in the request's extensions.

use std::sync::Arc;

use kursi_proto::access::v1::Role;
use tonic::Status;
use uuid::Uuid;

/// A caller whose access token was verified.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Uuid,
    pub roles: Vec<Role>,
    pub token_id: String,
    bearer: Arc<str>,
}

impl Caller {
    pub fn new(user_id: Uuid, roles: Vec<Role>, token_id: String, bearer: &str) -> Self {
        Self {
            user_id,
            roles,
            token_id,
            bearer: Arc::from(bearer),
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has_role(*role))
    }

    /// STAFF or ADMIN: may act on other customers' behalf.
    pub fn is_staff(&self) -> bool {
        self.has_any_role(&[Role::Staff, Role::Admin])
    }

    /// The caller's token, for calls made on their behalf to another service.
    pub fn bearer_token(&self) -> &str {
        &self.bearer
    }
}

/// The caller of a method whose policy requires a token.
///
/// The admission layer has already refused unauthenticated calls to such
/// methods, so a missing caller here means the method is public and the
/// handler wanted an identity anyway.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<&Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| Status::unauthenticated("this call needs an access token"))
}
