//! Access policies as the contracts declare them.
//!
//! Each RPC in `proto/` carries `option (kursi.access.v1.policy)`. This table
//! is read from the descriptor set at start-up, so the services and the edge
//! apply the one declaration and nobody keeps a second list.

use std::collections::HashMap;

use kursi_proto::access::v1::{AccessPolicy, Role, access_policy::Rule};
use prost_reflect::{DescriptorPool, Value};

use super::Caller;

/// Who may call one method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    Public,
    SignedIn,
    AnyRole(Vec<Role>),
    /// The contract declares nothing: refused to everyone, so a forgotten
    /// option fails closed.
    Undeclared,
}

/// Why a caller was turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No valid token where one is needed.
    Unauthenticated,
    /// A valid token without a required role.
    Forbidden(String),
}

impl Policy {
    pub fn requires_token(&self) -> bool {
        !matches!(self, Policy::Public)
    }

    /// Decides for a caller who is `None` when no valid token came with the call.
    pub fn admit(&self, caller: Option<&Caller>) -> Result<(), Denial> {
        match (self, caller) {
            (Policy::Public, _) => Ok(()),
            (Policy::Undeclared, _) => Err(Denial::Forbidden(
                "this method declares no access policy".into(),
            )),
            (_, None) => Err(Denial::Unauthenticated),
            (Policy::SignedIn, Some(_)) => Ok(()),
            (Policy::AnyRole(roles), Some(caller)) if caller.has_any_role(roles) => Ok(()),
            (Policy::AnyRole(roles), Some(_)) => Err(Denial::Forbidden(format!(
                "this call needs the role {}",
                roles
                    .iter()
                    .map(|role| super::role_name(*role))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }

    fn from_declaration(declared: AccessPolicy) -> Self {
        match declared.rule {
            Some(Rule::Public(true)) => Policy::Public,
            Some(Rule::SignedIn(true)) => Policy::SignedIn,
            Some(Rule::AnyRole(set)) => {
                let roles: Vec<Role> = set
                    .roles
                    .into_iter()
                    .filter_map(|value| Role::try_from(value).ok())
                    .filter(|role| *role != Role::Unspecified)
                    .collect();
                if roles.is_empty() {
                    Policy::Undeclared
                } else {
                    Policy::AnyRole(roles)
                }
            }
            _ => Policy::Undeclared,
        }
    }
}

/// Every method's policy, keyed by its gRPC path (`/package.Service/Method`).
#[derive(Debug, Clone, Default)]
pub struct PolicyTable {
    by_path: HashMap<String, Policy>,
}

impl PolicyTable {
    /// The policies of every Kursi contract.
    pub fn kursi() -> Result<Self, String> {
        Self::from_descriptor_set(kursi_proto::FILE_DESCRIPTOR_SET)
    }

    pub fn from_descriptor_set(encoded: &[u8]) -> Result<Self, String> {
        let pool = DescriptorPool::decode(encoded).map_err(|err| err.to_string())?;
        Self::from_pool(&pool)
    }

    pub fn from_pool(pool: &DescriptorPool) -> Result<Self, String> {
        let extension = pool
            .get_extension_by_name("kursi.access.v1.policy")
            .ok_or("the descriptor set lacks kursi.access.v1.policy")?;
        let mut by_path = HashMap::new();
        for service in pool.services() {
            for method in service.methods() {
                let options = method.options();
                let policy = if options.has_extension(&extension) {
                    match options.get_extension(&extension).as_ref() {
                        Value::Message(message) => message
                            .transcode_to::<AccessPolicy>()
                            .map(Policy::from_declaration)
                            .map_err(|err| format!("{}: {err}", method.full_name()))?,
                        _ => Policy::Undeclared,
                    }
                } else {
                    Policy::Undeclared
                };
                by_path.insert(
                    format!("/{}/{}", service.full_name(), method.name()),
                    policy,
                );
            }
        }
        Ok(Self { by_path })
    }

    /// The policy of a gRPC path, or `None` for paths that are not Kursi
    /// methods (health, reflection), which are open to all.
    pub fn lookup(&self, path: &str) -> Option<&Policy> {
        self.by_path.get(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Policy)> {
        self.by_path
            .iter()
            .map(|(path, policy)| (path.as_str(), policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn table() -> PolicyTable {
        PolicyTable::kursi().expect("the Kursi descriptor set decodes")
    }

    #[test]
    fn every_kursi_method_declares_a_policy() {
        let table = table();
        let undeclared: Vec<&str> = table
            .iter()
            .filter(|(_, policy)| **policy == Policy::Undeclared)
            .map(|(path, _)| path)
            .collect();
        assert!(
            undeclared.is_empty(),
            "methods without a policy: {undeclared:?}"
        );
        assert!(table.iter().count() > 5);
    }

    #[test]
    fn declarations_are_read_from_the_contract() {
        let table = table();
        assert_eq!(
            table.lookup("/kursi.auth.v1.AuthService/Login"),
            Some(&Policy::Public)
        );
        assert_eq!(
            table.lookup("/kursi.auth.v1.AuthService/GetMe"),
            Some(&Policy::SignedIn)
        );
        assert_eq!(
            table.lookup("/kursi.auth.v1.AuthService/ListUsers"),
            Some(&Policy::AnyRole(vec![Role::Admin]))
        );
        assert_eq!(table.lookup("/grpc.health.v1.Health/Check"), None);
    }

    #[test]
    fn admission_follows_the_policy() {
        let customer = Caller::new(Uuid::nil(), vec![Role::Customer], "t".into(), "b");
        let admin_only = Policy::AnyRole(vec![Role::Admin]);
        assert_eq!(Policy::SignedIn.admit(None), Err(Denial::Unauthenticated));
        assert_eq!(Policy::SignedIn.admit(Some(&customer)), Ok(()));
        assert!(matches!(
            admin_only.admit(Some(&customer)),
            Err(Denial::Forbidden(_))
        ));
        assert_eq!(Policy::Public.admit(None), Ok(()));
        assert!(matches!(
            Policy::Undeclared.admit(Some(&customer)),
            Err(Denial::Forbidden(_))
        ));
    }
}
