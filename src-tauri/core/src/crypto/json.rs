//! Strict JSON for untrusted headers, claims and JWKs: like `serde_json`, but a
//! duplicate member name is an error (serde_json silently keeps the last one,
//! which lets two parsers of the same token disagree) and nesting is bounded.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use std::fmt;

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 32;

/// What is wrong with a JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonDefect {
    /// Not JSON at all (syntax error, bad UTF-8, trailing data).
    Syntax(String),
    /// An object names the same member twice.
    Duplicate(String),
    /// Arrays/objects nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for JsonDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonDefect::Syntax(m) => write!(f, "not valid JSON ({m})"),
            JsonDefect::Duplicate(name) => write!(f, "the member {name:?} appears more than once"),
            JsonDefect::TooDeep => write!(f, "JSON nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

const DUP: &str = "\u{0}dup:";
const DEEP: &str = "\u{0}deep";

/// Parses `bytes` as one JSON value, rejecting duplicate member names.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonDefect> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Seed { depth: 0 }.deserialize(&mut de).map_err(classify)?;
    de.end().map_err(classify)?;
    Ok(v)
}

fn classify(e: serde_json::Error) -> JsonDefect {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix(DUP) {
        // serde_json appends " at line L column C" to custom messages.
        let name = rest.rsplit_once(" at line ").map_or(rest, |(n, _)| n);
        JsonDefect::Duplicate(name.to_string())
    } else if text.starts_with(DEEP) {
        JsonDefect::TooDeep
    } else {
        JsonDefect::Syntax(text)
    }
}

struct Seed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(DEEP));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Seed {
            depth: self.depth + 1,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(DEEP));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One lookup per member: the vacant slot is filled once the value is read.
            match out.entry(key) {
                Entry::Occupied(e) => return Err(de::Error::custom(format!("{DUP}{}", e.key()))),
                Entry::Vacant(slot) => {
                    slot.insert(map.next_value_seed(Seed {
                        depth: self.depth + 1,
                    })?);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_depth_are_refused() {
        assert!(parse(br#"{"a":1,"b":{"c":[1,2,{"d":null}]}}"#).is_ok());
        assert_eq!(
            parse(br#"{"a":1,"a":2}"#),
            Err(JsonDefect::Duplicate("a".into()))
        );
        assert_eq!(
            parse(br#"{"x":{"a":1,"a":1}}"#),
            Err(JsonDefect::Duplicate("a".into()))
        );
        // Escapes that name the same member still collide.
        assert_eq!(
            parse(br#"{"alg":1,"\u0061lg":2}"#),
            Err(JsonDefect::Duplicate("alg".into()))
        );
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert_eq!(parse(deep.as_bytes()), Err(JsonDefect::TooDeep));
        assert!(matches!(parse(b"{} x"), Err(JsonDefect::Syntax(_))));
        assert!(matches!(parse(b"\xff"), Err(JsonDefect::Syntax(_))));
    }
}
