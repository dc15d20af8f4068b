//! `jwt inspect`: what a token says, explained, and what is risky about it.
//! Needs no key and verifies nothing.

use super::time::{relative, rfc3339, span};
use super::token::{json_kind, numeric_date, HeaderAlg, Payload, Token};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

/// How bad a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// One finding about a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Lint {
    /// Stable id, e.g. `alg_none`, `missing_exp`.
    pub id: &'static str,
    pub severity: Severity,
    pub message: String,
}

/// A registered claim (RFC 7519 §4.1) and what it means here.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Registered {
    pub claim: &'static str,
    pub value: Value,
    pub explained: String,
}

/// The token's instants, in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Timeline {
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub now: i64,
}

/// The report of `jwt inspect`.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Inspection {
    pub header: Map<String, Value>,
    /// The claims, or `null` when the payload is not a JSON object.
    pub claims: Value,
    /// The payload as text when it is not a claims set (lossy UTF-8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_text: Option<String>,
    pub alg: String,
    pub kid: Option<String>,
    pub signature_bytes: usize,
    pub registered: Vec<Registered>,
    pub lints: Vec<Lint>,
    pub timeline: Timeline,
}

/// Options of `jwt inspect`.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// The instant to judge times against.
    pub now: DateTime<Utc>,
    /// Lifetimes longer than this (seconds) are flagged (default 24 h).
    pub max_lifetime: i64,
}

impl InspectOptions {
    /// Defaults at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        InspectOptions {
            now,
            max_lifetime: 24 * 3_600,
        }
    }
}

/// Explains and lints a parsed token.
pub fn inspect(token: &Token, opts: &InspectOptions) -> Inspection {
    let now = opts.now.timestamp();
    let mut lints = Vec::new();
    let mut push = |id, severity, message: String| {
        lints.push(Lint {
            id,
            severity,
            message,
        })
    };
    let header = token.header();

    match token.alg() {
        HeaderAlg::None => push(
            "alg_none",
            Severity::Error,
            "alg is \"none\": the token is unsigned and anyone can forge it".into(),
        ),
        HeaderAlg::Other(a) => push(
            "unknown_alg",
            Severity::Error,
            format!("alg {a:?} is not a JWS signature algorithm Keyward knows"),
        ),
        HeaderAlg::Known(a) if a.is_hmac() => push(
            "symmetric_alg",
            Severity::Info,
            format!("{a} is a shared-secret algorithm: every verifier holds the secret and can also forge tokens"),
        ),
        HeaderAlg::Known(_) => {}
    }
    if token.signature().is_empty() && *token.alg() != HeaderAlg::None {
        push(
            "missing_signature",
            Severity::Error,
            "the signature part is empty: the token was stripped of its signature".into(),
        );
    }
    for member in ["jwk", "jku", "x5u", "x5c"] {
        if header.contains_key(member) {
            push(
                "embedded_key",
                Severity::Warning,
                format!("the header carries key material ({member}): a verifier that trusts it accepts forgeries; Keyward never uses it"),
            );
        }
    }
    if let Some(kid) = header.get("kid") {
        match kid.as_str() {
            Some(k) => {
                if let Some(why) = suspicious_kid(k) {
                    push(
                        "suspicious_kid",
                        Severity::Warning,
                        format!("kid {k:?} {why}"),
                    );
                }
            }
            None => push(
                "suspicious_kid",
                Severity::Warning,
                format!("kid is {}, not a string", json_kind(kid)),
            ),
        }
    }
    if let Some(crit) = header.get("crit") {
        push(
            "crit_present",
            Severity::Warning,
            format!("the header marks extensions as critical ({crit}): verifiers that do not implement them must reject the token"),
        );
    }

    let mut registered = Vec::new();
    let mut timeline = Timeline {
        iat: None,
        nbf: None,
        exp: None,
        now,
    };
    let mut claims_value = Value::Null;
    let mut payload_text = None;
    match token.payload() {
        Payload::NotClaims(why) => {
            push(
                "payload_not_object",
                Severity::Error,
                format!("{why}: a JWT's payload must be a JSON object of claims"),
            );
            payload_text = Some(String::from_utf8_lossy(token.payload_bytes()).into_owned());
        }
        Payload::Claims(claims) => {
            claims_value = Value::Object(claims.clone());
            let dates =
                |name: &'static str, push: &mut dyn FnMut(&'static str, Severity, String)| {
                    match claims.get(name).map(|v| numeric_date(name, v)) {
                        Some(Ok(t)) => Some(t),
                        Some(Err(why)) => {
                            push("bad_numeric_date", Severity::Error, why);
                            None
                        }
                        None => None,
                    }
                };
            timeline.iat = dates("iat", &mut push);
            timeline.nbf = dates("nbf", &mut push);
            timeline.exp = dates("exp", &mut push);
            time_lints(&timeline, claims, opts.max_lifetime, &mut push);
            sensitive_lints(claims, &mut push);
            registered = explain(claims, &timeline);
        }
    }

    Inspection {
        header: header.clone(),
        claims: claims_value,
        payload_text,
        alg: token.alg().to_string().trim_matches('"').to_string(),
        kid: token.kid().map(str::to_string),
        signature_bytes: token.signature().len(),
        registered,
        lints,
        timeline,
    }
}

fn time_lints(
    t: &Timeline,
    claims: &Map<String, Value>,
    max_lifetime: i64,
    push: &mut dyn FnMut(&'static str, Severity, String),
) {
    let now = t.now;
    match t.exp {
        None if !claims.contains_key("exp") => push(
            "missing_exp",
            Severity::Warning,
            "no exp: the token never expires".into(),
        ),
        None => {}
        Some(exp) => {
            if exp <= now {
                push(
                    "expired",
                    Severity::Warning,
                    format!("the token expired {} ({})", relative(exp, now), date(exp)),
                );
            }
            let start = t.iat.or(t.nbf).unwrap_or(now);
            let lifetime = exp.saturating_sub(start);
            if lifetime > max_lifetime {
                let from = if t.iat.is_some() {
                    "iat"
                } else if t.nbf.is_some() {
                    "nbf"
                } else {
                    "now"
                };
                push(
                    "long_lifetime",
                    Severity::Warning,
                    format!(
                        "the token lives {} (from {from} to exp), longer than {}: a stolen copy stays usable that long",
                        span(lifetime),
                        span(max_lifetime)
                    ),
                );
            }
            if let Some(iat) = t.iat {
                if iat > exp {
                    push(
                        "iat_after_exp",
                        Severity::Error,
                        format!("iat ({}) is after exp ({})", date(iat), date(exp)),
                    );
                }
            }
        }
    }
    if let Some(nbf) = t.nbf.filter(|n| *n > now) {
        push(
            "nbf_in_future",
            Severity::Warning,
            format!(
                "not valid yet: nbf is {} ({})",
                relative(nbf, now),
                date(nbf)
            ),
        );
    }
    if let Some(iat) = t.iat.filter(|i| *i > now) {
        push(
            "iat_in_future",
            Severity::Warning,
            format!(
                "issued in the future: iat is {} ({})",
                relative(iat, now),
                date(iat)
            ),
        );
    }
}

fn date(secs: i64) -> String {
    rfc3339(secs).unwrap_or_else(|| format!("{secs} (out of range)"))
}

fn explain(claims: &Map<String, Value>, t: &Timeline) -> Vec<Registered> {
    let now = t.now;
    let mut out = Vec::new();
    for name in ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"] {
        let Some(v) = claims.get(name) else { continue };
        let explained = match name {
            "iss" => format!("issuer: {}", text(v)),
            "sub" => format!("subject (whom the token is about): {}", text(v)),
            "aud" => format!("audience: {} (a verifier must find itself in it)", text(v)),
            "jti" => format!("token id: {} (lets this one token be revoked)", text(v)),
            _ => match numeric_date(name, v) {
                Err(why) => why,
                Ok(at) => {
                    let rel = relative(at, now);
                    let phrase = match (name, at > now) {
                        ("exp", true) => format!("expires {rel}"),
                        ("exp", false) => format!("expired {rel}"),
                        ("nbf", true) => format!("not valid before {}, {rel}", date(at)),
                        ("nbf", false) => format!("valid since {rel}"),
                        (_, true) => format!("issued {rel} (in the future)"),
                        (_, false) => format!("issued {rel}"),
                    };
                    format!("{} ({phrase})", date(at))
                }
            },
        };
        out.push(Registered {
            claim: name,
            value: v.clone(),
            explained,
        });
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(text).collect();
            parts.join(", ")
        }
        other => other.to_string(),
    }
}

/// Why a `kid` looks like an injection attempt, if it does.
pub fn suspicious_kid(kid: &str) -> Option<&'static str> {
    if kid.contains("..") || kid.starts_with('/') || kid.contains('\\') {
        Some("looks like a file path (path traversal): a verifier that loads keys by kid may read an attacker-chosen file")
    } else if kid.chars().any(|c| c.is_control()) {
        Some("contains control characters")
    } else if ["'", "\"", ";", "--", "/*", " or ", " OR ", "union", "UNION"]
        .iter()
        .any(|p| kid.contains(p))
    {
        Some("contains SQL metacharacters: a verifier that looks keys up by kid may be injectable")
    } else if ['$', '`', '|', '&', '<', '>']
        .iter()
        .any(|c| kid.contains(*c))
    {
        Some("contains shell metacharacters")
    } else if kid.len() > 256 {
        Some("is unusually long")
    } else {
        None
    }
}

fn sensitive_lints(
    claims: &Map<String, Value>,
    push: &mut dyn FnMut(&'static str, Severity, String),
) {
    let mut found: Vec<String> = Vec::new();
    walk(claims, "", &mut |path, name, v| {
        let lname = name.to_ascii_lowercase();
        const NAMES: [&str; 10] = [
            "password",
            "passwd",
            "pwd",
            "secret",
            "api_key",
            "apikey",
            "private_key",
            "ssn",
            "credit_card",
            "card_number",
        ];
        if NAMES.iter().any(|n| lname.contains(n)) && !v.is_null() {
            found.push(format!("{path} (its name suggests a secret)"));
            return;
        }
        if let Some(s) = v.as_str() {
            if let Some(what) = sensitive_value(s) {
                found.push(format!("{path} ({what})"));
            }
        } else if let Some(n) = v.as_u64() {
            if luhn_card(&n.to_string()) {
                found.push(format!("{path} (a payment card number)"));
            }
        }
    });
    for f in found {
        push(
            "sensitive_claim",
            Severity::Warning,
            format!("claim {f}: JWT payloads are only base64url-encoded, anyone holding the token can read it"),
        );
    }
}

fn walk(map: &Map<String, Value>, prefix: &str, f: &mut dyn FnMut(&str, &str, &Value)) {
    for (k, v) in map {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        f(&path, k, v);
        match v {
            Value::Object(m) => walk(m, &path, f),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    f(&p, k, item);
                    if let Value::Object(m) = item {
                        walk(m, &p, f);
                    }
                }
            }
            _ => {}
        }
    }
}

fn sensitive_value(s: &str) -> Option<&'static str> {
    if looks_like_email(s) {
        return Some("an email address");
    }
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    if s.chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        && luhn_card(&digits)
    {
        return Some("a payment card number");
    }
    const PREFIXES: [(&str, &str); 9] = [
        ("sk_live_", "a Stripe secret key"),
        ("rk_live_", "a Stripe restricted key"),
        ("ghp_", "a GitHub token"),
        ("github_pat_", "a GitHub token"),
        ("gho_", "a GitHub token"),
        ("xoxb-", "a Slack token"),
        ("xoxp-", "a Slack token"),
        ("AKIA", "an AWS access key id"),
        ("-----BEGIN", "a PEM block"),
    ];
    for (p, what) in PREFIXES {
        if s.starts_with(p) && s.len() >= p.len() + 10 {
            return Some(what);
        }
    }
    None
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !s.contains(char::is_whitespace)
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
        && domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// 13 to 19 digits passing the Luhn check.
fn luhn_card(digits: &str) -> bool {
    if !(13..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_and_emails() {
        assert!(luhn_card("4111111111111111"));
        assert!(!luhn_card("4111111111111112"));
        assert!(!luhn_card("1700000000"), "timestamps are not cards");
        assert!(looks_like_email("ann@example.com"));
        assert!(!looks_like_email("ann@localhost"));
        assert!(!looks_like_email("a b@example.com"));
        assert!(sensitive_value("4111 1111 1111 1111").is_some());
        assert!(sensitive_value("AKIAABCDEFGHIJKLMNOP").is_some());
        assert!(sensitive_value("user-42").is_none());
    }

    #[test]
    fn kids() {
        assert!(suspicious_kid("../../dev/null").is_some());
        assert!(suspicious_kid("x' UNION SELECT 'k").is_some());
        assert!(suspicious_kid("k; rm -rf /").is_some());
        assert!(suspicious_kid("$(id)").is_some());
        assert!(suspicious_kid("2024-05-key_1").is_none());
        assert!(suspicious_kid("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs").is_none());
    }
}
