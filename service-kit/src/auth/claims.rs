//! The claims of a Kursi access token, shared by the signer (auth-svc) and
//! every verifier so the two can never disagree on the shape.

use kursi_proto::access::v1::Role;
use serde::{Deserialize, Serialize};

/// What an access token says. Signed with EdDSA; the header carries `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The account id (a UUID).
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    /// A unique id per token, for logs and audit.
    pub jti: String,
    /// Role names without the enum prefix: `CUSTOMER`, `STAFF`, `ADMIN`.
    pub roles: Vec<String>,
}

/// `ROLE_STAFF` → `STAFF`, the form tokens carry.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "CUSTOMER",
        Role::Staff => "STAFF",
        Role::Admin => "ADMIN",
        Role::Unspecified => "UNSPECIFIED",
    }
}

/// The inverse of [`role_name`]; unknown names are `None` and ignored by verifiers.
pub fn parse_role(name: &str) -> Option<Role> {
    match name {
        "CUSTOMER" => Some(Role::Customer),
        "STAFF" => Some(Role::Staff),
        "ADMIN" => Some(Role::Admin),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Customer, Role::Staff, Role::Admin] {
            assert_eq!(parse_role(role_name(role)), Some(role));
        }
        assert_eq!(parse_role("UNSPECIFIED"), None);
        assert_eq!(parse_role("admin"), None);
    }
}
