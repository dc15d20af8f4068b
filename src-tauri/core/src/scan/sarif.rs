//! SARIF 2.1.0 for code-scanning tools: one run, one rule per [`Kind`], one
//! result per finding. Messages carry the masked form only; no snippet of the
//! file is ever included.

use super::{Kind, ScanReport};
use serde_json::{json, Value};

/// The SARIF log of a scan. `tool_version` is the scanner's version.
pub fn sarif(report: &ScanReport, tool_version: &str) -> Value {
    let rules: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| {
            json!({
                "id": k.id(),
                "name": rule_name(*k),
                "shortDescription": {"text": k.title()},
                "fullDescription": {"text": k.help()},
                "help": {"text": k.help()},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "secret"]},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let rule_index = Kind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0);
            let mut text = format!("{} {}: {}", f.kind.title(), f.masked, f.message);
            if let Some(cmd) = &f.suggestion {
                text.push_str(&format!(" Run: {cmd}"));
            }
            let mut result = json!({
                "ruleId": f.kind.id(),
                "ruleIndex": rule_index,
                "level": f.level.as_str(),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&f.file)},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                        },
                    },
                }],
                "properties": {"masked": f.masked},
            });
            if let Some(key) = &f.key {
                result["properties"]["keyward"] = json!(key);
            }
            if let Some(jwt) = &f.jwt {
                result["properties"]["jwt"] = json!(jwt);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "keyward",
                    "version": tool_version,
                    "semanticVersion": tool_version,
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// `github-token` → `GithubToken` (SARIF's `name` is an identifier).
fn rule_name(k: Kind) -> String {
    k.id()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A relative path as a URI reference (percent-encoded, `/`-separated); an
/// absolute one as a `file:` URI.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    let absolute = path.starts_with('/');
    let windows_drive = path.as_bytes().get(1) == Some(&b':');
    if absolute {
        out.push_str("file://");
    } else if windows_drive {
        out.push_str("file:///");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) || (windows_drive && b == b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri("src/a b.rs"), "src/a%20b.rs");
        assert_eq!(uri("/tmp/x#1"), "file:///tmp/x%231");
        assert_eq!(uri("é.txt"), "%C3%A9.txt");
    }

    #[test]
    fn rule_names_are_identifiers() {
        assert_eq!(rule_name(Kind::AwsAccessKeyId), "AwsAccessKeyId");
        assert_eq!(rule_name(Kind::Jwt), "Jwt");
    }
}
