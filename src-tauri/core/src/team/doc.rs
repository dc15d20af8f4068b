//! A key's document in OpenBao: its `keys` row and every `key_versions` row,
//! column by column (BLOBs as base64), so a column added by a later
//! migration travels without changes here. Never a secret: those tables hold
//! none (see the schema's header).
//!
//! `last_used_at` stays out: a document rewritten on every API-key check
//! would make every check a check-and-set race with the key's lifecycle;
//! uses are shared apart, coarsely, in [`super::usage`].
//!
//! **Shape.** OpenBao (2.7.2) refuses a JSON request with more than 1,000
//! strings, member names included, and a key version's row alone is about
//! 29 of them: with the rows as JSON members (format 1) a key's 34th
//! version could not be written, nor any later change of that key. So
//! format 2 carries the rows as one JSON-encoded string, `body`
//! (`{"key": {...}, "versions": [...]}`), beside `format` and the
//! `updated_*` members: 12 strings in the request whatever the number of
//! versions, the document's size bounded only by OpenBao's byte limits (a
//! request of 32 MiB; an entry of 1 MiB on Raft storage, where an API-key
//! version takes about 570 bytes). Format 1 documents are still read, and
//! rewritten as format 2 by the key's next change; a build that knows only
//! format 1 refuses format 2 with "written by a newer Keyward: upgrade
//! Keyward".

use crate::error::{Error, Result};
use base64::Engine;
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Columns never written to, nor read from, a document.
const LOCAL_ONLY: &[&str] = &["last_used_at"];

/// The document format this build writes (1: rows as JSON members, still
/// read; 2: rows in one JSON-encoded string, see the module doc).
pub const FORMAT: u64 = 2;

/// A key's shared rows.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyDoc {
    pub key: Map<String, Value>,
    pub versions: Vec<Map<String, Value>>,
}

impl KeyDoc {
    /// Reads a key's rows (inside the caller's transaction); `None` when the
    /// key has no row.
    pub fn read(conn: &Connection, key_id: &str) -> Result<Option<KeyDoc>> {
        let key = {
            let mut stmt = conn.prepare("SELECT * FROM keys WHERE id = ?1")?;
            let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
            stmt.query_row([key_id], |r| row_map(r, &names))
                .optional()?
        };
        let Some(key) = key else { return Ok(None) };
        let mut stmt =
            conn.prepare("SELECT * FROM key_versions WHERE key_id = ?1 ORDER BY version")?;
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let versions = stmt
            .query_map([key_id], |r| row_map(r, &names))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(KeyDoc { key, versions }))
    }

    /// A hash of the shared content (what decides whether a write is needed).
    /// Member order does not count: OpenBao hands documents back with
    /// their members sorted.
    pub fn hash(&self) -> String {
        let sorted = |m: &Map<String, Value>| -> BTreeMap<String, Value> {
            m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let versions: Vec<_> = self.versions.iter().map(sorted).collect();
        let body = json!({"key": sorted(&self.key), "versions": versions});
        crate::audit::log::hex(&Sha256::digest(body.to_string().as_bytes()))
    }

    /// The document as stored in OpenBao, with who wrote it.
    pub fn to_json(&self, updated_by: &str, client: &str, at: &str) -> Value {
        let body = json!({"key": self.key, "versions": self.versions});
        json!({
            "format": FORMAT,
            "body": body.to_string(),
            "updated_by": updated_by,
            "updated_from": client,
            "updated_at": at,
        })
    }

    /// Parses a stored document, of format 2 or of format 1.
    pub fn from_json(v: &Value) -> Result<KeyDoc> {
        let bad = |why: &str| {
            Error::SecretStore(format!(
                "a key document in OpenBao is malformed ({why}): run `keyward vault check`"
            ))
        };
        let format = v.get("format").and_then(Value::as_u64).unwrap_or(0);
        if format > FORMAT {
            return Err(Error::SecretStore(
                "a key document in OpenBao was written by a newer Keyward: upgrade Keyward".into(),
            ));
        }
        if format >= 2 {
            let body = v
                .get("body")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no body"))?;
            let body: Value =
                serde_json::from_str(body).map_err(|_| bad("its body is not JSON"))?;
            return Self::from_rows(&body, &bad);
        }
        Self::from_rows(v, &bad)
    }

    /// The `key` and `versions` members of a format 1 document, or of a
    /// format 2 document's body.
    fn from_rows(v: &Value, bad: &dyn Fn(&str) -> Error) -> Result<KeyDoc> {
        let key = v
            .get("key")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| bad("no key row"))?;
        let versions = v
            .get("versions")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no versions"))?
            .iter()
            .map(|x| {
                x.as_object()
                    .cloned()
                    .ok_or_else(|| bad("a version is not an object"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(KeyDoc { key, versions })
    }

    /// The key's id.
    pub fn id(&self) -> Option<&str> {
        self.key.get("id").and_then(Value::as_str)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        self.key.get("name").and_then(Value::as_str).unwrap_or("?")
    }

    /// Replaces the key's local rows with this document (inside the
    /// caller's transaction). Local-only columns keep their values.
    pub fn apply(&self, conn: &Connection) -> Result<()> {
        let id = self
            .id()
            .ok_or_else(|| Error::SecretStore("a key document in OpenBao has no id".into()))?
            .to_string();
        let key_cols = table_columns(conn, "keys")?;
        upsert(conn, "keys", &["id"], &key_cols, &self.key)?;
        let ver_cols = table_columns(conn, "key_versions")?;
        let keep: Vec<i64> = self
            .versions
            .iter()
            .filter_map(|v| v.get("version").and_then(Value::as_i64))
            .collect();
        let placeholders = vec!["?"; keep.len()].join(",");
        let sql = if keep.is_empty() {
            "DELETE FROM key_versions WHERE key_id = ?".to_string()
        } else {
            format!("DELETE FROM key_versions WHERE key_id = ? AND version NOT IN ({placeholders})")
        };
        let mut args: Vec<Sql> = vec![Sql::Text(id.clone())];
        args.extend(keep.iter().map(|v| Sql::Integer(*v)));
        conn.execute(&sql, params_from_iter(args))?;
        for v in &self.versions {
            let mut v = v.clone();
            v.insert("key_id".into(), Value::String(id.clone()));
            upsert(conn, "key_versions", &["key_id", "version"], &ver_cols, &v)?;
        }
        Ok(())
    }
}

fn row_map(r: &rusqlite::Row<'_>, names: &[String]) -> rusqlite::Result<Map<String, Value>> {
    let mut m = Map::new();
    for (i, n) in names.iter().enumerate() {
        if LOCAL_ONLY.contains(&n.as_str()) {
            continue;
        }
        let v = match r.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(x) => json!(x),
            ValueRef::Real(x) => json!(x),
            ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => {
                json!({"b64": base64::engine::general_purpose::STANDARD.encode(b)})
            }
        };
        m.insert(n.clone(), v);
    }
    Ok(m)
}

fn to_sql(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Sql::Text(s.clone()),
        Value::Object(o) => match o.get("b64").and_then(Value::as_str) {
            Some(b) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .map(Sql::Blob)
                .unwrap_or(Sql::Null),
            None => Sql::Text(v.to_string()),
        },
        Value::Array(_) => Sql::Text(v.to_string()),
    }
}

fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    let cols = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(cols)
}

/// INSERT ... ON CONFLICT DO UPDATE of the document's columns that the
/// local table has (a newer peer's extra columns are ignored).
fn upsert(
    conn: &Connection,
    table: &str,
    pk: &[&str],
    local_cols: &[String],
    row: &Map<String, Value>,
) -> Result<()> {
    let cols: Vec<&String> = local_cols
        .iter()
        .filter(|c| row.contains_key(c.as_str()) && !LOCAL_ONLY.contains(&c.as_str()))
        .collect();
    let names = cols
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let marks = vec!["?"; cols.len()].join(", ");
    let updates = cols
        .iter()
        .filter(|c| !pk.contains(&c.as_str()))
        .map(|c| format!("\"{c}\" = excluded.\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT({}) DO UPDATE SET {updates}",
        pk.join(", ")
    );
    let args: Vec<Sql> = cols.iter().map(|c| to_sql(&row[c.as_str()])).collect();
    conn.execute(&sql, params_from_iter(args))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings as OpenBao counts them: member names and string values.
    fn strings(v: &Value) -> usize {
        match v {
            Value::String(_) => 1,
            Value::Array(a) => a.iter().map(strings).sum(),
            Value::Object(m) => m.iter().map(|(_, x)| 1 + strings(x)).sum(),
            _ => 0,
        }
    }

    fn doc(versions: usize) -> KeyDoc {
        let key = json!({"id": "k_1", "name": "daily", "kind": "api", "scopes": "[]"});
        let versions = (1..=versions)
            .map(|n| {
                let v = json!({
                    "version": n, "state": "grace", "created_at": "2026-01-01T00:00:00Z",
                    "grace_until": "2026-01-02T00:00:00Z", "api_last4": "abcd",
                    "api_hash": {"b64": "AAAA"}, "has_secret": 1, "reason": null,
                });
                v.as_object().cloned().unwrap_or_default()
            })
            .collect();
        KeyDoc {
            key: key.as_object().cloned().unwrap_or_default(),
            versions,
        }
    }

    #[test]
    fn a_document_has_the_same_few_strings_whatever_its_versions() {
        for n in [1, 40, 2000] {
            let d = doc(n);
            let stored = d.to_json("alice", "c_1", "2026-01-01T00:00:00Z");
            let request = json!({"options": {"cas": 3}, "data": stored});
            assert_eq!(strings(&request), 12, "{n} versions");
            assert_eq!(stored["format"], 2);
            let back = KeyDoc::from_json(&stored).unwrap();
            assert_eq!(back, d);
            assert_eq!(back.hash(), d.hash());
        }
    }

    #[test]
    fn format_1_documents_are_still_read() {
        let d = doc(3);
        let old = json!({
            "format": 1, "key": d.key, "versions": d.versions,
            "updated_by": "bob", "updated_from": "c_2", "updated_at": "2026-01-01T00:00:00Z",
        });
        let back = KeyDoc::from_json(&old).unwrap();
        assert_eq!(back, d);
        // Same rows, same hash: reading the old shape is no change to write.
        assert_eq!(
            back.hash(),
            KeyDoc::from_json(&d.to_json("a", "b", "c")).unwrap().hash()
        );
    }

    #[test]
    fn newer_and_malformed_documents_are_refused_with_what_to_do() {
        let newer = json!({"format": FORMAT + 1, "body": "{}"});
        let e = KeyDoc::from_json(&newer).unwrap_err().to_string();
        assert!(e.contains("newer Keyward: upgrade Keyward"), "{e}");
        for bad in [
            json!({"format": 2}),
            json!({"format": 2, "body": 7}),
            json!({"format": 2, "body": "{not json"}),
            json!({"format": 2, "body": "{\"versions\": []}"}),
            json!({"format": 1, "key": {"id": "k_1"}}),
        ] {
            let e = KeyDoc::from_json(&bad).unwrap_err().to_string();
            assert!(
                e.contains("malformed") && e.contains("vault check"),
                "{bad}: {e}"
            );
        }
    }
}
