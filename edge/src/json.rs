//! The JSON the earlier systems' callers expect, on top of prost-reflect's
//! proto3 JSON mapping:
//!
//! - enum values without their type prefix on output (`"PENDING"`, not
//!   `"RESERVATION_STATUS_PENDING"`), and either form, in any case, on input;
//! - every field present on output: unset messages and `optional` scalars as
//!   `null` (prost-reflect already writes the defaults of the rest);
//! - an unknown field or enum value on input is an error naming it.
//!
//! The rest (proto field names, 64-bit integers as numbers, RFC 3339
//! timestamps) is prost-reflect's [`SerializeOptions`] and
//! [`DeserializeOptions`].

use std::collections::HashMap;

use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, EnumDescriptor, Kind, MessageDescriptor,
    ReflectMessage, SerializeOptions,
};
use serde_json::Value;

use crate::local_time::{LocalTimeFields, lacks_offset};

/// prost-reflect's side of the mapping.
pub const SERIALIZE: SerializeOptions = SerializeOptions::new()
    .stringify_64_bit_integers(false)
    .use_proto_field_name(true)
    .skip_default_fields(false)
    .use_enum_numbers(false);

pub fn deserialize_options() -> DeserializeOptions {
    DeserializeOptions::new().deny_unknown_fields(true)
}

/// A field of the input that cannot be used, with the field's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub description: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// The well-known types whose JSON form is not an object of their fields.
pub fn is_well_known(full_name: &str) -> bool {
    matches!(
        full_name,
        "google.protobuf.Any"
            | "google.protobuf.Timestamp"
            | "google.protobuf.Duration"
            | "google.protobuf.Struct"
            | "google.protobuf.Value"
            | "google.protobuf.ListValue"
            | "google.protobuf.FieldMask"
            | "google.protobuf.Empty"
            | "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue"
    )
}

/// The names of one enum's values, both ways.
#[derive(Debug, Default)]
struct EnumNames {
    /// Full value name → the name callers see.
    short: HashMap<String, String>,
    /// Upper-cased full or short name → full value name.
    accepted: HashMap<String, String>,
    /// The names callers see, in declaration order, for error messages.
    listed: Vec<String>,
}

impl EnumNames {
    fn new(descriptor: &EnumDescriptor) -> Self {
        let prefix = format!("{}_", shouty_snake(descriptor.name()));
        let full: Vec<String> = descriptor
            .values()
            .map(|value| value.name().to_owned())
            .collect();
        let stripped: Vec<String> = full
            .iter()
            .map(|name| match name.strip_prefix(&prefix) {
                Some(rest) if !rest.is_empty() => rest.to_owned(),
                _ => name.clone(),
            })
            .collect();
        // Keep the full names when stripping would make two values alike.
        let mut seen = std::collections::HashSet::new();
        let unique = stripped.iter().all(|name| seen.insert(name.to_uppercase()))
            && !stripped
                .iter()
                .zip(&full)
                .any(|(short, long)| short != long && full.contains(short));
        let shown = if unique { stripped } else { full.clone() };
        let mut names = Self::default();
        for (long, short) in full.iter().zip(shown) {
            names.accepted.insert(long.to_uppercase(), long.clone());
            names
                .accepted
                .entry(short.to_uppercase())
                .or_insert_with(|| long.clone());
            names.listed.push(short.clone());
            names.short.insert(long.clone(), short);
        }
        names
    }
}

/// `ReservationStatus` → `RESERVATION_STATUS`.
fn shouty_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if previous.is_lowercase() || previous.is_ascii_digit() || next_is_lower {
                out.push('_');
            }
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// The shaping of JSON for every enum in the contracts.
#[derive(Debug, Default)]
pub struct JsonShape {
    enums: HashMap<String, EnumNames>,
    local_times: LocalTimeFields,
}

impl JsonShape {
    pub fn new(pool: &DescriptorPool) -> Self {
        Self {
            enums: pool
                .all_enums()
                .map(|e| (e.full_name().to_owned(), EnumNames::new(&e)))
                .collect(),
            local_times: LocalTimeFields::new(pool),
        }
    }

    /// The names callers see for an enum's values, in declaration order.
    pub fn enum_values(&self, descriptor: &EnumDescriptor) -> Vec<String> {
        self.enums
            .get(descriptor.full_name())
            .map(|names| names.listed.clone())
            .unwrap_or_default()
    }

    /// A message as callers see it.
    pub fn render(&self, message: &DynamicMessage) -> Result<Value, serde_json::Error> {
        let mut value =
            message.serialize_with_options(serde_json::value::Serializer, &SERIALIZE)?;
        self.outbound(&mut value, &message.descriptor());
        Ok(value)
    }

    /// Strips enum prefixes and writes `null` for unset fields, keeping the
    /// contract's field order.
    pub fn outbound(&self, value: &mut Value, message: &MessageDescriptor) {
        if is_well_known(message.full_name()) {
            return;
        }
        let Value::Object(object) = value else {
            return;
        };
        let mut given = std::mem::take(object);
        for field in message.fields() {
            let Some(mut slot) = given.remove(field.name()) else {
                let in_real_oneof = field
                    .containing_oneof()
                    .is_some_and(|oneof| !oneof.is_synthetic());
                if !in_real_oneof {
                    object.insert(field.name().to_owned(), Value::Null);
                }
                continue;
            };
            let kind = if field.is_map() {
                match field.kind() {
                    Kind::Message(entry) => entry.map_entry_value_field().kind(),
                    other => other,
                }
            } else {
                field.kind()
            };
            for element in elements(&mut slot, field.is_list(), field.is_map()) {
                match &kind {
                    Kind::Enum(descriptor) => self.shorten(element, descriptor),
                    Kind::Message(nested) => self.outbound(element, nested),
                    _ => {}
                }
            }
            object.insert(field.name().to_owned(), slot);
        }
        // Anything prost-reflect wrote that is not a field (none today).
        object.append(&mut given);
    }

    /// The name callers see for the enum value named `full`.
    pub fn shown_name<'a>(&'a self, descriptor: &EnumDescriptor, full: &'a str) -> &'a str {
        self.enums
            .get(descriptor.full_name())
            .and_then(|names| names.short.get(full))
            .map_or(full, String::as_str)
    }

    fn shorten(&self, value: &mut Value, descriptor: &EnumDescriptor) {
        if let Value::String(name) = value
            && let Some(short) = self
                .enums
                .get(descriptor.full_name())
                .and_then(|names| names.short.get(name.as_str()))
        {
            *name = short.clone();
        }
    }

    /// Checks field names and rewrites enum values to their full names, so
    /// prost-reflect reads what callers send. `path` names the field in
    /// errors. A timestamp sent without an offset, where the contract allows
    /// it, is read as UTC and its path added to `local` (`local_time.rs`).
    pub fn inbound(
        &self,
        value: &mut Value,
        message: &MessageDescriptor,
        path: &str,
        local: &mut Vec<String>,
    ) -> Result<(), FieldError> {
        if is_well_known(message.full_name()) {
            return Ok(());
        }
        let Value::Object(object) = value else {
            // prost-reflect reports the wrong type, with the path.
            return Ok(());
        };
        for (key, slot) in object.iter_mut() {
            let here = join(path, key);
            let Some(field) = crate::routes::find_field(message, key) else {
                return Err(FieldError::new(
                    &here,
                    format!("unknown field {key:?} of {}", message.name()),
                ));
            };
            let kind = if field.is_map() {
                match field.kind() {
                    Kind::Message(entry) => entry.map_entry_value_field().kind(),
                    other => other,
                }
            } else {
                field.kind()
            };
            for element in elements(slot, field.is_list(), field.is_map()) {
                match &kind {
                    Kind::Enum(descriptor) => self.lengthen(element, descriptor, &here)?,
                    Kind::Message(nested) if nested.full_name() == "google.protobuf.Timestamp" => {
                        if let Value::String(text) = element
                            && self.local_times.allows(&field)
                            && lacks_offset(text)
                        {
                            text.push('Z');
                            local.push(here.clone());
                        }
                    }
                    Kind::Message(nested) => self.inbound(element, nested, &here, local)?,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn lengthen(
        &self,
        value: &mut Value,
        descriptor: &EnumDescriptor,
        path: &str,
    ) -> Result<(), FieldError> {
        let Value::String(name) = value else {
            return Ok(());
        };
        let Some(names) = self.enums.get(descriptor.full_name()) else {
            return Ok(());
        };
        match names.accepted.get(&name.trim().to_uppercase()) {
            Some(full) => {
                *name = full.clone();
                Ok(())
            }
            None => Err(FieldError::new(
                path,
                format!(
                    "unknown value {name:?} for {}; expected one of {}",
                    descriptor.name(),
                    names.listed.join(", ")
                ),
            )),
        }
    }
}

/// The values to look into: each element of a list, each value of a map
/// (a JSON object), or the value itself.
fn elements(value: &mut Value, list: bool, map: bool) -> Vec<&mut Value> {
    if list || map {
        match value {
            Value::Array(items) if list => items.iter_mut().collect(),
            Value::Object(entries) if map => entries.values_mut().collect(),
            _ => Vec::new(),
        }
    } else if value.is_null() {
        Vec::new()
    } else {
        vec![value]
    }
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pool() -> DescriptorPool {
        DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).expect("decodes")
    }

    #[test]
    fn enum_prefixes_come_from_the_type_name() {
        assert_eq!(shouty_snake("ReservationStatus"), "RESERVATION_STATUS");
        assert_eq!(shouty_snake("Role"), "ROLE");
        assert_eq!(shouty_snake("HTTPMethod"), "HTTP_METHOD");
    }

    #[test]
    fn enums_are_shortened_on_output() {
        let pool = pool();
        let shape = JsonShape::new(&pool);
        let user = pool
            .get_message_by_name("kursi.auth.v1.User")
            .expect("User");
        let mut value = json!({"role": "ROLE_STAFF", "user_id": "u"});
        shape.outbound(&mut value, &user);
        assert_eq!(value["role"], "STAFF");
        assert_eq!(value["locked_until"], Value::Null);
    }

    #[test]
    fn enums_are_accepted_either_way_in_any_case() {
        let pool = pool();
        let shape = JsonShape::new(&pool);
        let request = pool
            .get_message_by_name("kursi.reservation.v1.ListReservationsRequest")
            .expect("message");
        for given in ["pending", "PENDING", "Reservation_Status_Pending"] {
            let mut value = json!({ "status": given });
            shape
                .inbound(&mut value, &request, "", &mut Vec::new())
                .expect("accepted");
            assert_eq!(value["status"], "RESERVATION_STATUS_PENDING");
        }
        let mut bad = json!({ "status": "LATE" });
        let err = shape
            .inbound(&mut bad, &request, "", &mut Vec::new())
            .expect_err("refused");
        assert_eq!(err.field, "status");
        assert!(err.description.contains("PENDING"), "{err:?}");
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let pool = pool();
        let shape = JsonShape::new(&pool);
        let request = pool
            .get_message_by_name("kursi.reservation.v1.CreateReservationRequest")
            .expect("message");
        let mut value = json!({ "contact_info": { "name": "A", "fax": "1" } });
        let err = shape
            .inbound(&mut value, &request, "", &mut Vec::new())
            .expect_err("refused");
        assert_eq!(err.field, "contact_info.fax");
    }
}
