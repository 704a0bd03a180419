//! What the contracts declare a field accepts, read from its options:
//! `google.api.field_behavior` (REQUIRED, OUTPUT_ONLY, IDENTIFIER; AIP-203)
//! and `kursi.field.v1.rules` (format, bounds, lengths, pattern). The
//! OpenAPI document renders them as JSON Schema keywords; the agreement
//! test (`tests/http/agreement.rs`) checks the services refuse what they say.

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, Kind, Value};
use serde_json::{Map, json};

pub use kursi_proto::field::v1::{FieldRules, Format};

/// `google.api.FieldBehavior` values Kursi uses.
const REQUIRED: i32 = 2;
const OUTPUT_ONLY: i32 = 3;
const IDENTIFIER: i32 = 8;

/// One line of text: no control characters (Unicode category Cc).
pub const LINE_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";
/// Text: no control characters but tab, line feed and carriage return.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
/// An absolute http(s) URL, as a pattern JSON Schema tools can generate from
/// (OpenAPI's `uri` format admits any scheme).
pub const HTTP_URL_PATTERN: &str =
    r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?$";

/// A field's declared behaviour and rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    pub required: bool,
    pub output_only: bool,
    pub rules: FieldRules,
}

impl Declared {
    pub fn of(field: &FieldDescriptor) -> Self {
        let pool = field.parent_pool();
        let options = field.options();
        let mut declared = Self::default();
        if let Some(behavior) = pool.get_extension_by_name("google.api.field_behavior")
            && options.has_extension(&behavior)
            && let Value::List(values) = options.get_extension(&behavior).as_ref()
        {
            for value in values {
                match value.as_enum_number() {
                    Some(REQUIRED) => declared.required = true,
                    Some(OUTPUT_ONLY | IDENTIFIER) => declared.output_only = true,
                    _ => {}
                }
            }
        }
        if let Some(rules) = pool.get_extension_by_name("kursi.field.v1.rules")
            && options.has_extension(&rules)
            && let Some(message) = options.get_extension(&rules).as_message()
        {
            declared.rules =
                FieldRules::decode(message.encode_to_vec().as_slice()).unwrap_or_default();
        }
        if declared == Self::default()
            && let Some(external) = external(pool, field)
        {
            return external;
        }
        declared
    }

    fn from_behavior(behavior: &[i32], rules: FieldRules) -> Self {
        Self {
            required: behavior.contains(&REQUIRED),
            output_only: behavior
                .iter()
                .any(|b| matches!(*b, OUTPUT_ONLY | IDENTIFIER)),
            rules,
        }
    }

    /// Whether anything is declared that a request could break.
    pub fn constrains_input(&self) -> bool {
        let r = &self.rules;
        self.required
            || r.format() != Format::Unspecified
            || r.min.is_some()
            || r.max.is_some()
            || r.min_len.is_some()
            || r.max_len.is_some()
            || r.max_bytes.is_some()
            || !r.pattern.is_empty()
            || r.min_items.is_some()
            || r.max_items.is_some()
            || !r.not_in.is_empty()
            || r.unique_items
    }

    /// The JSON Schema keywords of one value of the field (an item, for a
    /// list): format, pattern, bounds and lengths.
    pub fn value_keywords(&self, kind: &Kind) -> Map<String, serde_json::Value> {
        let r = &self.rules;
        let mut out = Map::new();
        let (format, pattern) = match r.format() {
            Format::Unspecified => (None, None),
            Format::Uuid => (Some("uuid"), None),
            Format::Email => (Some("email"), None),
            Format::Date => (Some("date"), None),
            Format::HttpUrl => (None, Some(HTTP_URL_PATTERN)),
            Format::Line => (None, Some(LINE_PATTERN)),
            Format::Text => (None, Some(TEXT_PATTERN)),
        };
        if let Some(format) = format {
            out.insert("format".into(), json!(format));
        }
        // A pattern of the field's own is tighter than its format's.
        let pattern = Some(r.pattern.as_str())
            .filter(|p| !p.is_empty())
            .or(pattern);
        if let Some(pattern) = pattern {
            out.insert("pattern".into(), json!(pattern));
        }
        if matches!(kind, Kind::String) {
            if let Some(min) = r.min_len {
                out.insert("minLength".into(), json!(min));
            }
            if let Some(max) = [r.max_len, r.max_bytes].into_iter().flatten().min() {
                out.insert("maxLength".into(), json!(max));
            }
        }
        if let Some(min) = r.min {
            out.insert("minimum".into(), json!(min));
        }
        if let Some(max) = r.max {
            out.insert("maximum".into(), json!(max));
        }
        out
    }

    /// The keywords of a list: how many items.
    pub fn list_keywords(&self) -> Map<String, serde_json::Value> {
        let mut out = Map::new();
        if let Some(min) = self.rules.min_items {
            out.insert("minItems".into(), json!(min));
        }
        if let Some(max) = self.rules.max_items {
            out.insert("maxItems".into(), json!(max));
        }
        if self.rules.unique_items {
            out.insert("uniqueItems".into(), json!(true));
        }
        out
    }

    /// The enum numbers refused on input: `not_in`, and zero when REQUIRED.
    pub fn refused_enum_numbers(&self) -> Vec<i32> {
        let mut refused = self.rules.not_in.clone();
        if self.required {
            refused.push(0);
        }
        refused
    }
}

/// A request field of a method defined outside Kursi's contracts (the
/// vendored `google.longrunning.Operations`), as the Kursi file that serves
/// it declares it (`kursi.access.v1.ExternalMethod.fields`).
fn external(pool: &DescriptorPool, field: &FieldDescriptor) -> Option<Declared> {
    let extension = pool.get_extension_by_name("kursi.access.v1.external_method")?;
    let message = field.parent_message().clone();
    for file in pool.files() {
        let options = file.options();
        if !options.has_extension(&extension) {
            continue;
        }
        let Value::List(entries) = options.get_extension(&extension).into_owned() else {
            continue;
        };
        for entry in entries {
            let Some(declaration) = entry.as_message().and_then(|m| {
                DynamicMessage::transcode_to::<kursi_proto::access::v1::ExternalMethod>(m).ok()
            }) else {
                continue;
            };
            let Some((service, method)) = declaration.selector.rsplit_once('.') else {
                continue;
            };
            let serves = pool
                .get_service_by_name(service)
                .and_then(|s| s.methods().find(|m| m.name() == method))
                .is_some_and(|m| m.input() == message);
            if !serves {
                continue;
            }
            if let Some(declared) = declaration
                .fields
                .into_iter()
                .find(|f| f.name == field.name())
            {
                return Some(Declared::from_behavior(
                    &declared.behavior,
                    declared.rules.unwrap_or_default(),
                ));
            }
        }
    }
    None
}
