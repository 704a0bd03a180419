//! A request body parsed into a `serde_json::Value`, refusing an object
//! that names a key twice. serde_json keeps the last value without a word;
//! Go's protojson (behind grpc-gateway) refuses such a body, and a booking
//! sent with two party sizes should not be guessed at.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The JSON value of `body`; a key twice in one object is an error naming
/// the key (serde_json adds where it is).
pub fn from_slice(body: &[u8]) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = Strict.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Builds the same `Value` serde_json's own does, checking keys on the way.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // JSON text has no NaN or infinity, so this is always a number.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut array = Vec::new();
        while let Some(item) = items.next_element_seed(Strict)? {
            array.push(item);
        }
        Ok(Value::Array(array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(A::Error::custom(format!(
                    "{key:?} is given twice in one object"
                )));
            }
            let value = entries.next_value_seed(Strict)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_value_as_serde_json_builds() {
        let text = br#"{"a": [1, -2, 3.5, 18446744073709551615, "x\u00e9", true, null],
                        "b": {"c": {}, "d": []}, "e": 1e300}"#;
        let strict = from_slice(text).expect("parses");
        let plain: Value = serde_json::from_slice(text).expect("parses");
        assert_eq!(strict, plain);
        assert_eq!(strict.to_string(), plain.to_string(), "key order too");
    }

    #[test]
    fn a_key_twice_in_one_object_is_refused_by_name() {
        let err = from_slice(br#"{"party_size": 2, "party_size": 3}"#).expect_err("refused");
        assert!(
            err.to_string().contains("\"party_size\" is given twice"),
            "{err}"
        );
        let err = from_slice(br#"{"a": {"note": 1, "note": 2}}"#).expect_err("refused");
        assert!(err.to_string().contains("\"note\""), "{err}");
        // The same key in two objects is fine.
        from_slice(br#"[{"a": 1}, {"a": 2}]"#).expect("parses");
    }

    #[test]
    fn invalid_json_and_trailing_text_are_still_refused() {
        assert!(from_slice(b"{").is_err());
        assert!(from_slice(b"{} {}").is_err());
        assert!(from_slice(b"").is_err());
    }
}
