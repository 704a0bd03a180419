//! The route table, read from the contracts' `google.api.http` annotations at
//! start. Adding an annotated RPC to a contract adds its routes here with no
//! edge code; a binding the edge cannot honour stops the edge at start,
//! naming the RPC, rather than failing on the first request.

pub mod template;

use std::sync::Arc;

use http::Method;
use http::uri::PathAndQuery;
use kursi_proto::google::api::HttpRule;
use kursi_proto::google::api::http_rule::Pattern;
use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};
use service_kit::auth::{Policy, PolicyTable};

use self::template::{Captures, PathTemplate, RequestPath};

/// Which part of the request message the HTTP body fills.
#[derive(Debug, Clone)]
pub enum BodyRule {
    /// No body: every field not bound by the path comes from the query.
    None,
    /// `body: "*"`: the body is the request message (less the path fields).
    Whole,
    /// `body: "field"`: the body is that top-level field.
    Field(FieldDescriptor),
}

/// One HTTP binding of one RPC.
#[derive(Debug)]
pub struct Route {
    /// `None` for a custom pattern of kind `*` (any method).
    pub http_method: Option<Method>,
    pub template: PathTemplate,
    pub rpc: MethodDescriptor,
    pub grpc_path: PathAndQuery,
    pub body: BodyRule,
    pub response_body: Option<FieldDescriptor>,
    pub policy: Policy,
    /// The upstream that serves it: `reservation` for `kursi.reservation.v1`.
    pub upstream: String,
    /// `Service_Method`, with `_2`, `_3`… for additional bindings.
    pub operation_id: String,
}

impl Route {
    pub fn server_streaming(&self) -> bool {
        self.rpc.is_server_streaming()
    }
}

/// The result of looking a request up.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found(&'a Route, Captures<'a>),
    /// The path is known, but not with this method; these are allowed.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

#[derive(Debug, thiserror::Error)]
#[error("{rpc}: {reason}")]
pub struct RouteError {
    rpc: String,
    reason: String,
}

#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Arc<Route>>,
}

impl RouteTable {
    /// Every annotated RPC of every service in `pool`, and every method a
    /// Kursi file declares for a service it serves but does not define
    /// (`kursi.access.v1.external_method`), with the binding declared there:
    /// such a method's own `google.api.http` (a vendored contract's) is
    /// ignored, and it goes to the upstream of the declaring file's package.
    pub fn build(pool: &DescriptorPool) -> Result<Self, RouteError> {
        let policies = PolicyTable::from_pool(pool).map_err(|reason| RouteError {
            rpc: "(descriptor set)".into(),
            reason,
        })?;
        let mut routes = Vec::new();
        for declared in policies.external() {
            if let Some(rule) = &declared.http {
                let upstream = upstream_name(&declared.declared_in);
                let policy = declared.policy.clone();
                bind(rule, &declared.method, policy, upstream, &mut routes)?;
            }
        }
        let Some(http) = pool.get_extension_by_name("google.api.http") else {
            return Ok(Self { routes });
        };
        for service in pool.services() {
            for rpc in service.methods() {
                let options = rpc.options();
                let external = policies.external().iter().any(|d| d.method == rpc);
                if external || !options.has_extension(&http) {
                    continue;
                }
                let rule = options
                    .get_extension(&http)
                    .as_message()
                    .ok_or_else(|| failed(&rpc, "google.api.http is not a message".into()))?
                    .transcode_to::<HttpRule>()
                    .map_err(|err| {
                        failed(&rpc, format!("google.api.http does not decode: {err}"))
                    })?;
                let policy = policies
                    .lookup(&grpc_path(&rpc))
                    .cloned()
                    .unwrap_or(Policy::Undeclared);
                let upstream = upstream_name(service.package_name());
                bind(&rule, &rpc, policy, upstream, &mut routes)?;
            }
        }
        Ok(Self { routes })
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().map(|route| route.as_ref())
    }

    /// Finds the route for a request: the most specific template that
    /// matches the path with this method.
    pub fn lookup<'a>(&'a self, method: &Method, path: &'a RequestPath<'a>) -> Lookup<'a> {
        let mut best: Option<(&Route, Captures<'a>)> = None;
        let mut allowed: Vec<Method> = Vec::new();
        // HEAD is GET without the content (RFC 9110 §9.3.2), wherever GET is;
        // hyper leaves the content out and keeps its length.
        let serves =
            |bound: &Method| bound == method || (*method == Method::HEAD && *bound == Method::GET);
        for route in &self.routes {
            let Some(captures) = route.template.match_path(path) else {
                continue;
            };
            match &route.http_method {
                Some(bound) if !serves(bound) => {
                    let head = (*bound == Method::GET).then_some(Method::HEAD);
                    for m in std::iter::once(bound.clone()).chain(head) {
                        if !allowed.contains(&m) {
                            allowed.push(m);
                        }
                    }
                }
                _ => {
                    let better = best.as_ref().is_none_or(|(current, _)| {
                        route.template.specificity() > current.template.specificity()
                    });
                    if better {
                        best = Some((route, captures));
                    }
                }
            }
        }
        match best {
            Some((route, captures)) => Lookup::Found(route, captures),
            None if allowed.is_empty() => Lookup::NotFound,
            None => Lookup::MethodNotAllowed(allowed),
        }
    }
}

fn failed(rpc: &MethodDescriptor, reason: String) -> RouteError {
    RouteError {
        rpc: rpc.full_name().to_owned(),
        reason,
    }
}

/// `/package.Service/Method`.
fn grpc_path(rpc: &MethodDescriptor) -> String {
    format!("/{}/{}", rpc.parent_service().full_name(), rpc.name())
}

/// The routes of one `google.api.http` rule (and its additional bindings)
/// of `rpc`.
fn bind(
    rule: &HttpRule,
    rpc: &MethodDescriptor,
    policy: Policy,
    upstream: String,
    routes: &mut Vec<Arc<Route>>,
) -> Result<(), RouteError> {
    if rpc.is_client_streaming() {
        tracing::warn!(
            rpc = rpc.full_name(),
            "client-streaming RPCs are not exposed over REST"
        );
        return Ok(());
    }
    let grpc_path = PathAndQuery::try_from(grpc_path(rpc))
        .map_err(|err| failed(rpc, format!("not a usable gRPC path: {err}")))?;
    let service = rpc.parent_service();
    let bindings = std::iter::once(rule).chain(rule.additional_bindings.iter());
    for (index, binding) in bindings.enumerate() {
        let operation_id = match index {
            0 => format!("{}_{}", service.name(), rpc.name()),
            n => format!("{}_{}_{}", service.name(), rpc.name(), n + 1),
        };
        let route = Route::from_rule(
            binding,
            rpc,
            grpc_path.clone(),
            policy.clone(),
            upstream.clone(),
            operation_id,
        )
        .map_err(|reason| failed(rpc, reason))?;
        routes.push(Arc::new(route));
    }
    Ok(())
}

impl Route {
    fn from_rule(
        rule: &HttpRule,
        rpc: &MethodDescriptor,
        grpc_path: PathAndQuery,
        policy: Policy,
        upstream: String,
        operation_id: String,
    ) -> Result<Self, String> {
        let (http_method, template) = match &rule.pattern {
            Some(Pattern::Get(path)) => (Some(Method::GET), path),
            Some(Pattern::Put(path)) => (Some(Method::PUT), path),
            Some(Pattern::Post(path)) => (Some(Method::POST), path),
            Some(Pattern::Delete(path)) => (Some(Method::DELETE), path),
            Some(Pattern::Patch(path)) => (Some(Method::PATCH), path),
            Some(Pattern::Custom(custom)) if custom.kind == "*" => (None, &custom.path),
            Some(Pattern::Custom(custom)) => (
                Some(
                    Method::from_bytes(custom.kind.as_bytes())
                        .map_err(|_| format!("custom method {:?} is not valid", custom.kind))?,
                ),
                &custom.path,
            ),
            None => return Err("a google.api.http binding has no pattern".into()),
        };
        let template = PathTemplate::parse(template).map_err(|err| err.to_string())?;
        let input = rpc.input();
        for variable in template.variables() {
            let fields = resolve_field_path(&input, &variable.field_path)?;
            if let Some(last) = fields.last()
                && (last.is_list() || last.is_map() || is_plain_message(last))
            {
                return Err(format!(
                    "path variable {} must name a singular scalar field",
                    variable.field_path.join(".")
                ));
            }
        }
        let body = match rule.body.as_str() {
            "" => BodyRule::None,
            "*" => BodyRule::Whole,
            name => BodyRule::Field(
                input
                    .get_field_by_name(name)
                    .ok_or_else(|| format!("body names {name:?}, not a field of the request"))?,
            ),
        };
        let response_body = match rule.response_body.as_str() {
            "" => None,
            name => Some(rpc.output().get_field_by_name(name).ok_or_else(|| {
                format!("response_body names {name:?}, not a field of the response")
            })?),
        };
        Ok(Self {
            http_method,
            template,
            rpc: rpc.clone(),
            grpc_path,
            body,
            response_body,
            policy,
            upstream,
            operation_id,
        })
    }
}

/// `kursi.reservation.v1` → `reservation`; another package keeps its name.
pub fn upstream_name(package: &str) -> String {
    let mut parts = package.split('.');
    match (parts.next(), parts.next()) {
        (Some("kursi"), Some(name)) => name.to_owned(),
        _ => package.to_owned(),
    }
}

/// The fields along `a.b.c` from `message`; each but the last must be a
/// singular message.
pub fn resolve_field_path(
    message: &MessageDescriptor,
    path: &[String],
) -> Result<Vec<FieldDescriptor>, String> {
    let mut current = message.clone();
    let mut fields = Vec::with_capacity(path.len());
    for (i, name) in path.iter().enumerate() {
        let field = find_field(&current, name)
            .ok_or_else(|| format!("{name:?} is not a field of {}", current.full_name()))?;
        if i + 1 < path.len() {
            match field.kind() {
                Kind::Message(next) if !field.is_list() && !field.is_map() => current = next,
                _ => {
                    return Err(format!(
                        "{} is not a singular message, so it has no field {:?}",
                        field.name(),
                        path[i + 1]
                    ));
                }
            }
        }
        fields.push(field);
    }
    Ok(fields)
}

/// A field by its proto name or its JSON (lowerCamelCase) name.
pub fn find_field(message: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    message
        .get_field_by_name(name)
        .or_else(|| message.get_field_by_json_name(name))
}

/// A message field whose JSON form is an object of its own fields, as
/// opposed to the well-known types that are written as strings or numbers.
pub fn is_plain_message(field: &FieldDescriptor) -> bool {
    match field.kind() {
        Kind::Message(message) => !crate::json::is_well_known(message.full_name()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        let pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).expect("decodes");
        RouteTable::build(&pool).expect("every Kursi binding is usable")
    }

    fn found(table: &RouteTable, method: Method, path: &str) -> Option<String> {
        let request = RequestPath::new(path);
        match table.lookup(&method, &request) {
            Lookup::Found(route, _) => Some(route.rpc.full_name().to_owned()),
            _ => None,
        }
    }

    #[test]
    fn every_annotated_kursi_rpc_has_routes() {
        let table = table();
        assert_eq!(
            found(&table, Method::POST, "/api/token").as_deref(),
            Some("kursi.auth.v1.AuthService.Login")
        );
        assert_eq!(
            found(&table, Method::GET, "/.well-known/jwks.json").as_deref(),
            Some("kursi.auth.v1.AuthService.GetJwks")
        );
        assert_eq!(
            found(&table, Method::POST, "/api/reservations/abc/check-in").as_deref(),
            Some("kursi.reservation.v1.ReservationService.CheckInReservation")
        );
        assert_eq!(
            found(&table, Method::GET, "/api/movies/m1/showtimes").as_deref(),
            Some("kursi.catalog.v1.CatalogService.ListShowtimes")
        );
        let upstreams: std::collections::BTreeSet<_> =
            table.routes().map(|r| r.upstream.clone()).collect();
        assert_eq!(
            upstreams.into_iter().collect::<Vec<_>>(),
            ["auth", "catalog", "order", "reservation"]
        );
    }

    #[test]
    fn the_operations_the_catalog_declares_go_to_the_catalog_under_api_operations() {
        let table = table();
        let name = "operations/0190a7a0-0000-7000-8000-000000000000";
        for (method, path, rpc) in [
            (Method::GET, "/api/operations".to_owned(), "ListOperations"),
            (Method::GET, format!("/api/{name}"), "GetOperation"),
            (Method::POST, format!("/api/{name}:wait"), "WaitOperation"),
            (
                Method::POST,
                format!("/api/{name}:cancel"),
                "CancelOperation",
            ),
            (Method::DELETE, format!("/api/{name}"), "DeleteOperation"),
        ] {
            let request = RequestPath::new(&path);
            let Lookup::Found(route, captures) = table.lookup(&method, &request) else {
                panic!("{method} {path} has no route");
            };
            assert_eq!(
                route.rpc.full_name(),
                format!("google.longrunning.Operations.{rpc}")
            );
            assert_eq!(route.upstream, "catalog", "{path}");
            assert_eq!(
                route.policy,
                Policy::AnyRole(vec![kursi_proto::access::v1::Role::Admin])
            );
            assert_eq!(route.operation_id, format!("Operations_{rpc}"));
            if rpc != "ListOperations" {
                let bound = captures.decode().expect("decodes");
                assert_eq!(bound[0].0, ["name".to_owned()], "{path}");
                assert_eq!(bound[0].1, name, "{path}");
            }
        }
        // The vendored contract's own bindings are not served.
        for path in ["/v1/operations", &format!("/v1/{name}")] {
            assert!(found(&table, Method::GET, path).is_none(), "{path}");
        }
    }

    #[test]
    fn literals_win_over_variables() {
        let table = table();
        assert_eq!(
            found(&table, Method::POST, "/api/movies/import").as_deref(),
            Some("kursi.catalog.v1.CatalogService.ImportMovies")
        );
        assert_eq!(
            found(&table, Method::GET, "/api/movies/import").as_deref(),
            Some("kursi.catalog.v1.CatalogService.GetMovie")
        );
    }

    #[test]
    fn wrong_methods_and_unknown_paths_are_told_apart() {
        let table = table();
        let me = RequestPath::new("/api/me");
        assert!(matches!(
            table.lookup(&Method::DELETE, &me),
            Lookup::MethodNotAllowed(allowed) if allowed == [Method::GET, Method::HEAD]
        ));
        assert_eq!(
            found(&table, Method::HEAD, "/api/me").as_deref(),
            Some("kursi.auth.v1.AuthService.GetMe")
        );
        let token = RequestPath::new("/api/token");
        assert!(matches!(
            table.lookup(&Method::HEAD, &token),
            Lookup::MethodNotAllowed(allowed) if allowed == [Method::POST]
        ));
        let nowhere = RequestPath::new("/api/nowhere");
        assert!(matches!(
            table.lookup(&Method::GET, &nowhere),
            Lookup::NotFound
        ));
    }
}
