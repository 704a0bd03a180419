//! `GET /openapi.json`: an OpenAPI 3.0 document of every route, generated at
//! start from the same descriptors the routes come from, with the contracts'
//! comments as descriptions and each method's access policy as its security.

use std::collections::{HashMap, HashSet};

use prost_reflect::{DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};
use service_kit::auth::{Policy, role_name};

use crate::field_rules::Declared;
use crate::json::JsonShape;
use crate::routes::{BodyRule, Route, RouteTable, is_plain_message};

const STATUS_SCHEMA: &str = "google.rpc.Status";
/// A request field that makes its create safe to retry; the edge takes it
/// from the `Idempotency-Key` header too (`metadata.rs`).
const IDEMPOTENCY_KEY_FIELD: &str = "idempotency_key";

/// How deep nested message fields are offered as dotted query parameters.
const MAX_QUERY_DEPTH: usize = 4;

pub fn document(routes: &RouteTable, pool: &DescriptorPool, shape: &JsonShape) -> Value {
    let comments = Comments::new(pool);
    let mut requests = HashSet::new();
    for route in routes.routes() {
        request_messages(&route.rpc.input(), &mut requests);
    }
    let mut schemas = Schemas {
        found: Map::new(),
        comments: &comments,
        shape,
        requests,
    };
    let mut paths = Map::new();
    let mut tags: Vec<Value> = Vec::new();
    let mut seen_tags = HashSet::new();
    for route in routes.routes() {
        let service = route.rpc.parent_service();
        if seen_tags.insert(service.full_name().to_owned()) {
            tags.push(json!({
                "name": service.name(),
                "description": comments.of(service.parent_file().name(), service.path()),
            }));
        }
        let operation = operation(route, routes, &mut schemas, &comments);
        let methods: Vec<String> = match &route.http_method {
            Some(method) => vec![method.as_str().to_ascii_lowercase()],
            None => ["get", "put", "post", "delete", "patch"]
                .map(str::to_owned)
                .to_vec(),
        };
        let item = paths
            .entry(route.template.openapi_path())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            for method in methods {
                item.insert(method, operation.clone());
            }
        }
    }
    paths.insert("/healthz".into(), healthz());
    schemas.found.insert(STATUS_SCHEMA.into(), status_schema());
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Kursi REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "REST/JSON over Kursi's gRPC services, generated from the contracts' \
                google.api.http annotations. Field names are the proto names; enum values are \
                written without their type prefix (`PENDING`) and accepted either way in any \
                case; 64-bit integers are JSON numbers; timestamps are RFC 3339. Errors are \
                google.rpc.Status objects `{code, message, details}`.",
        },
        "servers": [{ "url": "/" }],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas.found,
            "responses": {
                "Error": {
                    "description": "An error, as a google.rpc.Status.",
                    "content": { "application/json": { "schema": schema_ref(STATUS_SCHEMA) } },
                },
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token from POST /api/token or /api/login.",
                },
            },
        },
    })
}

fn operation(
    route: &Route,
    routes: &RouteTable,
    schemas: &mut Schemas<'_>,
    comments: &Comments,
) -> Value {
    let rpc = &route.rpc;
    let description = comments.of(rpc.parent_file().name(), rpc.path());
    let summary = description
        .lines()
        .next()
        .unwrap_or(rpc.name())
        .trim()
        .to_owned();
    let mut operation = Map::new();
    operation.insert("operationId".into(), json!(route.operation_id));
    operation.insert("summary".into(), json!(summary));
    let access = access_note(&route.policy);
    operation.insert(
        "description".into(),
        json!(format!(
            "{description}\n\n{access}\n\ngRPC: `{}`",
            route.grpc_path
        )),
    );
    operation.insert("tags".into(), json!([rpc.parent_service().name()]));

    let input = rpc.input();
    let mut parameters = Vec::new();
    let mut responses_extra: Vec<(&str, &str)> = Vec::new();
    let mut bound: HashSet<String> = HashSet::new();
    for variable in route.template.variables() {
        let name = variable.field_path.join(".");
        bound.insert(name.clone());
        let field = crate::routes::resolve_field_path(&input, &variable.field_path)
            .ok()
            .and_then(|fields| fields.last().cloned());
        let mut text = field
            .as_ref()
            .map(|f| comments.of_field(f))
            .unwrap_or_default();
        if let Some(pattern) = route.template.variable_pattern(variable) {
            text = format!("{text} Matches `{pattern}` (may contain `/`).");
        }
        let schema = field
            .map(|f| schemas.field_type(&f))
            .unwrap_or_else(|| json!({"type": "string"}));
        parameters.push(json!({
            "name": name,
            "in": "path",
            "required": true,
            "description": text.trim(),
            "schema": schema,
        }));
    }
    match &route.body {
        BodyRule::Whole => {}
        BodyRule::None => query_parameters(
            &input,
            "",
            &bound,
            schemas,
            &mut parameters,
            &mut Vec::new(),
        ),
        BodyRule::Field(body) => {
            let mut excluded = bound.clone();
            excluded.insert(body.name().to_owned());
            query_parameters(
                &input,
                "",
                &excluded,
                schemas,
                &mut parameters,
                &mut Vec::new(),
            );
        }
    }
    if let Some(key) = input.get_field_by_name(IDEMPOTENCY_KEY_FIELD) {
        // The edge forwards the header as the `idempotency-key` metadata the
        // service reads when the field is empty.
        parameters.push(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": format!(
                "{} The same as the `{IDEMPOTENCY_KEY_FIELD}` field, which wins when both are given.",
                comments.of_field(&key).trim()
            ),
            "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[!-~]+$"},
        }));
        responses_extra.push((
            "422",
            "The idempotency key was sent before with another request.",
        ));
    }
    if !parameters.is_empty() {
        operation.insert("parameters".into(), Value::Array(parameters));
    }

    let body_schema = match &route.body {
        BodyRule::None => None,
        BodyRule::Whole => {
            let top_bound: HashSet<&str> = route
                .template
                .variables()
                .iter()
                .filter(|v| v.field_path.len() == 1)
                .map(|v| v.field_path[0].as_str())
                .collect();
            if top_bound.is_empty() {
                Some(schemas.message_ref(&input))
            } else {
                Some(schemas.object(&input, &top_bound))
            }
        }
        BodyRule::Field(field) => Some(schemas.field_type(field)),
    };
    if let Some(schema) = body_schema {
        let mut content = Map::new();
        content.insert("application/json".into(), json!({ "schema": schema }));
        let top_bound: HashSet<&str> = route
            .template
            .variables()
            .iter()
            .map(|v| v.field_path[0].as_str())
            .collect();
        if matches!(route.body, BodyRule::Whole) && form_encodable(&input, &top_bound) {
            content.insert(
                "application/x-www-form-urlencoded".into(),
                json!({ "schema": schema }),
            );
        }
        let bound: HashSet<&str> = route
            .template
            .variables()
            .iter()
            .map(|v| v.field_path[0].as_str())
            .collect();
        let body_message = match &route.body {
            BodyRule::Field(field) => match field.kind() {
                Kind::Message(message) if !field.is_list() => Some(message),
                _ => None,
            },
            _ => Some(input.clone()),
        };
        let required = body_message.is_some_and(|message| {
            message
                .fields()
                .any(|f| !bound.contains(f.name()) && Declared::of(&f).required)
        });
        operation.insert(
            "requestBody".into(),
            json!({ "required": required, "content": content }),
        );
    }

    let output = rpc.output();
    let reply = match &route.response_body {
        Some(field) => schemas.field_type(field),
        None => schemas.message_ref(&output),
    };
    let success = if route.server_streaming() {
        json!({
            "description": "A stream of newline-delimited JSON objects: `{\"result\": …}` per \
                message, and `{\"error\": …}` if the stream fails.",
            "content": { "application/x-ndjson": { "schema": {
                "type": "object",
                "properties": { "result": reply, "error": schema_ref(STATUS_SCHEMA) },
            } } },
        })
    } else {
        let mut success = json!({
            "description": comments.of(output.parent_file().name(), output.path()).lines().next().unwrap_or("OK"),
            "content": { "application/json": { "schema": reply } },
        });
        let links = links(route, routes);
        if !links.is_empty()
            && let Value::Object(success) = &mut success
        {
            success.insert("links".into(), Value::Object(links));
        }
        success
    };
    let mut responses = Map::new();
    responses.insert("200".into(), success);
    if route.policy.requires_token() {
        responses.insert(
            "401".into(),
            json!({ "$ref": "#/components/responses/Error" }),
        );
        responses.insert(
            "403".into(),
            json!({ "$ref": "#/components/responses/Error" }),
        );
        operation.insert("security".into(), json!([{ "bearerAuth": [] }]));
    }
    for (status, why) in responses_extra {
        responses.insert(
            status.into(),
            json!({
                "description": why,
                "content": { "application/json": { "schema": schema_ref(STATUS_SCHEMA) } },
            }),
        );
    }
    responses.insert(
        "default".into(),
        json!({ "$ref": "#/components/responses/Error" }),
    );
    operation.insert("responses".into(), Value::Object(responses));
    Value::Object(operation)
}

/// OpenAPI links from a create (AIP-133: `Create…`) to every operation whose
/// path names the resource it made by a field of its reply: CreateReservation
/// → GetReservation, ConfirmReservation, … with `reservation_id` taken from
/// the reply. Stateful tools (schemathesis) and readers chain calls so.
fn links(route: &Route, routes: &RouteTable) -> Map<String, Value> {
    let mut links = Map::new();
    if !route.rpc.name().starts_with("Create") || route.server_streaming() {
        return links;
    }
    let reply = match &route.response_body {
        Some(field) => match field.kind() {
            Kind::Message(message) if !field.is_list() => message,
            _ => return links,
        },
        None => route.rpc.output(),
    };
    let id_of = |name: &str| {
        reply
            .get_field_by_name(name)
            .filter(|f| matches!(f.kind(), Kind::String) && !f.is_list())
            .map(|_| format!("$response.body#/{name}"))
    };
    for target in routes.routes() {
        let variables = target.template.variables();
        if target.rpc.full_name() == route.rpc.full_name()
            || variables.is_empty()
            || target.server_streaming()
        {
            continue;
        }
        let parameters: Option<Map<String, Value>> = variables
            .iter()
            .map(|v| match v.field_path.as_slice() {
                [name] => id_of(name).map(|expr| (name.clone(), json!(expr))),
                _ => None,
            })
            .collect();
        if let Some(parameters) = parameters {
            links.insert(
                target.operation_id.clone(),
                json!({
                    "operationId": target.operation_id,
                    "parameters": parameters,
                    "description": format!(
                        "{} of what {} made.",
                        target.rpc.name(),
                        route.rpc.name()
                    ),
                }),
            );
        }
    }
    links
}

fn access_note(policy: &Policy) -> String {
    match policy {
        Policy::Public => "Access: anyone.".into(),
        Policy::SignedIn => "Access: any signed-in caller (Bearer token).".into(),
        Policy::AnyRole(roles) => format!(
            "Access: a caller with the role {}.",
            roles
                .iter()
                .map(|r| role_name(*r))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Policy::Undeclared => "Access: nobody (the contract declares no policy).".into(),
    }
}

/// Every field that can be a query parameter: scalars, enums, well-known
/// types and lists of them, with nested messages' fields as `a.b`.
fn query_parameters(
    message: &MessageDescriptor,
    prefix: &str,
    excluded: &HashSet<String>,
    schemas: &mut Schemas<'_>,
    out: &mut Vec<Value>,
    stack: &mut Vec<String>,
) {
    if stack.len() >= MAX_QUERY_DEPTH || stack.iter().any(|m| m == message.full_name()) {
        return;
    }
    stack.push(message.full_name().to_owned());
    for field in message.fields() {
        let name = crate::json::join(prefix, field.name());
        if excluded.contains(&name) || field.is_map() {
            continue;
        }
        if is_plain_message(&field) {
            if let Kind::Message(nested) = field.kind()
                && !field.is_list()
            {
                query_parameters(&nested, &name, excluded, schemas, out, stack);
            }
            continue;
        }
        // A nested field is required only within its message, which a
        // query may leave out altogether.
        let required = prefix.is_empty() && Declared::of(&field).required;
        let mut parameter = json!({
            "name": name,
            "in": "query",
            "required": required,
            "description": schemas.comments.of_field(&field),
            "schema": schemas.field_type(&field),
        });
        if field.is_list()
            && let Value::Object(p) = &mut parameter
        {
            p.insert("style".into(), json!("form"));
            p.insert("explode".into(), json!(true));
        }
        out.push(parameter);
    }
    stack.pop();
}

struct Schemas<'a> {
    found: Map<String, Value>,
    comments: &'a Comments,
    shape: &'a JsonShape,
    /// Messages a request holds, whose unknown fields the edge refuses.
    requests: HashSet<String>,
}

/// `message` and every message a request of it can hold, by full name.
fn request_messages(message: &MessageDescriptor, out: &mut HashSet<String>) {
    if well_known(message.full_name()).is_some() || !out.insert(message.full_name().to_owned()) {
        return;
    }
    for field in message.fields() {
        if let Kind::Message(nested) = field.kind() {
            let nested = if field.is_map() {
                match nested.map_entry_value_field().kind() {
                    Kind::Message(value) => value,
                    _ => continue,
                }
            } else {
                nested
            };
            request_messages(&nested, out);
        }
    }
}

/// Whether a body of these fields can be sent as a form: scalars and lists
/// of them, none with presence (a form has no null and no nested object).
fn form_encodable(message: &MessageDescriptor, skipped: &HashSet<&str>) -> bool {
    message
        .fields()
        .filter(|f| !skipped.contains(f.name()))
        .all(|f| !f.is_map() && !f.supports_presence() && !matches!(f.kind(), Kind::Message(_)))
}

impl Schemas<'_> {
    /// A field's schema with its description.
    fn field(&mut self, field: &FieldDescriptor) -> Value {
        let mut schema = self.field_type(field);
        let description = self.comments.of_field(field);
        let declared = Declared::of(field);
        let read_only = declared.output_only;
        // A required field may not be null, though the edge reads null as
        // "not given" for any field with presence.
        let nullable = !declared.required
            && !field.is_list()
            && !field.is_map()
            && field.supports_presence()
            && field
                .containing_oneof()
                .is_none_or(|oneof| oneof.is_synthetic());
        if schema.get("$ref").is_some() && (nullable || read_only || !description.is_empty()) {
            schema = json!({ "allOf": [schema] });
        }
        if let Value::Object(object) = &mut schema {
            if !description.is_empty() {
                object.insert("description".into(), json!(description));
            }
            if nullable {
                object.insert("nullable".into(), json!(true));
            }
            if read_only {
                object.insert("readOnly".into(), json!(true));
            }
        }
        schema
    }

    /// A field's schema: a list or map of its kind, or its kind, with what
    /// the contract declares it accepts (`field_rules.rs`).
    fn field_type(&mut self, field: &FieldDescriptor) -> Value {
        if field.is_map() {
            let value = match field.kind() {
                Kind::Message(entry) => self.kind(&entry.map_entry_value_field().kind()),
                other => self.kind(&other),
            };
            return json!({ "type": "object", "additionalProperties": value });
        }
        let declared = Declared::of(field);
        let kind = field.kind();
        let mut item = match &kind {
            Kind::Enum(descriptor) if !declared.refused_enum_numbers().is_empty() => {
                self.enum_subset(descriptor, &declared.refused_enum_numbers())
            }
            other => self.kind(other),
        };
        if let Value::Object(object) = &mut item {
            object.extend(declared.value_keywords(&kind));
        }
        if field.is_list() {
            let mut list = json!({ "type": "array", "items": item });
            if let Value::Object(object) = &mut list {
                object.extend(declared.list_keywords());
            }
            list
        } else {
            item
        }
    }

    /// An enum without the values a field refuses, inline.
    fn enum_subset(&mut self, descriptor: &EnumDescriptor, refused: &[i32]) -> Value {
        let names = self.shape.enum_values(descriptor);
        let accepted: Vec<&String> = descriptor
            .values()
            .zip(&names)
            .filter(|(value, _)| !refused.contains(&value.number()))
            .map(|(_, name)| name)
            .collect();
        json!({ "type": "string", "enum": accepted })
    }

    fn kind(&mut self, kind: &Kind) -> Value {
        match kind {
            Kind::Double => json!({"type": "number", "format": "double"}),
            Kind::Float => json!({"type": "number", "format": "float"}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({"type": "integer", "format": "int32"})
            }
            Kind::Uint32 | Kind::Fixed32 => {
                json!({"type": "integer", "format": "int64", "minimum": 0})
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({"type": "integer", "format": "int64"})
            }
            Kind::Uint64 | Kind::Fixed64 => {
                json!({"type": "integer", "format": "uint64", "minimum": 0})
            }
            Kind::Bool => json!({"type": "boolean"}),
            Kind::String => json!({"type": "string"}),
            Kind::Bytes => json!({"type": "string", "format": "byte"}),
            Kind::Enum(descriptor) => self.enum_ref(descriptor),
            Kind::Message(message) => match well_known(message.full_name()) {
                Some(schema) => schema,
                None => self.message_ref(message),
            },
        }
    }

    fn enum_ref(&mut self, descriptor: &EnumDescriptor) -> Value {
        let name = descriptor.full_name().to_owned();
        if !self.found.contains_key(&name) {
            let description = self
                .comments
                .of(descriptor.parent_file().name(), descriptor.path());
            let values = self.shape.enum_values(descriptor);
            self.found.insert(
                name.clone(),
                json!({
                    "type": "string",
                    "enum": values,
                    "description": format!(
                        "{description}\n\nAlso accepted on input: the full value names \
                         (`{}`), in any case.",
                        descriptor.values().last().map(|v| v.name().to_owned()).unwrap_or_default()
                    ).trim().to_owned(),
                }),
            );
        }
        schema_ref(&name)
    }

    fn message_ref(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(schema) = well_known(message.full_name()) {
            return schema;
        }
        let name = message.full_name().to_owned();
        if !self.found.contains_key(&name) {
            // Placeholder first, so recursive messages end.
            self.found.insert(name.clone(), json!({}));
            let schema = self.object(message, &HashSet::new());
            self.found.insert(name.clone(), schema);
        }
        schema_ref(&name)
    }

    /// A message as an object schema, less the `skipped` fields.
    fn object(&mut self, message: &MessageDescriptor, skipped: &HashSet<&str>) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in message.fields() {
            if skipped.contains(field.name()) {
                continue;
            }
            if Declared::of(&field).required {
                required.push(field.name().to_owned());
            }
            properties.insert(field.name().to_owned(), self.field(&field));
        }
        let description = self
            .comments
            .of(message.parent_file().name(), message.path());
        let mut schema = json!({ "type": "object", "properties": properties });
        if let Value::Object(object) = &mut schema {
            if self.requests.contains(message.full_name()) {
                // The edge refuses a field the message does not have.
                object.insert("additionalProperties".into(), json!(false));
            }
            if !required.is_empty() {
                object.insert("required".into(), json!(required));
            }
            if !description.is_empty() {
                object.insert("description".into(), json!(description));
            }
        }
        schema
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The JSON forms of the well-known types.
fn well_known(full_name: &str) -> Option<Value> {
    Some(match full_name {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        "google.protobuf.Duration" => {
            json!({"type": "string", "description": "Seconds with an `s` suffix, such as `1.5s`."})
        }
        "google.protobuf.FieldMask" => {
            json!({"type": "string", "description": "Comma-separated field paths."})
        }
        "google.protobuf.Struct" => json!({"type": "object", "additionalProperties": true}),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.ListValue" => json!({"type": "array", "items": {}}),
        "google.protobuf.Empty" => json!({"type": "object"}),
        "google.protobuf.Any" => json!({
            "type": "object",
            "properties": { "@type": { "type": "string" } },
            "additionalProperties": true,
        }),
        "google.protobuf.DoubleValue" => {
            json!({"type": "number", "format": "double", "nullable": true})
        }
        "google.protobuf.FloatValue" => {
            json!({"type": "number", "format": "float", "nullable": true})
        }
        "google.protobuf.Int64Value" => {
            json!({"type": "integer", "format": "int64", "nullable": true})
        }
        "google.protobuf.UInt64Value" => {
            json!({"type": "integer", "format": "uint64", "nullable": true})
        }
        "google.protobuf.Int32Value" => {
            json!({"type": "integer", "format": "int32", "nullable": true})
        }
        "google.protobuf.UInt32Value" => {
            json!({"type": "integer", "format": "int64", "nullable": true})
        }
        "google.protobuf.BoolValue" => json!({"type": "boolean", "nullable": true}),
        "google.protobuf.StringValue" => json!({"type": "string", "nullable": true}),
        "google.protobuf.BytesValue" => {
            json!({"type": "string", "format": "byte", "nullable": true})
        }
        _ => return None,
    })
}

fn status_schema() -> Value {
    json!({
        "type": "object",
        "description": "An error (google.rpc.Status). `code` is the gRPC code; `details` holds \
            typed details such as google.rpc.BadRequest with `field_violations`.",
        "properties": {
            "code": { "type": "integer", "format": "int32" },
            "message": { "type": "string" },
            "details": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": { "@type": { "type": "string" } },
                    "additionalProperties": true,
                },
            },
        },
        "required": ["code", "message", "details"],
    })
}

fn healthz() -> Value {
    json!({ "get": {
        "operationId": "Edge_Healthz",
        "summary": "The gRPC health of every upstream service.",
        "tags": ["Edge"],
        "responses": {
            "200": { "description": "Every upstream is SERVING.",
                     "content": { "application/json": { "schema": { "type": "object" } } } },
            "503": { "description": "An upstream is not SERVING or unreachable.",
                     "content": { "application/json": { "schema": { "type": "object" } } } },
        },
    } })
}

/// The leading comments of the contracts, by file and descriptor path.
struct Comments {
    by_location: HashMap<(String, Vec<i32>), String>,
}

impl Comments {
    fn new(pool: &DescriptorPool) -> Self {
        let mut by_location = HashMap::new();
        for file in pool.files() {
            let proto = file.file_descriptor_proto();
            let Some(info) = &proto.source_code_info else {
                continue;
            };
            for location in &info.location {
                if let Some(comment) = &location.leading_comments {
                    let text = comment
                        .lines()
                        .map(str::trim)
                        .collect::<Vec<_>>()
                        .join("\n")
                        .trim()
                        .to_owned();
                    if !text.is_empty() {
                        by_location.insert((file.name().to_owned(), location.path.clone()), text);
                    }
                }
            }
        }
        Self { by_location }
    }

    fn of(&self, file: &str, path: &[i32]) -> String {
        self.by_location
            .get(&(file.to_owned(), path.to_vec()))
            .cloned()
            .unwrap_or_default()
    }

    fn of_field(&self, field: &FieldDescriptor) -> String {
        self.of(field.parent_file().name(), field.path())
    }
}
