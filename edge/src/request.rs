//! The request message of a call, from the HTTP request: the body (JSON or
//! form-encoded) fills the fields the binding gives it, query parameters
//! fill the rest (`a.b=1`, repeated by repeating the key), and path
//! variables win over both, as in grpc-gateway.
//!
//! Everything is gathered into one JSON object first, so one parse by
//! prost-reflect checks every type and names the field that is wrong.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::json::{FieldError, JsonShape, deserialize_options, join};
use crate::routes::{BodyRule, Route, find_field, is_plain_message};

/// What the HTTP request brings.
pub struct Parts<'a> {
    pub path_values: Vec<(&'a [String], String)>,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: Bytes,
}

/// The request message, and the paths of the timestamps sent without an
/// offset (`local_time.rs`).
pub fn build(
    route: &Route,
    shape: &JsonShape,
    parts: Parts<'_>,
) -> Result<(DynamicMessage, Vec<String>), ApiError> {
    let input = route.rpc.input();
    let mut root = match &route.body {
        BodyRule::None => Value::Object(Map::new()),
        BodyRule::Whole => read_body(&parts.body, parts.headers, Some(&input), "")?,
        BodyRule::Field(field) => {
            let target = match field.kind() {
                Kind::Message(message) if is_plain_message(field) && !field.is_list() => {
                    Some(message)
                }
                _ => None,
            };
            let value = read_body(&parts.body, parts.headers, target.as_ref(), field.name())?;
            let mut object = Map::new();
            if !value.is_null() {
                object.insert(field.name().to_owned(), value);
            }
            Value::Object(object)
        }
    };
    if !root.is_object() {
        return Err(ApiError::invalid_field(
            "body",
            "the body must be a JSON object",
        ));
    }

    if let Some(query) = parts.query {
        let from_query = fields_from_pairs(&input, form_urlencoded::parse(query.as_bytes()))
            .map_err(|err| ApiError::invalid(vec![err]))?;
        merge_missing(&mut root, from_query);
    }

    for (field_path, value) in parts.path_values {
        let fields = crate::routes::resolve_field_path(&input, field_path)
            .map_err(|reason| ApiError::invalid_field(field_path.join("."), reason))?;
        let converted = scalar(&fields[fields.len() - 1], value);
        set_path(&mut root, &fields, converted, false)
            .map_err(|err| ApiError::invalid(vec![err]))?;
    }

    let mut local = Vec::new();
    shape
        .inbound(&mut root, &input, "", &mut local)
        .map_err(|err| ApiError::invalid(vec![err]))?;
    let mut track = serde_path_to_error::Track::new();
    let deserializer = serde_path_to_error::Deserializer::new(root, &mut track);
    let message =
        DynamicMessage::deserialize_with_options(input, deserializer, &deserialize_options())
            .map_err(|err| {
                let path = track.path().to_string();
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::invalid_field(field, err.to_string())
            })?;
    Ok((message, local))
}

/// The body as JSON: parsed, or built from a form. An empty body is `{}`.
fn read_body(
    body: &Bytes,
    headers: &HeaderMap,
    target: Option<&MessageDescriptor>,
    field: &str,
) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(match target {
            Some(_) => Value::Object(Map::new()),
            None => Value::Null,
        });
    }
    // Read as it came, a gzip body would be a 400 about bad JSON at best.
    if let Some(coding) = headers.get(CONTENT_ENCODING) {
        let coding = String::from_utf8_lossy(coding.as_bytes());
        if !coding.trim().eq_ignore_ascii_case("identity") {
            return Err(ApiError::unsupported_content_encoding(&coding));
        }
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase());
    let media = content_type
        .as_deref()
        .map(|ct| ct.split(';').next().unwrap_or_default().trim().to_owned());
    // curl -d sends JSON as a form unless told otherwise; a form never starts
    // with '{' or '[', so such a body is read as the JSON it is.
    let looks_like_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[');
    match media.as_deref() {
        Some("application/x-www-form-urlencoded") if !looks_like_json => {
            let Some(target) = target else {
                return Err(ApiError::invalid_field(
                    if field.is_empty() { "body" } else { field },
                    "this body cannot be sent as a form; send JSON",
                ));
            };
            let pairs = form_urlencoded::parse(body);
            fields_from_pairs(target, pairs).map_err(|mut err| {
                err.field = join(field, &err.field);
                ApiError::invalid(vec![err])
            })
        }
        None | Some("application/x-www-form-urlencoded") => parse_json(body),
        Some(media) if media == "application/json" || media.ends_with("+json") => parse_json(body),
        Some(media) if media == "text/plain" && looks_like_json => parse_json(body),
        Some(_) => Err(ApiError::unsupported_media_type(
            content_type.as_deref().unwrap_or_default(),
        )),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    crate::strict_json::from_slice(body).map_err(|err| match err.classify() {
        // Valid JSON that names a key twice.
        serde_json::error::Category::Data => ApiError::invalid_field("body", err.to_string()),
        _ => ApiError::invalid_field("body", format!("the body is not valid JSON: {err}")),
    })
}

/// Query parameters or form fields (`a.b=1`, `tags=x&tags=y`) as a JSON
/// object of `message`.
fn fields_from_pairs<'a>(
    message: &MessageDescriptor,
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Result<Value, FieldError> {
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        if key.is_empty() {
            continue;
        }
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        let fields = resolve(message, &path)?;
        let Some(leaf) = fields.last() else {
            continue;
        };
        if leaf.is_map() || is_plain_message(leaf) {
            return Err(FieldError::new(
                key.as_ref(),
                "a message or map field cannot be given as a parameter; send it in a JSON body",
            ));
        }
        set_path(&mut root, &fields, scalar(leaf, value.into_owned()), true)?;
    }
    Ok(root)
}

/// Like [`crate::routes::resolve_field_path`], as a [`FieldError`] naming
/// the parameter.
fn resolve(
    message: &MessageDescriptor,
    path: &[String],
) -> Result<Vec<FieldDescriptor>, FieldError> {
    let mut current = message.clone();
    let mut fields = Vec::with_capacity(path.len());
    for (i, name) in path.iter().enumerate() {
        let here = path[..=i].join(".");
        let field = find_field(&current, name).ok_or_else(|| {
            FieldError::new(
                &here,
                format!("unknown field {name:?} of {}", current.name()),
            )
        })?;
        if i + 1 < path.len() {
            match field.kind() {
                Kind::Message(next)
                    if !field.is_list() && !field.is_map() && is_plain_message(&field) =>
                {
                    current = next;
                }
                _ => {
                    return Err(FieldError::new(
                        &here,
                        "has no fields to set with a dotted parameter",
                    ));
                }
            }
        }
        fields.push(field);
    }
    Ok(fields)
}

/// A text value as the JSON prost-reflect reads for the field: booleans
/// become booleans; numbers, enums, timestamps and the rest stay strings,
/// which the proto3 JSON mapping accepts for them.
fn scalar(field: &FieldDescriptor, value: String) -> Value {
    match field.kind() {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => Value::String(value),
        },
        Kind::Message(message) if message.full_name() == "google.protobuf.BoolValue" => {
            match value.to_ascii_lowercase().as_str() {
                "true" | "1" => Value::Bool(true),
                "false" | "0" => Value::Bool(false),
                _ => Value::String(value),
            }
        }
        _ => Value::String(value),
    }
}

/// Sets `value` at the fields' path, making the objects along it; a list
/// field is appended to when `append`, else replaced.
fn set_path(
    root: &mut Value,
    fields: &[FieldDescriptor],
    value: Value,
    append: bool,
) -> Result<(), FieldError> {
    let name = fields
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(".");
    let mut current = root;
    for (i, field) in fields.iter().enumerate() {
        let Value::Object(object) = current else {
            return Err(FieldError::new(
                &name,
                "conflicts with a value given elsewhere",
            ));
        };
        let last = i + 1 == fields.len();
        if !last {
            let slot = object
                .entry(field.name().to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
            current = slot;
            continue;
        }
        if field.is_list() && append {
            let slot = object
                .entry(field.name().to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            match slot {
                Value::Array(items) => items.push(value),
                _ => {
                    return Err(FieldError::new(
                        &name,
                        "conflicts with a value given elsewhere",
                    ));
                }
            }
        } else if field.is_list() {
            object.insert(field.name().to_owned(), Value::Array(vec![value]));
        } else if append && object.contains_key(field.name()) {
            return Err(FieldError::new(&name, "given more than once"));
        } else {
            object.insert(field.name().to_owned(), value);
        }
        return Ok(());
    }
    Ok(())
}

/// Adds the fields of `extra` that `target` lacks, object by object: the
/// body wins over the query.
fn merge_missing(target: &mut Value, extra: Value) {
    let (Value::Object(target), Value::Object(extra)) = (target, extra) else {
        return;
    };
    for (key, value) in extra {
        match target.get_mut(&key) {
            None | Some(Value::Null) => {
                target.insert(key, value);
            }
            Some(existing @ Value::Object(_)) if value.is_object() => {
                merge_missing(existing, value)
            }
            Some(_) => {}
        }
    }
}
