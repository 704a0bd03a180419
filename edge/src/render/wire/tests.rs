//! The wire walk against decoding and then writing: byte for byte where it
//! answers, and the same answer through [`reply`] where it gives up, on
//! every message of the contracts and on bytes no prost encoder writes.

use std::path::PathBuf;

use bytes::Bytes;
use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, MessageDescriptor, ReflectMessage, Value,
};
use serde_json::json;

use super::to_json as walk;
use crate::json::JsonShape;
use crate::render::tests::{contract_messages, filled, pool};
use crate::render::{reply, to_json};

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

/// What decoding the bytes and writing the message (or its field `only`)
/// gives; `None` is a 502.
fn decoded(
    shape: &JsonShape,
    descriptor: &MessageDescriptor,
    bytes: &[u8],
    only: Option<&FieldDescriptor>,
) -> Option<String> {
    let message = DynamicMessage::decode(descriptor.clone(), bytes).ok()?;
    to_json(shape, &message, only).ok().map(utf8)
}

/// The walk's answer for the whole message, checked as [`walked_field`]
/// checks it.
fn walked(shape: &JsonShape, descriptor: &MessageDescriptor, bytes: &[u8]) -> Option<String> {
    walked_field(shape, descriptor, bytes, None)
}

/// The walk's answer, after checking it against decoding: the same text
/// when it answers, and the same outcome through `reply` either way.
fn walked_field(
    shape: &JsonShape,
    descriptor: &MessageDescriptor,
    bytes: &[u8],
    only: Option<&FieldDescriptor>,
) -> Option<String> {
    let fast = walk(shape, descriptor, bytes, only).map(utf8);
    let slow = decoded(shape, descriptor, bytes, only);
    let case = match only {
        Some(field) => field.full_name().to_owned(),
        None => descriptor.full_name().to_owned(),
    };
    if fast.is_some() {
        assert_eq!(fast, slow, "{case}");
    }
    // As JSON values: a map's entries come out in hash order, which differs
    // between two decodings of the same bytes.
    let answered = reply(shape, descriptor, Bytes::copy_from_slice(bytes), only)
        .ok()
        .map(|json| parsed(&utf8(json)));
    assert_eq!(answered, slow.as_deref().map(parsed), "{case}");
    fast
}

fn has_map_entries(message: &DynamicMessage) -> bool {
    message.fields().any(|(_, value)| match value {
        Value::Map(entries) => !entries.is_empty(),
        Value::Message(inner) => has_map_entries(inner),
        Value::List(items) => items
            .iter()
            .any(|item| matches!(item, Value::Message(inner) if has_map_entries(inner))),
        _ => false,
    })
}

/// The message without map entries, at any depth (the walk leaves those to
/// the decoder).
fn drop_map_entries(message: &mut DynamicMessage) {
    let maps: Vec<_> = message
        .descriptor()
        .fields()
        .filter(|field| field.is_map())
        .collect();
    for field in maps {
        message.clear_field(&field);
    }
    for (_, value) in message.fields_mut() {
        match value {
            Value::Message(inner) => drop_map_entries(inner),
            Value::List(items) => {
                for item in items {
                    if let Value::Message(inner) = item {
                        drop_map_entries(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_message_of_the_contracts_is_walked_as_decoding_writes_it() {
    let pool = pool();
    let shape = JsonShape::new(&pool);
    let mut walked_messages = 0;
    for descriptor in contract_messages(&pool) {
        let mut messages = vec![DynamicMessage::new(descriptor.clone())];
        messages.extend(
            [1, 2, 3]
                .map(|step| filled(&descriptor, 0, step, step))
                .into_iter()
                .flatten(),
        );
        for message in messages {
            let bytes = message.encode_to_vec();
            let fast = walked(&shape, &descriptor, &bytes);
            assert_eq!(
                fast.is_some(),
                !has_map_entries(&message),
                "{} (map entries are left to the decoder, nothing else is)",
                descriptor.full_name()
            );
            for field in descriptor.fields() {
                let fast = walked_field(&shape, &descriptor, &bytes, Some(&field));
                assert_eq!(
                    fast.is_some(),
                    !has_map_entries(&message),
                    "{}",
                    field.full_name()
                );
            }
        }
        walked_messages += 1;
    }
    assert!(walked_messages > 100, "only {walked_messages} messages");
}

/// The test contract with a field of every kind (`everything.proto`).
fn everything() -> (JsonShape, MessageDescriptor) {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/render/wire");
    let mut compiler = protox::Compiler::new([here]).expect("include path");
    compiler.include_imports(true);
    compiler.open_files(["everything.proto"]).expect("compiles");
    let pool =
        DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice()).expect("decodes");
    let descriptor = pool
        .get_message_by_name("kursi.wiretest.v1.Everything")
        .expect("Everything");
    (JsonShape::new(&pool), descriptor)
}

/// Protobuf bytes written field by field, in any order and any number.
#[derive(Default)]
struct Wire(Vec<u8>);

impl Wire {
    fn varint(mut self, number: u32, value: u64) -> Self {
        encode_key(number, WireType::Varint, &mut self.0);
        encode_varint(value, &mut self.0);
        self
    }

    fn fixed32(mut self, number: u32, value: u32) -> Self {
        encode_key(number, WireType::ThirtyTwoBit, &mut self.0);
        self.0.extend(value.to_le_bytes());
        self
    }

    fn fixed64(mut self, number: u32, value: u64) -> Self {
        encode_key(number, WireType::SixtyFourBit, &mut self.0);
        self.0.extend(value.to_le_bytes());
        self
    }

    fn bytes(mut self, number: u32, value: &[u8]) -> Self {
        encode_key(number, WireType::LengthDelimited, &mut self.0);
        encode_varint(value.len() as u64, &mut self.0);
        self.0.extend(value);
        self
    }

    fn message(self, number: u32, value: Wire) -> Self {
        self.bytes(number, &value.0)
    }
}

fn parsed(json: &str) -> serde_json::Value {
    serde_json::from_str(json).expect("JSON")
}

#[test]
fn every_kind_of_field_is_written_as_decoding_writes_it() {
    let (shape, descriptor) = everything();
    for step in [1, 2, 3] {
        let mut message = filled(&descriptor, 0, step, step).expect("fills");
        drop_map_entries(&mut message);
        let json = walked(&shape, &descriptor, &message.encode_to_vec()).expect("walked");
        assert_eq!(json, utf8(to_json(&shape, &message, None).expect("writes")));
    }
    let json = walked(&shape, &descriptor, &[]).expect("walked");
    let empty = parsed(&json);
    assert_eq!(empty["maybe"], json!(null));
    assert_eq!(empty["child"], json!(null));
    assert_eq!(empty["mood"], json!("UNSPECIFIED"));
    assert_eq!(empty["counts"], json!({}));
    assert_eq!(empty["r_int32"], json!([]));
    for member in ["name", "nested", "number"] {
        assert!(
            empty.get(member).is_none(),
            "unset oneof member {member} shown"
        );
    }
}

#[test]
fn edge_values_keep_protobufs_meaning() {
    let (shape, descriptor) = everything();
    let bytes = Wire::default()
        .varint(3, -5_i64 as u64)
        .varint(7, 5)
        .fixed32(2, f32::NAN.to_bits())
        .fixed64(1, f64::NEG_INFINITY.to_bits())
        .varint(13, 2)
        .varint(16, 42)
        .varint(6, u64::MAX)
        .bytes(15, &[0, 255])
        .varint(25, 0)
        .message(
            26,
            Wire::default().varint(1, 1_700_000_000).varint(2, 1_500),
        )
        .message(27, Wire::default())
        .0;
    let json = parsed(&walked(&shape, &descriptor, &bytes).expect("walked"));
    assert_eq!(json["f_int32"], json!(-5));
    assert_eq!(json["f_sint32"], json!(-3));
    assert_eq!(json["f_float"], json!("NaN"));
    assert_eq!(json["f_double"], json!("-Infinity"));
    assert_eq!(json["f_bool"], json!(true));
    assert_eq!(json["mood"], json!(42));
    assert_eq!(json["f_uint64"], json!(u64::MAX));
    assert_eq!(json["f_bytes"], json!("AP8="));
    assert_eq!(
        json["maybe"],
        json!(0),
        "an optional zero that was sent is set"
    );
    assert_eq!(json["at"], json!("2023-11-14T22:13:20.000001500Z"));
    assert_eq!(json["wrapped"], json!(0));
}

#[test]
fn repeated_scalars_may_come_packed_one_by_one_or_both() {
    let (shape, descriptor) = everything();
    let mut packed = Vec::new();
    for value in [1, 300, -2_i64 as u64] {
        encode_varint(value, &mut packed);
    }
    let bytes = Wire::default()
        .varint(17, 7)
        .bytes(17, &packed)
        .varint(17, 8)
        .bytes(20, &[1, 0, 0, 0, 2, 0, 0, 0])
        .fixed32(20, 3)
        .bytes(21, &[1, 2, 42])
        .bytes(22, b"a")
        .bytes(22, b"")
        .bytes(32, &[1, 0])
        .bytes(33, &0.5_f32.to_le_bytes())
        .message(23, Wire::default().varint(3, 1))
        .message(23, Wire::default())
        .0;
    let json = parsed(&walked(&shape, &descriptor, &bytes).expect("walked"));
    assert_eq!(json["r_int32"], json!([7, 1, 300, -2, 8]));
    assert_eq!(json["r_fixed32"], json!([1, 2, 3]));
    assert_eq!(json["r_mood"], json!(["HAPPY", "GRUMPY", 42]));
    assert_eq!(json["r_string"], json!(["a", ""]));
    assert_eq!(json["r_bool"], json!([true, false]));
    assert_eq!(json["r_float"], json!([0.5]));
    assert_eq!(json["r_child"][0]["f_int32"], json!(1));
    assert_eq!(json["r_child"][1]["f_int32"], json!(0));
}

#[test]
fn the_last_member_of_a_oneof_sent_is_the_one_set() {
    let (shape, descriptor) = everything();
    let name_then_number = Wire::default().bytes(28, b"ann").varint(30, 5).0;
    let json = parsed(&walked(&shape, &descriptor, &name_then_number).expect("walked"));
    assert_eq!(json["number"], json!(5));
    assert!(json.get("name").is_none());
    assert!(json.get("nested").is_none());

    let number_then_nested = Wire::default()
        .varint(30, 5)
        .message(29, Wire::default().bytes(14, b"inner"))
        .0;
    let json = parsed(&walked(&shape, &descriptor, &number_then_nested).expect("walked"));
    assert_eq!(json["nested"]["f_string"], json!("inner"));
    assert!(json.get("number").is_none());
    let number = descriptor.get_field_by_name("number").expect("number");
    let only = walked_field(&shape, &descriptor, &number_then_nested, Some(&number));
    assert_eq!(only.as_deref(), Some("null"), "a superseded member alone");
}

#[test]
fn fields_the_contract_does_not_know_are_skipped() {
    let (shape, descriptor) = everything();
    let bytes = Wire::default()
        .varint(99, 1)
        .bytes(100, b"zzz")
        .fixed64(101, 7)
        .fixed32(102, 7)
        .bytes(14, b"kept")
        .0;
    let json = parsed(&walked(&shape, &descriptor, &bytes).expect("walked"));
    assert_eq!(json["f_string"], json!("kept"));
}

#[test]
fn what_encoders_do_not_write_is_left_to_the_decoder() {
    let (shape, descriptor) = everything();
    let mut deep = Wire::default().varint(3, 1);
    for _ in 0..40 {
        deep = Wire::default().message(24, deep);
    }
    let mut truncated = Wire::default().bytes(14, b"abc").0;
    truncated.pop();
    let mut group = Vec::new();
    encode_key(40, WireType::StartGroup, &mut group);
    encode_key(40, WireType::EndGroup, &mut group);
    let cases: [(&str, Vec<u8>, bool); 10] = [
        (
            "a singular field twice (the last one counts)",
            Wire::default().bytes(14, b"a").bytes(14, b"b").0,
            true,
        ),
        (
            "a message twice (the two are merged)",
            Wire::default()
                .message(24, Wire::default().varint(3, 1))
                .message(24, Wire::default().varint(4, 2))
                .0,
            true,
        ),
        (
            "a map entry",
            Wire::default()
                .message(31, Wire::default().bytes(1, b"k").varint(2, 3))
                .0,
            true,
        ),
        ("nesting past the limit", deep.0, true),
        ("an unknown group", group, true),
        (
            "text that is not UTF-8",
            Wire::default().bytes(14, &[0xff]).0,
            false,
        ),
        ("a field cut short", truncated, false),
        (
            "a wire type the field cannot have",
            Wire::default().varint(14, 1).0,
            false,
        ),
        ("field number zero", vec![0, 0], false),
        (
            "a timestamp past year 9999",
            Wire::default()
                .message(26, Wire::default().varint(1, i64::MAX as u64))
                .0,
            false,
        ),
    ];
    let f_string = descriptor.get_field_by_name("f_string").expect("f_string");
    for (case, bytes, fits) in cases {
        assert_eq!(walked(&shape, &descriptor, &bytes), None, "{case}: walked");
        // A reply cut down to one field is refused whole, like decoding does.
        assert_eq!(
            walked_field(&shape, &descriptor, &bytes, Some(&f_string)),
            None,
            "{case}: walked for one field"
        );
        let answered = reply(&shape, &descriptor, Bytes::from(bytes), None);
        assert_eq!(answered.is_ok(), fits, "{case}: {answered:?}");
    }
}

/// A small deterministic generator (xorshift64*), so a failure can be
/// replayed from the seed the assertion names.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// Damaged replies: valid encodings with bytes flipped, cut short, or
/// spliced from another reply. The walk must never panic, and it must agree
/// with decoding on every one of them: the same JSON when it answers, and
/// the same outcome (JSON or 502) through `reply` when it gives up.
#[test]
fn damaged_replies_get_the_decoders_answer() {
    let (shape, descriptor) = everything();
    let mut originals = Vec::new();
    for step in [1, 2, 3, 5] {
        let mut message = filled(&descriptor, 0, step, step).expect("fills");
        drop_map_entries(&mut message);
        originals.push(message.encode_to_vec());
    }
    let mut answered = 0;
    for seed in 1..=1000_u64 {
        let mut noise = Noise(seed);
        let mut bytes = originals[noise.below(originals.len())].clone();
        match noise.below(3) {
            0 => {
                for _ in 0..=noise.below(3) {
                    let at = noise.below(bytes.len());
                    bytes[at] = noise.next() as u8;
                }
            }
            1 => bytes.truncate(noise.below(bytes.len())),
            _ => {
                let other = &originals[noise.below(originals.len())];
                let from = noise.below(other.len());
                let at = noise.below(bytes.len());
                bytes.splice(at..at, other[from..].iter().copied());
            }
        }
        let fast = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            walked(&shape, &descriptor, &bytes)
        }));
        match fast {
            Ok(Some(_)) => answered += 1,
            Ok(None) => {}
            Err(_) => panic!("seed {seed}: the walk or the comparison failed"),
        }
    }
    // Many damaged replies are still valid protobuf (a flipped byte inside
    // a string or a number), so the walk must have answered some of them.
    assert!(answered > 50, "the walk answered only {answered} of 1000");
}
