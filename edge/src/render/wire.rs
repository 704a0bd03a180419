//! A reply written to JSON straight from its protobuf bytes, without
//! decoding it into a [`DynamicMessage`] first.
//!
//! Decoding a page of reservations built a field map, a `String` and a
//! `Value` for every field of every row, only to write them out and free
//! them: about a fifth of the edge's CPU on list-reservations. This walks
//! each message's bytes once to find where every field last occurs, then
//! writes the fields in declaration order exactly as [`super::to_json`]
//! writes the decoded message (the tests compare the two on every message of
//! the contracts).
//!
//! It covers what a protobuf encoder writes in practice. Anything rarer or
//! wrong — a singular field sent twice (a message would have to be merged),
//! a map entry, a group, a malformed field, a timestamp out of range,
//! nesting past [`MAX_DEPTH`] — makes it give up (`None`), and the caller
//! decodes the reply the full way. So what a caller sees, a 502 for a reply
//! that does not fit the contract included, never depends on the path taken.

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use prost::Message as _;
use prost::encoding::{WireType, decode_key, decode_varint};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::Field;
use crate::json::{JsonShape, SERIALIZE, is_well_known};

/// Messages nested deeper than this are left to the full decoder (and its
/// own recursion limit).
const MAX_DEPTH: usize = 32;

/// The range of `google.protobuf.Timestamp` that has an RFC 3339 form.
const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// The JSON text of the `descriptor` message encoded in `bytes`, or of its
/// field `only` (a binding's `response_body`), or `None` when the bytes hold
/// something only the full decoder should judge.
pub fn to_json(
    shape: &JsonShape,
    descriptor: &MessageDescriptor,
    bytes: &[u8],
    only: Option<&FieldDescriptor>,
) -> Option<Vec<u8>> {
    let mut message = WireMessage::new(shape, descriptor, bytes, 0);
    let mut out = Vec::with_capacity(256 + bytes.len() * 2);
    let mut serializer = serde_json::Serializer::new(&mut out);
    let Some(field) = only else {
        message.serialize(&mut serializer).ok()?;
        return Some(out);
    };
    if is_well_known(descriptor.full_name()) {
        return None;
    }
    // The rest of the reply is read as decoding would read it (a reply that
    // does not fit is refused whole), then dropped.
    message.leave_out = Some(field.number());
    message
        .serialize(&mut serde_json::Serializer::new(std::io::sink()))
        .ok()?;
    let seen = message.scan::<serde_json::Error>().ok()?;
    match message.shown::<serde_json::Error>(&seen, field).ok()? {
        Shown::Value(value) => value.serialize(&mut serializer).ok()?,
        Shown::Null | Shown::Omitted => serializer.serialize_unit().ok()?,
    }
    Some(out)
}

/// Why the walk gave up; never shown to anyone.
fn give_up<E: serde::ser::Error>(why: &str) -> E {
    E::custom(why)
}

/// One field as it is on the wire: number, wire type and value bytes (a
/// varint's own bytes, 4 or 8 fixed bytes, or a length-delimited payload).
#[derive(Clone, Copy)]
struct WireField<'a> {
    number: u32,
    wire: WireType,
    value: &'a [u8],
}

/// The next field of `rest`, which moves past it.
fn next_field<'a, E: serde::ser::Error>(rest: &mut &'a [u8]) -> Result<Option<WireField<'a>>, E> {
    if rest.is_empty() {
        return Ok(None);
    }
    let (number, wire) = decode_key(rest).map_err(|_| give_up::<E>("bad key"))?;
    let len = match wire {
        WireType::Varint => varint_len(rest)?,
        WireType::SixtyFourBit => 8,
        WireType::ThirtyTwoBit => 4,
        WireType::LengthDelimited => decode_varint(rest)
            .ok()
            .and_then(|len| usize::try_from(len).ok())
            .ok_or_else(|| give_up::<E>("bad length"))?,
        WireType::StartGroup | WireType::EndGroup => return Err(give_up("group")),
    };
    if rest.len() < len {
        return Err(give_up("truncated"));
    }
    let (value, after) = rest.split_at(len);
    *rest = after;
    Ok(Some(WireField {
        number,
        wire,
        value,
    }))
}

/// How many bytes the varint at the start of `bytes` takes.
fn varint_len<E: serde::ser::Error>(bytes: &[u8]) -> Result<usize, E> {
    let mut rest = bytes;
    decode_varint(&mut rest).map_err(|_| give_up::<E>("bad varint"))?;
    Ok(bytes.len() - rest.len())
}

fn varint<E: serde::ser::Error>(mut bytes: &[u8]) -> Result<u64, E> {
    decode_varint(&mut bytes).map_err(|_| give_up("bad varint"))
}

/// Where a field of a message last occurred, and how often.
struct Seen<'a> {
    last: WireField<'a>,
    count: u32,
    /// The position of the last occurrence among the message's fields, to
    /// tell which member of a `oneof` came last (and so is the one set).
    order: u32,
}

struct WireMessage<'a> {
    shape: &'a JsonShape,
    descriptor: &'a MessageDescriptor,
    bytes: &'a [u8],
    depth: usize,
    /// A field not to write (the one a `response_body` writes on its own).
    leave_out: Option<u32>,
}

/// How one field of a message shows.
enum Shown<'a> {
    Value(FieldValue<'a>),
    /// Unset, with presence, outside a real `oneof`: `null`.
    Null,
    /// An unset member of a real `oneof`: left out.
    Omitted,
}

impl<'a> WireMessage<'a> {
    fn new(
        shape: &'a JsonShape,
        descriptor: &'a MessageDescriptor,
        bytes: &'a [u8],
        depth: usize,
    ) -> Self {
        Self {
            shape,
            descriptor,
            bytes,
            depth,
            leave_out: None,
        }
    }

    fn scan<E: serde::ser::Error>(&self) -> Result<Vec<(u32, Seen<'a>)>, E> {
        let mut seen: Vec<(u32, Seen<'a>)> = Vec::with_capacity(16);
        let mut rest = self.bytes;
        let mut order = 0;
        while let Some(field) = next_field(&mut rest)? {
            order += 1;
            match seen.iter_mut().find(|(number, _)| *number == field.number) {
                Some((_, known)) => {
                    known.last = field;
                    known.count += 1;
                    known.order = order;
                }
                None => seen.push((
                    field.number,
                    Seen {
                        last: field,
                        count: 1,
                        order,
                    },
                )),
            }
        }
        Ok(seen)
    }

    /// How `field` shows, given where the scan found each field.
    fn shown<E: serde::ser::Error>(
        &self,
        seen: &[(u32, Seen<'a>)],
        field: &FieldDescriptor,
    ) -> Result<Shown<'_>, E> {
        let find = |number: u32| {
            seen.iter()
                .find(|(candidate, _)| *candidate == number)
                .map(|(_, seen)| seen)
        };
        let value = |on_wire| {
            Shown::Value(FieldValue {
                message: self,
                field: field.clone(),
                on_wire,
            })
        };
        let found = find(field.number());
        if field.is_map() {
            return match found {
                Some(_) => Err(give_up("map entries")),
                None => Ok(value(None)),
            };
        }
        if field.is_list() {
            return Ok(value(None));
        }
        let real_oneof = field
            .containing_oneof()
            .filter(|oneof| !oneof.is_synthetic());
        let Some(seen) = found else {
            return Ok(match real_oneof {
                _ if !field.supports_presence() => value(None),
                Some(_) => Shown::Omitted,
                None => Shown::Null,
            });
        };
        if seen.count > 1 {
            return Err(give_up("a singular field sent twice"));
        }
        let superseded = real_oneof.is_some_and(|oneof| {
            oneof
                .fields()
                .filter_map(|member| find(member.number()))
                .any(|member| member.order > seen.order)
        });
        Ok(if superseded {
            Shown::Omitted
        } else {
            value(Some(seen.last))
        })
    }
}

impl Serialize for WireMessage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if is_well_known(self.descriptor.full_name()) {
            return well_known(self.descriptor, self.bytes, serializer);
        }
        if self.depth > MAX_DEPTH {
            return Err(give_up("nested too deep"));
        }
        let seen = self.scan()?;
        let mut map = serializer.serialize_map(None)?;
        for field in self.descriptor.fields() {
            if self.leave_out == Some(field.number()) {
                continue;
            }
            match self.shown(&seen, &field)? {
                Shown::Value(value) => map.serialize_entry(field.name(), &value)?,
                Shown::Null => map.serialize_entry(field.name(), &())?,
                Shown::Omitted => {}
            }
        }
        map.end()
    }
}

/// One field's value: what is on the wire, or its default.
struct FieldValue<'a> {
    message: &'a WireMessage<'a>,
    field: FieldDescriptor,
    /// The last occurrence of a singular field; `None` when it is unset,
    /// and for repeated fields, whose occurrences [`List`] collects.
    on_wire: Option<WireField<'a>>,
}

impl Serialize for FieldValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let shape = self.message.shape;
        if self.field.is_list() {
            return List {
                message: self.message,
                field: &self.field,
            }
            .serialize(serializer);
        }
        match self.on_wire {
            Some(on_wire) => Single {
                shape,
                kind: &self.field.kind(),
                field: on_wire,
                depth: self.message.depth,
            }
            .serialize(serializer),
            None => Unset(&self.field, shape).serialize(serializer),
        }
    }
}

/// Timestamps are written here; the other well-known types, rare in
/// replies, are decoded and written by prost-reflect as before.
fn well_known<S: Serializer>(
    descriptor: &MessageDescriptor,
    bytes: &[u8],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if descriptor.full_name() == "google.protobuf.Timestamp" {
        let timestamp =
            prost_types::Timestamp::decode(bytes).map_err(|_| give_up::<S::Error>("timestamp"))?;
        if !TIMESTAMP_SECONDS.contains(&timestamp.seconds)
            || !(0..1_000_000_000).contains(&timestamp.nanos)
        {
            return Err(give_up("timestamp out of range"));
        }
        return serializer.collect_str(&timestamp);
    }
    let message = DynamicMessage::decode(descriptor.clone(), bytes)
        .map_err(|_| give_up::<S::Error>("well-known type"))?;
    message.serialize_with_options(serializer, &SERIALIZE)
}

/// The value a field without presence shows when it is not on the wire.
struct Unset<'a>(&'a FieldDescriptor, &'a JsonShape);

impl Serialize for Unset<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Field {
            shape: self.1,
            value: &self.0.default_value(),
            kind: &self.0.kind(),
        }
        .serialize(serializer)
    }
}

/// Every occurrence of a repeated field, in wire order; scalars may come
/// packed, one by one, or both.
struct List<'a> {
    message: &'a WireMessage<'a>,
    field: &'a FieldDescriptor,
}

impl Serialize for List<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kind = self.field.kind();
        let number = self.field.number();
        let packed = packed_wire(&kind);
        let mut items = serializer.serialize_seq(None)?;
        let mut rest = self.message.bytes;
        while let Some(field) = next_field(&mut rest)? {
            if field.number != number {
                continue;
            }
            let item = |field| Single {
                shape: self.message.shape,
                kind: &kind,
                field,
                depth: self.message.depth,
            };
            match packed {
                Some(wire) if field.wire == WireType::LengthDelimited => {
                    let mut values = field.value;
                    while !values.is_empty() {
                        let len = match wire {
                            WireType::Varint => varint_len(values)?,
                            WireType::SixtyFourBit => 8,
                            _ => 4,
                        };
                        if values.len() < len {
                            return Err(give_up("truncated packed field"));
                        }
                        let (value, after) = values.split_at(len);
                        values = after;
                        items.serialize_element(&item(WireField {
                            number,
                            wire,
                            value,
                        }))?;
                    }
                }
                _ => items.serialize_element(&item(field))?,
            }
        }
        items.end()
    }
}

/// The wire type of one element of a packable (scalar) kind.
fn packed_wire(kind: &Kind) -> Option<WireType> {
    match kind {
        Kind::String | Kind::Bytes | Kind::Message(_) => None,
        _ => Some(scalar_wire(kind)),
    }
}

/// The wire type a value of `kind` is sent with (one at a time).
fn scalar_wire(kind: &Kind) -> WireType {
    match kind {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => WireType::SixtyFourBit,
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => WireType::ThirtyTwoBit,
        Kind::String | Kind::Bytes | Kind::Message(_) => WireType::LengthDelimited,
        Kind::Int32
        | Kind::Int64
        | Kind::Uint32
        | Kind::Uint64
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Bool
        | Kind::Enum(_) => WireType::Varint,
    }
}

/// One value of a field of `kind`, from its wire bytes.
struct Single<'a> {
    shape: &'a JsonShape,
    kind: &'a Kind,
    field: WireField<'a>,
    depth: usize,
}

impl Serialize for Single<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.field.wire != scalar_wire(self.kind) {
            return Err(give_up("wire type does not fit the field"));
        }
        let bytes = self.field.value;
        let value = match self.kind {
            Kind::Message(descriptor) => {
                return WireMessage::new(self.shape, descriptor, bytes, self.depth + 1)
                    .serialize(serializer);
            }
            Kind::String => {
                let text = std::str::from_utf8(bytes).map_err(|_| give_up::<S::Error>("UTF-8"))?;
                return serializer.serialize_str(text);
            }
            Kind::Bytes => return serializer.collect_str(&Base64Display::new(bytes, &STANDARD)),
            // The casts are protobuf's: a varint keeps its low bits.
            Kind::Int32 => Value::I32(varint::<S::Error>(bytes)? as i32),
            Kind::Int64 => Value::I64(varint::<S::Error>(bytes)? as i64),
            Kind::Uint32 => Value::U32(varint::<S::Error>(bytes)? as u32),
            Kind::Uint64 => Value::U64(varint::<S::Error>(bytes)?),
            Kind::Sint32 => {
                let raw = varint::<S::Error>(bytes)? as u32;
                Value::I32(((raw >> 1) as i32) ^ -((raw & 1) as i32))
            }
            Kind::Sint64 => {
                let raw = varint::<S::Error>(bytes)?;
                Value::I64(((raw >> 1) as i64) ^ -((raw & 1) as i64))
            }
            Kind::Bool => Value::Bool(varint::<S::Error>(bytes)? != 0),
            Kind::Enum(_) => Value::EnumNumber(varint::<S::Error>(bytes)? as i32),
            Kind::Fixed32 => Value::U32(u32::from_le_bytes(fixed(bytes)?)),
            Kind::Sfixed32 => Value::I32(i32::from_le_bytes(fixed(bytes)?)),
            Kind::Float => Value::F32(f32::from_le_bytes(fixed(bytes)?)),
            Kind::Fixed64 => Value::U64(u64::from_le_bytes(fixed(bytes)?)),
            Kind::Sfixed64 => Value::I64(i64::from_le_bytes(fixed(bytes)?)),
            Kind::Double => Value::F64(f64::from_le_bytes(fixed(bytes)?)),
        };
        Field {
            shape: self.shape,
            value: &value,
            kind: self.kind,
        }
        .serialize(serializer)
    }
}

fn fixed<const N: usize, E: serde::ser::Error>(bytes: &[u8]) -> Result<[u8; N], E> {
    bytes.try_into().map_err(|_| give_up("fixed-width value"))
}

#[cfg(test)]
mod tests;
