//! A reply written straight to JSON text in the shape [`JsonShape`]
//! describes, in one pass over the message.
//!
//! [`JsonShape::render`] builds a `serde_json::Value` with prost-reflect,
//! then takes every object apart to put its fields in order, shorten enum
//! names and add `null`s, and the tree is only then written out. On replies
//! with a few nested messages (a page of reservations) that was about half
//! of the edge's CPU. This writes the same bytes (the tests compare the two
//! on every message of the contracts) without the tree. `render` stays for
//! error details, where the `Value` is wrapped further. Replies and stream
//! lines go through [`reply`], which tries the [`wire`] walk first.

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value,
};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::json::{JsonShape, SERIALIZE, is_well_known};

mod wire;

/// Why a reply could not be written as JSON: it does not fit the contract.
#[derive(Debug, thiserror::Error)]
pub enum BadReply {
    #[error("the reply does not decode: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("the reply cannot be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The JSON text of a reply of type `descriptor`, or of its field `only`
/// (a binding's `response_body`). Replies are written straight from their
/// bytes ([`wire`]); those the walk leaves alone are decoded first and
/// written by [`to_json`].
pub fn reply(
    shape: &JsonShape,
    descriptor: &MessageDescriptor,
    bytes: Bytes,
    only: Option<&FieldDescriptor>,
) -> Result<Vec<u8>, BadReply> {
    if let Some(json) = wire::to_json(shape, descriptor, &bytes, only) {
        return Ok(json);
    }
    let message = DynamicMessage::decode(descriptor.clone(), bytes)?;
    Ok(to_json(shape, &message, only)?)
}

/// The JSON text of `message`, or of its field `only` (a binding's
/// `response_body`), as `render(message)` (then that field) would write it.
pub fn to_json(
    shape: &JsonShape,
    message: &DynamicMessage,
    only: Option<&FieldDescriptor>,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(512);
    let mut serializer = serde_json::Serializer::new(&mut out);
    match only {
        None => Shaped { shape, message }.serialize(&mut serializer)?,
        Some(field) if is_written(message, field) => {
            let value = message.get_field(field);
            let kind = field.kind();
            Field {
                shape,
                value: &value,
                kind: &kind,
            }
            .serialize(&mut serializer)?
        }
        Some(_) => serializer.serialize_unit()?,
    }
    Ok(out)
}

/// prost-reflect writes a field that has no presence (with its default
/// when unset) and a field with presence only when it is set.
fn is_written(message: &DynamicMessage, field: &FieldDescriptor) -> bool {
    !field.supports_presence() || message.has_field(field)
}

/// A message: its fields in `fields()` order, unset ones with presence as
/// `null` unless they belong to a real `oneof` (then left out, as a oneof
/// shows only the member that is set).
struct Shaped<'a> {
    shape: &'a JsonShape,
    message: &'a DynamicMessage,
}

impl Serialize for Shaped<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let descriptor = self.message.descriptor();
        if is_well_known(descriptor.full_name()) {
            // Timestamps and the like keep their own JSON form, and nothing
            // inside them is reshaped.
            return self.message.serialize_with_options(serializer, &SERIALIZE);
        }
        let mut map = serializer.serialize_map(None)?;
        for field in descriptor.fields() {
            if is_written(self.message, &field) {
                let value = self.message.get_field(&field);
                let kind = field.kind();
                let field_value = Field {
                    shape: self.shape,
                    value: &value,
                    kind: &kind,
                };
                map.serialize_entry(field.name(), &field_value)?;
            } else if field
                .containing_oneof()
                .is_none_or(|oneof| oneof.is_synthetic())
            {
                map.serialize_entry(field.name(), &())?;
            }
        }
        map.end()
    }
}

/// One value of a field (or an element of a repeated field, or a map's
/// value) of the given kind, as prost-reflect writes it with [`SERIALIZE`],
/// enums shortened.
struct Field<'a> {
    shape: &'a JsonShape,
    value: &'a Value,
    kind: &'a Kind,
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Bool(value) => serializer.serialize_bool(*value),
            Value::I32(value) => serializer.serialize_i32(*value),
            Value::I64(value) => serializer.serialize_i64(*value),
            Value::U32(value) => serializer.serialize_u32(*value),
            Value::U64(value) => serializer.serialize_u64(*value),
            // Written as an f32, so 0.1 is `0.1`: the Value path went through
            // f64 and wrote 0.10000000149011612. No contract has a float.
            Value::F32(value) => float(serializer, f64::from(*value), Some(*value)),
            Value::F64(value) => float(serializer, *value, None),
            Value::String(value) => serializer.serialize_str(value),
            Value::Bytes(value) => serializer.collect_str(&Base64Display::new(value, &STANDARD)),
            Value::EnumNumber(number) => {
                let Kind::Enum(descriptor) = self.kind else {
                    return serializer.serialize_i32(*number);
                };
                if descriptor.full_name() == "google.protobuf.NullValue" {
                    return serializer.serialize_unit();
                }
                match descriptor.get_value(*number) {
                    Some(value) => {
                        serializer.serialize_str(self.shape.shown_name(descriptor, value.name()))
                    }
                    None => serializer.serialize_i32(*number),
                }
            }
            Value::Message(message) => Shaped {
                shape: self.shape,
                message,
            }
            .serialize(serializer),
            Value::List(items) => {
                let mut list = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    list.serialize_element(&Field {
                        shape: self.shape,
                        value: item,
                        kind: self.kind,
                    })?;
                }
                list.end()
            }
            Value::Map(entries) => {
                let value_kind = match self.kind {
                    Kind::Message(entry) if entry.is_map_entry() => {
                        entry.map_entry_value_field().kind()
                    }
                    other => other.clone(),
                };
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(
                        &Key(key),
                        &Field {
                            shape: self.shape,
                            value,
                            kind: &value_kind,
                        },
                    )?;
                }
                map.end()
            }
        }
    }
}

/// Proto3 JSON: non-finite numbers as strings.
fn float<S: Serializer>(serializer: S, value: f64, as_f32: Option<f32>) -> Result<S::Ok, S::Error> {
    if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if value == f64::INFINITY {
        serializer.serialize_str("Infinity")
    } else if value == f64::NEG_INFINITY {
        serializer.serialize_str("-Infinity")
    } else if let Some(value) = as_f32 {
        serializer.serialize_f32(value)
    } else {
        serializer.serialize_f64(value)
    }
}

/// A map key: JSON object keys are strings.
struct Key<'a>(&'a MapKey);

impl Serialize for Key<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            MapKey::Bool(value) => serializer.collect_str(value),
            MapKey::I32(value) => serializer.collect_str(value),
            MapKey::I64(value) => serializer.collect_str(value),
            MapKey::U32(value) => serializer.collect_str(value),
            MapKey::U64(value) => serializer.collect_str(value),
            MapKey::String(value) => serializer.serialize_str(value),
        }
    }
}

#[cfg(test)]
mod tests;
