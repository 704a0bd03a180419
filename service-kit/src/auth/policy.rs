//! Access policies as the contracts declare them.
//!
//! Each RPC in `proto/` carries `option (kursi.access.v1.policy)`. This table
//! is read from the descriptor set at start-up, so the services and the edge
//! apply the one declaration and nobody keeps a second list.
//!
//! A vendored service Kursi serves (`google.longrunning.Operations`) cannot
//! carry that option; the Kursi file of the service that serves it declares
//! its methods with the file option `kursi.access.v1.external_method`
//! instead ([`ExternalMethod`]): the policy, read into this table like any
//! other, and the REST binding, which the edge reads from
//! [`PolicyTable::external`].

use std::collections::HashMap;

use kursi_proto::access::v1::{AccessPolicy, Role, access_policy::Rule};
use kursi_proto::google::api::HttpRule;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value};

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

/// A method of a service defined outside Kursi's contracts, as the Kursi
/// file that serves it declares it (`kursi.access.v1.external_method`).
#[derive(Debug, Clone)]
pub struct ExternalMethod {
    pub method: MethodDescriptor,
    pub policy: Policy,
    /// Its REST binding; the method's own `google.api.http` does not count.
    /// `None`: not exposed over REST.
    pub http: Option<HttpRule>,
    /// The package of the declaring file (`kursi.catalog.v1`), whose
    /// service serves the method.
    pub declared_in: String,
}

/// Every method's policy, keyed by its gRPC path (`/package.Service/Method`).
#[derive(Debug, Clone, Default)]
pub struct PolicyTable {
    by_path: HashMap<String, Policy>,
    external: Vec<ExternalMethod>,
}

/// The gRPC path of a method: `/package.Service/Method`.
fn grpc_path(method: &MethodDescriptor) -> String {
    format!("/{}/{}", method.parent_service().full_name(), method.name())
}

/// What a method's own options declare (`kursi.access.v1.policy`), if
/// anything.
fn declared_policy(
    method: &MethodDescriptor,
    extension: &prost_reflect::ExtensionDescriptor,
) -> Result<Option<Policy>, String> {
    let options = method.options();
    if !options.has_extension(extension) {
        return Ok(None);
    }
    match options.get_extension(extension).as_ref() {
        Value::Message(message) => message
            .transcode_to::<AccessPolicy>()
            .map(|declared| Some(Policy::from_declaration(declared)))
            .map_err(|err| format!("{}: {err}", method.full_name())),
        _ => Ok(Some(Policy::Undeclared)),
    }
}

/// Every `kursi.access.v1.external_method` of every file in `pool`. A
/// selector naming no method, a method declared twice, or one that also
/// declares its own policy is refused: two declarations would leave it
/// unclear which holds.
fn external_methods(
    pool: &DescriptorPool,
    policy: &prost_reflect::ExtensionDescriptor,
) -> Result<Vec<ExternalMethod>, String> {
    let Some(extension) = pool.get_extension_by_name("kursi.access.v1.external_method") else {
        return Ok(Vec::new());
    };
    let mut declared: Vec<ExternalMethod> = Vec::new();
    for file in pool.files() {
        let options = file.options();
        if !options.has_extension(&extension) {
            continue;
        }
        let fail = |reason: String| format!("{}: external_method: {reason}", file.name());
        let Value::List(entries) = options.get_extension(&extension).into_owned() else {
            return Err(fail("not a list".into()));
        };
        for entry in entries {
            let declaration = entry
                .as_message()
                .map(DynamicMessage::transcode_to::<kursi_proto::access::v1::ExternalMethod>)
                .ok_or_else(|| fail("not a message".into()))?
                .map_err(|err| fail(err.to_string()))?;
            let selector = declaration.selector.as_str();
            let method = method_by_name(pool, selector)
                .ok_or_else(|| fail(format!("{selector:?} names no method")))?;
            if declared.iter().any(|known| known.method == method) {
                return Err(fail(format!("{selector} is declared twice")));
            }
            if declared_policy(&method, policy)?.is_some() {
                return Err(fail(format!(
                    "{selector} declares its own kursi.access.v1.policy"
                )));
            }
            declared.push(ExternalMethod {
                policy: Policy::from_declaration(declaration.policy.unwrap_or_default()),
                http: declaration.http,
                declared_in: file.package_name().to_owned(),
                method,
            });
        }
    }
    Ok(declared)
}

/// `package.Service.Method` → the method.
fn method_by_name(pool: &DescriptorPool, full_name: &str) -> Option<MethodDescriptor> {
    let (service, method) = full_name.rsplit_once('.')?;
    pool.get_service_by_name(service)?
        .methods()
        .find(|candidate| candidate.name() == method)
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
                let policy = declared_policy(&method, &extension)?.unwrap_or(Policy::Undeclared);
                by_path.insert(grpc_path(&method), policy);
            }
        }
        let external = external_methods(pool, &extension)?;
        for declared in &external {
            by_path.insert(grpc_path(&declared.method), declared.policy.clone());
        }
        Ok(Self { by_path, external })
    }

    /// The methods declared by files of services that serve them
    /// (`kursi.access.v1.external_method`), for the edge's routes.
    pub fn external(&self) -> &[ExternalMethod] {
        &self.external
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
    fn the_catalog_declares_the_vendored_operations_service_for_admins() {
        let table = table();
        let admin = Some(&Policy::AnyRole(vec![Role::Admin]));
        for method in [
            "GetOperation",
            "ListOperations",
            "WaitOperation",
            "CancelOperation",
            "DeleteOperation",
        ] {
            let path = format!("/google.longrunning.Operations/{method}");
            assert_eq!(table.lookup(&path), admin, "{path}");
        }
        let get = table
            .external()
            .iter()
            .find(|declared| declared.method.name() == "GetOperation")
            .expect("GetOperation is declared");
        assert_eq!(get.declared_in, "kursi.catalog.v1");
        let Some(kursi_proto::google::api::http_rule::Pattern::Get(path)) =
            get.http.as_ref().and_then(|rule| rule.pattern.clone())
        else {
            panic!("GetOperation is not bound to a GET: {:?}", get.http);
        };
        assert_eq!(path, "/api/{name=operations/*}");
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

    /// The Kursi contracts and a file of package `test.vendored` serving
    /// `Vendored.Open` and `Vendored.Forgotten`, which carry no Kursi
    /// option, with `declared` as its `kursi.access.v1.external_method`s.
    fn pool_declaring(declared: &[kursi_proto::access::v1::ExternalMethod]) -> DescriptorPool {
        use prost::Message;
        use prost_types::{
            DescriptorProto, FileDescriptorProto, MethodDescriptorProto, ServiceDescriptorProto,
        };
        let method = |name: &str| MethodDescriptorProto {
            name: Some(name.into()),
            input_type: Some(".test.vendored.Nothing".into()),
            output_type: Some(".test.vendored.Nothing".into()),
            ..Default::default()
        };
        let file = FileDescriptorProto {
            name: Some("test/vendored.proto".into()),
            package: Some("test.vendored".into()),
            dependency: vec!["kursi/access/v1/access.proto".into()],
            message_type: vec![DescriptorProto {
                name: Some("Nothing".into()),
                ..Default::default()
            }],
            service: vec![ServiceDescriptorProto {
                name: Some("Vendored".into()),
                method: vec![method("Open"), method("Forgotten")],
                ..Default::default()
            }],
            syntax: Some("proto3".into()),
            ..Default::default()
        };
        // prost_types' FileOptions has no room for extensions: write them
        // as the compiler would, field 8 of the file holding field 50502.
        let mut options = Vec::new();
        for declaration in declared {
            prost::encoding::message::encode(50502, declaration, &mut options);
        }
        let mut encoded = file.encode_to_vec();
        prost::encoding::bytes::encode(8, &options, &mut encoded);
        let mut pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).expect("decodes");
        pool.decode_file_descriptor_proto(encoded.as_slice())
            .expect("the test file is valid");
        pool
    }

    fn declare(selector: &str, rule: Rule) -> kursi_proto::access::v1::ExternalMethod {
        kursi_proto::access::v1::ExternalMethod {
            selector: selector.into(),
            policy: Some(AccessPolicy { rule: Some(rule) }),
            http: None,
            fields: Vec::new(),
        }
    }

    #[test]
    fn an_external_declaration_gives_its_policy_and_undeclared_methods_stay_closed() {
        let pool = pool_declaring(&[declare("test.vendored.Vendored.Open", Rule::SignedIn(true))]);
        let table = PolicyTable::from_pool(&pool).expect("reads");
        assert_eq!(
            table.lookup("/test.vendored.Vendored/Open"),
            Some(&Policy::SignedIn)
        );
        assert_eq!(
            table.lookup("/test.vendored.Vendored/Forgotten"),
            Some(&Policy::Undeclared)
        );
        let open = table
            .external()
            .iter()
            .find(|declared| declared.method.name() == "Open")
            .expect("Open is declared");
        assert_eq!(open.declared_in, "test.vendored");
        assert!(open.http.is_none());
    }

    #[test]
    fn a_declaration_naming_no_method_or_twice_the_same_is_refused() {
        let gone = [declare("test.vendored.Vendored.Gone", Rule::Public(true))];
        let twice = [
            declare("test.vendored.Vendored.Open", Rule::Public(true)),
            declare("test.vendored.Vendored.Open", Rule::SignedIn(true)),
        ];
        let kursi = [declare(
            "kursi.auth.v1.AuthService.Login",
            Rule::SignedIn(true),
        )];
        for (declared, expected) in [
            (&gone[..], "names no method"),
            (&twice[..], "declared twice"),
            (&kursi[..], "declares its own kursi.access.v1.policy"),
        ] {
            let err = PolicyTable::from_pool(&pool_declaring(declared)).expect_err(expected);
            assert!(err.contains(expected), "{err}");
        }
    }
}
