//! The one-pass writer against the `Value` path it replaces, byte for byte,
//! on every message of the contracts: empty, fully set and half set.

use std::collections::HashMap;

use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    ReflectMessage, Value,
};

use super::to_json;
use crate::json::JsonShape;

pub(super) fn pool() -> DescriptorPool {
    let mut pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).expect("decodes");
    crate::error::add_error_details(&mut pool).expect("google.rpc decodes");
    pool
}

/// What the edge wrote before: `render`, then the field, then `to_string`.
fn old_way(shape: &JsonShape, message: &DynamicMessage, only: Option<&FieldDescriptor>) -> String {
    let value = shape.render(message).expect("renders");
    let value = match (only, value) {
        (Some(field), serde_json::Value::Object(mut fields)) => fields
            .remove(field.name())
            .unwrap_or(serde_json::Value::Null),
        (_, value) => value,
    };
    value.to_string()
}

/// A value of `kind` that is not the default, so every field shows.
fn sample(kind: &Kind, depth: usize, seed: usize) -> Option<Value> {
    Some(match kind {
        Kind::Double => Value::F64(0.25 + seed as f64),
        // Exact in f32, so both ways write it alike.
        Kind::Float => Value::F32(0.5),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(-7 - seed as i32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(1 << 40),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(7),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(1 << 41),
        Kind::Bool => Value::Bool(true),
        Kind::String => Value::String(format!("s\"{seed}\u{e9}")),
        Kind::Bytes => Value::Bytes(vec![0, 255, seed as u8].into()),
        Kind::Enum(e) => Value::EnumNumber(
            e.values()
                .nth(1 + seed % 2)
                .unwrap_or(e.default_value())
                .number(),
        ),
        Kind::Message(m) => Value::Message(filled(m, depth + 1, seed, 1)?),
    })
}

/// A message with every `step`-th field set, nested `depth` levels at most.
/// Well-known types get a value of their own kind, or none.
pub(super) fn filled(
    descriptor: &MessageDescriptor,
    depth: usize,
    seed: usize,
    step: usize,
) -> Option<DynamicMessage> {
    let mut message = DynamicMessage::new(descriptor.clone());
    match descriptor.full_name() {
        "google.protobuf.Timestamp" | "google.protobuf.Duration" => {
            message.set_field_by_name("seconds", Value::I64(1_700_000_000 + seed as i64));
            message.set_field_by_name("nanos", Value::I32(500_000_000));
            return Some(message);
        }
        name if name.starts_with("google.protobuf.")
            && name.ends_with("Value")
            && name != "google.protobuf.Value" =>
        {
            let field = descriptor.get_field_by_name("value")?;
            message.set_field(&field, sample(&field.kind(), depth, seed)?);
            return Some(message);
        }
        name if name.starts_with("google.protobuf.") => return None,
        _ => {}
    }
    if depth > 3 {
        return Some(message);
    }
    for (i, field) in descriptor.fields().enumerate() {
        if i % step != 0 {
            continue;
        }
        let value = if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                continue;
            };
            let key_field = entry.map_entry_key_field();
            let value_field = entry.map_entry_value_field();
            let mut map = HashMap::new();
            for n in 0..2 {
                let key = match key_field.kind() {
                    Kind::String => MapKey::String(format!("k{n}")),
                    Kind::Bool => MapKey::Bool(n == 1),
                    Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(n as i64),
                    Kind::Uint64 | Kind::Fixed64 => MapKey::U64(n as u64),
                    Kind::Uint32 | Kind::Fixed32 => MapKey::U32(n as u32),
                    _ => MapKey::I32(n as i32),
                };
                let Some(value) = sample(&value_field.kind(), depth, n) else {
                    continue;
                };
                map.insert(key, value);
            }
            Value::Map(map)
        } else if field.is_list() {
            let items: Vec<Value> = (0..2)
                .filter_map(|n| sample(&field.kind(), depth, n))
                .collect();
            Value::List(items)
        } else {
            let Some(value) = sample(&field.kind(), depth, seed + i) else {
                continue;
            };
            value
        };
        message.set_field(&field, value);
    }
    Some(message)
}

fn check(shape: &JsonShape, message: &DynamicMessage) {
    let name = message.descriptor().full_name().to_owned();
    let new = String::from_utf8(to_json(shape, message, None).expect("writes")).expect("UTF-8");
    assert_eq!(new, old_way(shape, message, None), "{name}");
    for field in message.descriptor().fields() {
        let new = String::from_utf8(to_json(shape, message, Some(&field)).expect("writes"))
            .expect("UTF-8");
        assert_eq!(
            new,
            old_way(shape, message, Some(&field)),
            "{name}.{}",
            field.name()
        );
    }
}

/// The messages of the contracts and of google.rpc, without map entries
/// and the well-known types (those keep prost-reflect's own JSON form).
pub(super) fn contract_messages(pool: &DescriptorPool) -> impl Iterator<Item = MessageDescriptor> {
    pool.all_messages().filter(|descriptor| {
        !descriptor.is_map_entry() && !descriptor.full_name().starts_with("google.protobuf.")
    })
}

#[test]
fn every_message_is_written_as_the_value_path_wrote_it() {
    let pool = pool();
    let shape = JsonShape::new(&pool);
    let mut checked = 0;
    for descriptor in contract_messages(&pool) {
        check(&shape, &DynamicMessage::new(descriptor.clone()));
        for step in [1, 2, 3] {
            if let Some(message) = filled(&descriptor, 0, step, step) {
                check(&shape, &message);
            }
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} messages");
}

#[test]
fn enums_are_shortened_and_unset_messages_are_null() {
    let pool = pool();
    let shape = JsonShape::new(&pool);
    let descriptor = pool
        .get_message_by_name("kursi.reservation.v1.Reservation")
        .expect("Reservation");
    let mut reservation = DynamicMessage::new(descriptor);
    reservation.set_field_by_name("status", Value::EnumNumber(1));
    let json: serde_json::Value =
        serde_json::from_slice(&to_json(&shape, &reservation, None).expect("writes"))
            .expect("JSON");
    assert_eq!(json["status"], "PENDING");
    assert_eq!(json["table"], serde_json::Value::Null);
    assert_eq!(json["version"], 0);
    let keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[..3], ["reservation_id", "status", "table_area"]);
}

#[test]
fn non_finite_floats_and_unknown_enum_numbers_are_kept() {
    let pool = pool();
    let shape = JsonShape::new(&pool);
    let write = |value: Value, kind: Kind| {
        let field = super::Field {
            shape: &shape,
            value: &value,
            kind: &kind,
        };
        serde_json::to_string(&field).expect("writes")
    };
    assert_eq!(write(Value::F64(f64::NAN), Kind::Double), "\"NaN\"");
    assert_eq!(
        write(Value::F64(f64::NEG_INFINITY), Kind::Double),
        "\"-Infinity\""
    );
    assert_eq!(
        write(Value::F32(f32::INFINITY), Kind::Float),
        "\"Infinity\""
    );
    assert_eq!(write(Value::F32(0.1), Kind::Float), "0.1");
    assert_eq!(write(Value::F64(0.1), Kind::Double), "0.1");

    let descriptor = pool
        .get_message_by_name("kursi.reservation.v1.Reservation")
        .expect("Reservation");
    let mut reservation = DynamicMessage::new(descriptor);
    reservation.set_field_by_name("status", Value::EnumNumber(99));
    let json: serde_json::Value =
        serde_json::from_slice(&to_json(&shape, &reservation, None).expect("writes"))
            .expect("JSON");
    assert_eq!(json["status"], 99);
}
