//! Step-by-step verification: `format`, `algorithm`, `signature`, `exp`,
//! `nbf`, `iat`, `iss`, `aud`, `required`, `revocation`, each reported.
//!
//! The algorithm always comes from the key, never from the token: a token's
//! `alg` only selects among what the key allows, and `jwk`/`jku`/`x5u`/`x5c`
//! header members are never used. `alg: none` is always refused.

use super::time::{rfc3339, Relative};
use super::token::{numeric_date, HeaderAlg, Payload, Token};
use crate::crypto::{Alg, JwkKey, KeyFamily, KeyMaterial, ParsedKey};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// `format!` for report text, into a buffer big enough for most report
/// lines: `format!` sizes its buffer from the literal text alone and then
/// grows it as the arguments are written, a reallocation or two per line.
macro_rules! detail {
    ($($arg:tt)*) => {{
        let mut text = String::with_capacity(80);
        // Writing to a `String` cannot fail.
        let _ = fmt::Write::write_fmt(&mut text, format_args!($($arg)*));
        text
    }};
}

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    Format,
    Algorithm,
    Signature,
    Exp,
    Nbf,
    Iat,
    Iss,
    Aud,
    Required,
    Revocation,
}

impl Check {
    /// Every check, in order.
    pub const ALL: [Check; 10] = [
        Check::Format,
        Check::Algorithm,
        Check::Signature,
        Check::Exp,
        Check::Nbf,
        Check::Iat,
        Check::Iss,
        Check::Aud,
        Check::Required,
        Check::Revocation,
    ];

    /// The check's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Format => "format",
            Check::Algorithm => "algorithm",
            Check::Signature => "signature",
            Check::Exp => "exp",
            Check::Nbf => "nbf",
            Check::Iat => "iat",
            Check::Iss => "iss",
            Check::Aud => "aud",
            Check::Required => "required",
            Check::Revocation => "revocation",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skipped,
}

impl Status {
    /// The status's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skipped => "skipped",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CheckResult {
    pub check: Check,
    pub status: Status,
    pub detail: String,
}

/// A key that may have signed the token.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// What verifies: a public key or an HMAC secret.
    pub material: KeyMaterial,
    /// The algorithms this key may verify (already narrowed by the key's own metadata).
    pub algs: Vec<Alg>,
    /// Why `algs` is empty, when it is.
    pub algs_note: Option<String>,
    /// The key id a token names it by.
    pub kid: Option<String>,
    /// How reports name the key (`key.pem`, `billing v3`).
    pub label: String,
    /// Lifecycle state to show (`active`, `grace`), when the key has one.
    pub state: Option<String>,
    /// Why the key must not verify (`revoked`, `disabled`, `expired`), when it must not.
    pub unusable: Option<String>,
    /// Whether an HMAC secret shorter than the hash is a failure (JWKs) or a warning (raw secrets).
    pub enforce_hmac_length: bool,
}

impl Candidate {
    /// A key allowed every algorithm of its family, labelled `label`.
    pub fn new(material: KeyMaterial, label: impl Into<String>) -> Candidate {
        let algs = material.family().allowed_algs().to_vec();
        Candidate {
            material,
            algs,
            algs_note: None,
            kid: None,
            label: label.into(),
            state: None,
            unusable: None,
            enforce_hmac_length: false,
        }
    }

    /// An HMAC secret (`--secret-file`): HS256/384/512.
    pub fn hmac_secret(secret: &[u8], label: impl Into<String>) -> Candidate {
        Candidate::new(
            KeyMaterial::Hmac(crate::SecretBytes::from_slice(secret)),
            label,
        )
    }

    /// A key read from a PEM, DER or JWK file.
    pub fn from_parsed(key: &ParsedKey, label: impl Into<String>) -> Candidate {
        Candidate::new(key.to_material(), label)
    }

    /// A key from a JWK or JWK Set: narrowed by its `alg`, `use`, `key_ops`,
    /// and for `oct` keys by the RFC 7518 §3.2 minimum length.
    pub fn from_jwk(jwk: &JwkKey, label: impl Into<String>) -> Candidate {
        let (algs, note) = jwk.verify_algs();
        Candidate {
            algs,
            algs_note: note,
            kid: jwk.kid.clone(),
            enforce_hmac_length: true,
            ..Candidate::new(jwk.key.to_material(), label)
        }
    }

    /// Sets the `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Candidate {
        self.kid = Some(kid.into());
        self
    }

    /// Pins to exactly one algorithm (a vault key's own).
    pub fn with_alg(mut self, alg: Alg) -> Candidate {
        self.algs.retain(|a| *a == alg);
        self
    }

    /// Sets the lifecycle state shown in reports.
    pub fn with_state(mut self, state: impl Into<String>) -> Candidate {
        self.state = Some(state.into());
        self
    }

    /// Marks the key as not allowed to verify, with the reason.
    pub fn unusable(mut self, reason: impl Into<String>) -> Candidate {
        self.unusable = Some(reason.into());
        self
    }

    /// How reports name the key: its label, and its state when it has one.
    fn name(&self) -> impl fmt::Display + '_ {
        struct Name<'a>(&'a Candidate);
        impl fmt::Display for Name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match &self.0.state {
                    Some(s) => write!(f, "{} ({s})", self.0.label),
                    None => f.write_str(&self.0.label),
                }
            }
        }
        Name(self)
    }
}

/// Where the candidate keys come from, which decides how `kid` is used.
// Built once per verification: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum KeySource {
    /// One key (PEM, JWK, secret): used whatever the token's `kid`; a `kid`
    /// that differs from the key's is a warning.
    Single(Candidate),
    /// A key set (JWKS, a vault key's versions): chosen by `kid`; an unknown
    /// `kid` fails. Without a `kid`, each key that fits the algorithm is tried.
    Set {
        keys: Vec<Candidate>,
        /// Entries that could not be read, as `(kid, why)`: a token naming
        /// one of their kids fails rather than falling back to a namesake.
        unreadable: Vec<(Option<String>, String)>,
    },
}

impl KeySource {
    /// A key set with no unreadable entries.
    pub fn set(keys: Vec<Candidate>) -> KeySource {
        KeySource::Set {
            keys,
            unreadable: Vec::new(),
        }
    }

    fn candidates(&self) -> &[Candidate] {
        match self {
            KeySource::Single(c) => std::slice::from_ref(c),
            KeySource::Set { keys, .. } => keys,
        }
    }
}

/// Is this `jti` revoked? (the vault's denylist).
pub type RevocationCheck<'a> = &'a dyn Fn(&str) -> bool;

/// What to verify against.
pub struct VerifyOptions<'a> {
    pub keys: KeySource,
    /// `--alg`: narrows the keys' algorithms further (empty: no narrowing).
    pub algs: Vec<Alg>,
    /// `--iss`.
    pub iss: Option<String>,
    /// `--aud` (any one must match).
    pub aud: Vec<String>,
    /// `--leeway`, seconds, for exp/nbf/iat.
    pub leeway: i64,
    /// `--now`.
    pub now: DateTime<Utc>,
    /// `--require`.
    pub require: Vec<String>,
    /// `--jws`: a generic JWS, the claim checks are skipped.
    pub jws: bool,
    /// The jti denylist; `None` reports `revocation` as skipped.
    pub is_revoked: Option<RevocationCheck<'a>>,
}

impl<'a> VerifyOptions<'a> {
    /// Options with only keys set, judged at `now`.
    pub fn new(keys: KeySource, now: DateTime<Utc>) -> Self {
        VerifyOptions {
            keys,
            algs: Vec::new(),
            iss: None,
            aud: Vec::new(),
            leeway: 0,
            now,
            require: Vec::new(),
            jws: false,
            is_revoked: None,
        }
    }
}

/// The key whose signature matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct VerifiedBy {
    pub label: String,
    pub kid: Option<String>,
    pub state: Option<String>,
    pub alg: Alg,
}

/// The verification report (`jwt verify --json`).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Verification {
    pub valid: bool,
    /// `"<first failed check>: <why>"`, or `null` when valid.
    pub reason: Option<String>,
    pub header: Map<String, Value>,
    /// The claims, or `null` when the payload is not a JSON object.
    pub claims: Value,
    pub checks: Vec<CheckResult>,
    /// Which key verified the signature.
    pub key: Option<VerifiedBy>,
}

impl Verification {
    /// The result of one check.
    pub fn check(&self, c: Check) -> &CheckResult {
        // Every report holds every check, in order.
        &self.checks[c as usize]
    }
}

struct Report(Vec<CheckResult>);

impl Report {
    fn add(&mut self, check: Check, status: Status, detail: impl Into<String>) {
        debug_assert_eq!(self.0.len(), check as usize, "checks run in order");
        self.0.push(CheckResult {
            check,
            status,
            detail: detail.into(),
        });
    }
}

/// Verifies a parsed token. Never fails: every problem is a check result.
pub fn verify(token: &Token, opts: &VerifyOptions) -> Verification {
    let (checks, key) = run_checks(token, opts);
    report(
        checks,
        key,
        token.header().clone(),
        token
            .claims()
            .map_or(Value::Null, |c| Value::Object(c.clone())),
    )
}

/// [`verify`] for a token that is not needed afterwards: its header and
/// claims move into the report instead of being copied.
pub fn verify_owned(token: Token, opts: &VerifyOptions) -> Verification {
    let (checks, key) = run_checks(&token, opts);
    let (header, claims) = token.into_header_and_claims();
    report(
        checks,
        key,
        header,
        claims.map_or(Value::Null, Value::Object),
    )
}

fn report(
    checks: Vec<CheckResult>,
    key: Option<VerifiedBy>,
    header: Map<String, Value>,
    claims: Value,
) -> Verification {
    let reason = checks
        .iter()
        .find(|c| c.status == Status::Fail)
        .map(|c| detail!("{}: {}", c.check, c.detail));
    Verification {
        valid: reason.is_none(),
        reason,
        header,
        claims,
        checks,
        key,
    }
}

/// Every check, in order, and the key that verified the signature.
fn run_checks(token: &Token, opts: &VerifyOptions) -> (Vec<CheckResult>, Option<VerifiedBy>) {
    let mut r = Report(Vec::with_capacity(Check::ALL.len()));
    let now = opts.now.timestamp();

    // format
    let format_ok = check_format(token, opts, &mut r);

    // algorithm
    let alg = check_algorithm(token, opts, &mut r);

    // signature
    let key = match alg {
        Some(alg) => check_signature(token, alg, opts, &mut r),
        None => {
            r.add(
                Check::Signature,
                Status::Skipped,
                "not evaluated: the algorithm check failed",
            );
            None
        }
    };

    // claims
    let claims = token.claims();
    if opts.jws {
        for c in &Check::ALL[3..] {
            r.add(
                *c,
                Status::Skipped,
                "not evaluated: --jws (generic JWS, no claims)",
            );
        }
    } else if let (Some(claims), true) = (claims, format_ok) {
        check_claims(claims, now, opts, &mut r);
    } else {
        for c in &Check::ALL[3..] {
            r.add(
                *c,
                Status::Skipped,
                "not evaluated: the payload is not a claims set",
            );
        }
    }

    (r.0, key)
}

/// Extensions this verifier implements (RFC 7515 §4.1.11): none.
const UNDERSTOOD_CRIT: [&str; 0] = [];

fn check_format(token: &Token, opts: &VerifyOptions, r: &mut Report) -> bool {
    if let Some(crit) = token.header().get("crit") {
        let names: Vec<&str> = crit
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let unknown: Vec<&&str> = names
            .iter()
            .filter(|n| !UNDERSTOOD_CRIT.contains(n))
            .collect();
        let detail = if names.is_empty() {
            "\"crit\" must be a non-empty array of header names (RFC 7515 §4.1.11)".to_string()
        } else {
            detail!(
                "the header marks extensions critical that Keyward does not implement: {unknown:?}"
            )
        };
        r.add(Check::Format, Status::Fail, detail);
        return false;
    }
    if opts.jws {
        r.add(
            Check::Format,
            Status::Pass,
            detail!(
                "compact JWS, header is a JSON object, payload is {} bytes",
                token.payload_bytes().len()
            ),
        );
        return true;
    }
    match token.payload() {
        Payload::Claims(_) => {
            r.add(
                Check::Format,
                Status::Pass,
                "compact JWS, header and claims are JSON objects",
            );
            true
        }
        Payload::NotClaims(why) => {
            r.add(
                Check::Format,
                Status::Fail,
                detail!(
                    "{why}: a JWT's payload must be a JSON object (use --jws for other payloads)"
                ),
            );
            false
        }
    }
}

/// `HS256, HS384` (or `none`), written straight into the report line.
struct AlgList<'a>(&'a [Alg]);

impl fmt::Display for AlgList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_first() {
            None => f.write_str("none"),
            Some((first, rest)) => {
                f.write_str(first.as_str())?;
                for a in rest {
                    write!(f, ", {a}")?;
                }
                Ok(())
            }
        }
    }
}

/// The algorithms the keys (narrowed by `--alg`) allow.
fn allowed(opts: &VerifyOptions) -> Vec<Alg> {
    let mut out: Vec<Alg> = Vec::new();
    for c in opts.keys.candidates() {
        for a in &c.algs {
            if !out.contains(a) && (opts.algs.is_empty() || opts.algs.contains(a)) {
                out.push(*a);
            }
        }
    }
    out
}

fn check_algorithm(token: &Token, opts: &VerifyOptions, r: &mut Report) -> Option<Alg> {
    let allowed = allowed(opts);
    let alg = match token.alg() {
        HeaderAlg::None => {
            r.add(
                Check::Algorithm,
                Status::Fail,
                "alg \"none\" (an unsigned token) is never accepted",
            );
            return None;
        }
        HeaderAlg::Other(a) => {
            r.add(
                Check::Algorithm,
                Status::Fail,
                detail!(
                    "alg {a:?} is not a supported JWS algorithm (allowed by the key: {})",
                    AlgList(&allowed)
                ),
            );
            return None;
        }
        HeaderAlg::Known(a) => *a,
    };
    if allowed.contains(&alg) {
        r.add(
            Check::Algorithm,
            Status::Pass,
            detail!(
                "{alg} is allowed for this key (allowed: {})",
                AlgList(&allowed)
            ),
        );
        return Some(alg);
    }
    let families: Vec<KeyFamily> = opts
        .keys
        .candidates()
        .iter()
        .map(|c| c.material.family())
        .collect();
    let detail = if allowed.is_empty() {
        let notes: Vec<String> = opts
            .keys
            .candidates()
            .iter()
            .filter_map(|c| c.algs_note.clone())
            .collect();
        if !notes.is_empty() {
            detail!("the key allows no algorithm: {}", notes.join("; "))
        } else if opts.keys.candidates().is_empty() {
            "there is no key to verify with".into()
        } else {
            detail!(
                "--alg {} leaves no algorithm this key can verify",
                AlgList(&opts.algs)
            )
        }
    } else if !families.contains(&alg.family()) {
        detail!(
            "the token says {alg}, but the key is {} and allows only {}: algorithm confusion refused",
            families.first().map_or("?", |f| f.as_str()),
            AlgList(&allowed)
        )
    } else {
        detail!("{alg} is not allowed (allowed: {})", AlgList(&allowed))
    };
    r.add(Check::Algorithm, Status::Fail, detail);
    None
}

fn check_signature(
    token: &Token,
    alg: Alg,
    opts: &VerifyOptions,
    r: &mut Report,
) -> Option<VerifiedBy> {
    let kid = token.kid();
    let ignored: Vec<&str> = ["jwk", "jku", "x5u", "x5c"]
        .into_iter()
        .filter(|m| token.header().contains_key(*m))
        .collect();
    let ignored_note = if ignored.is_empty() {
        String::new()
    } else {
        detail!("; the token's own {} was ignored", ignored.join(", "))
    };
    let fits =
        |c: &Candidate| c.algs.contains(&alg) && (opts.algs.is_empty() || opts.algs.contains(&alg));

    let (tried, single): (Vec<&Candidate>, bool) = match &opts.keys {
        KeySource::Single(c) => (vec![c], true),
        KeySource::Set {
            keys: all,
            unreadable,
        } => {
            let families: Vec<bool> = all
                .iter()
                .map(|c| c.material.family() == KeyFamily::Hmac)
                .collect();
            if families.contains(&true) && families.contains(&false) {
                r.add(
                    Check::Signature,
                    Status::Fail,
                    "the key set mixes shared secrets and public keys: refused as ambiguous",
                );
                return None;
            }
            if let Some(v) = token.header().get("kid").filter(|v| !v.is_string()) {
                r.add(
                    Check::Signature,
                    Status::Fail,
                    detail!(
                        "the header's kid must be a string to choose a key from the set, not {v}"
                    ),
                );
                return None;
            }
            match kid {
                Some(k) => {
                    if let Some((_, why)) =
                        unreadable.iter().find(|(kid, _)| kid.as_deref() == Some(k))
                    {
                        r.add(
                            Check::Signature,
                            Status::Fail,
                            detail!("the key set's entry with kid {k:?} could not be read: {why}"),
                        );
                        return None;
                    }
                    let named: Vec<&Candidate> =
                        all.iter().filter(|c| c.kid.as_deref() == Some(k)).collect();
                    if named.is_empty() {
                        let kids: Vec<&str> = all.iter().filter_map(|c| c.kid.as_deref()).collect();
                        r.add(
                            Check::Signature,
                            Status::Fail,
                            detail!(
                                "no key has the token's kid {k:?} (known: {})",
                                if kids.is_empty() {
                                    "none".to_string()
                                } else {
                                    kids.join(", ")
                                }
                            ),
                        );
                        return None;
                    }
                    if named.len() > 1 {
                        r.add(
                            Check::Signature,
                            Status::Fail,
                            detail!(
                                "{} keys share the kid {k:?}: refused as ambiguous",
                                named.len()
                            ),
                        );
                        return None;
                    }
                    (named, false)
                }
                None => {
                    let fitting: Vec<&Candidate> = all.iter().filter(|c| fits(c)).collect();
                    if fitting.is_empty() {
                        r.add(
                            Check::Signature,
                            Status::Fail,
                            detail!("no key in the set can verify {alg}"),
                        );
                        return None;
                    }
                    (fitting, false)
                }
            }
        }
    };

    if token.signature().is_empty() {
        r.add(
            Check::Signature,
            Status::Fail,
            "the signature is empty (stripped)",
        );
        return None;
    }

    let mut failures = Vec::new();
    for c in &tried {
        if let Some(why) = &c.unusable {
            // Say "signed with a revoked version" only when it really was:
            // the signature is checked, and the version still refused.
            let signed_by_it = fits(c)
                && c.material
                    .verify(alg, token.signing_input().as_bytes(), token.signature())
                    .is_ok();
            if signed_by_it || kid.is_some() {
                failures.push(detail!("signed with {}, which is {why}", c.name()));
            }
            continue;
        }
        if !fits(c) {
            let note = c
                .algs_note
                .clone()
                .unwrap_or_else(|| detail!("it allows {}", AlgList(&c.algs)));
            failures.push(detail!("{} cannot verify {alg}: {note}", c.name()));
            continue;
        }
        match c
            .material
            .verify(alg, token.signing_input().as_bytes(), token.signature())
        {
            Ok(()) => {
                let mut warnings = Vec::new();
                if let KeyMaterial::Hmac(s) = &c.material {
                    if s.len() < alg.hash_len() {
                        if c.enforce_hmac_length {
                            failures.push(detail!(
                                "the HMAC key is {} bytes, shorter than the {} bytes {alg} requires (RFC 7518 §3.2)",
                                s.len(),
                                alg.hash_len()
                            ));
                            continue;
                        }
                        warnings.push(detail!(
                            "the secret is only {} bytes, shorter than the {} bytes {alg} requires (RFC 7518 §3.2): it may be guessable",
                            s.len(),
                            alg.hash_len()
                        ));
                    }
                }
                if single {
                    if let (Some(tk), Some(ck)) = (kid, c.kid.as_deref()) {
                        if tk != ck {
                            warnings.push(detail!(
                                "the token's kid {tk:?} differs from the key's kid {ck:?}"
                            ));
                        }
                    }
                }
                let base = detail!("{alg} signature verified with {}{ignored_note}", c.name());
                if warnings.is_empty() {
                    r.add(Check::Signature, Status::Pass, base);
                } else {
                    r.add(
                        Check::Signature,
                        Status::Warn,
                        detail!("{base}, but {}", warnings.join("; ")),
                    );
                }
                return Some(VerifiedBy {
                    label: c.label.clone(),
                    kid: c.kid.clone(),
                    state: c.state.clone(),
                    alg,
                });
            }
            Err(e) => failures.push(detail!("{}: {e}", c.name())),
        }
    }
    let detail = if failures.is_empty() {
        "no usable key verified the signature".to_string()
    } else if failures.len() == 1 {
        failures.remove(0)
    } else {
        detail!(
            "no key verified the signature (tried {}: {})",
            failures.len(),
            failures.join("; ")
        )
    };
    r.add(
        Check::Signature,
        Status::Fail,
        detail!("{detail}{ignored_note}"),
    );
    None
}

/// RFC 3339, or the bare number when out of range.
struct Date(i64);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match rfc3339(self.0) {
            Some(t) => f.write_str(&t),
            None => write!(f, "{}", self.0),
        }
    }
}

fn check_claims(claims: &Map<String, Value>, now: i64, opts: &VerifyOptions, r: &mut Report) {
    let leeway = opts.leeway.max(0);
    let required = |name: &str| opts.require.iter().any(|c| c == name);
    let get_date = |name: &str| claims.get(name).map(|v| numeric_date(name, v));

    // exp
    let exp_date = get_date("exp");
    let exp = exp_date.as_ref().and_then(|d| d.as_ref().ok()).copied();
    match exp_date {
        None if required("exp") => r.add(
            Check::Exp,
            Status::Fail,
            "no exp claim, and --require exp was given",
        ),
        None => r.add(
            Check::Exp,
            Status::Warn,
            "no exp claim: the token never expires",
        ),
        Some(Err(why)) => r.add(Check::Exp, Status::Fail, why),
        Some(Ok(exp)) if now >= exp.saturating_add(leeway) => r.add(
            Check::Exp,
            Status::Fail,
            detail!(
                "expired {} ({}){}",
                Relative { at: exp, now },
                Date(exp),
                leeway_note(leeway)
            ),
        ),
        Some(Ok(exp)) => r.add(
            Check::Exp,
            Status::Pass,
            detail!("expires {} ({})", Relative { at: exp, now }, Date(exp)),
        ),
    }

    // nbf
    match get_date("nbf") {
        None if required("nbf") => r.add(
            Check::Nbf,
            Status::Fail,
            "no nbf claim, and --require nbf was given",
        ),
        None => r.add(Check::Nbf, Status::Skipped, "no nbf claim"),
        Some(Err(why)) => r.add(Check::Nbf, Status::Fail, why),
        Some(Ok(nbf)) if now.saturating_add(leeway) < nbf => r.add(
            Check::Nbf,
            Status::Fail,
            detail!(
                "not valid yet: valid from {} ({}){}",
                Date(nbf),
                Relative { at: nbf, now },
                leeway_note(leeway)
            ),
        ),
        Some(Ok(nbf)) => r.add(
            Check::Nbf,
            Status::Pass,
            detail!("valid since {} ({})", Relative { at: nbf, now }, Date(nbf)),
        ),
    }

    // iat
    match get_date("iat") {
        None if required("iat") => r.add(
            Check::Iat,
            Status::Fail,
            "no iat claim, and --require iat was given",
        ),
        None => r.add(Check::Iat, Status::Skipped, "no iat claim"),
        Some(Err(why)) => r.add(Check::Iat, Status::Fail, why),
        Some(Ok(iat)) if now.saturating_add(leeway) < iat => r.add(
            Check::Iat,
            Status::Fail,
            detail!(
                "issued in the future: {} ({}){}",
                Date(iat),
                Relative { at: iat, now },
                leeway_note(leeway)
            ),
        ),
        Some(Ok(iat)) if exp.is_some_and(|e| iat > e) => r.add(
            Check::Iat,
            Status::Fail,
            detail!(
                "issued at {} but expires before, at {}",
                Date(iat),
                Date(exp.unwrap_or_default())
            ),
        ),
        Some(Ok(iat)) => r.add(
            Check::Iat,
            Status::Pass,
            detail!("issued {} ({})", Relative { at: iat, now }, Date(iat)),
        ),
    }

    // iss
    match (&opts.iss, claims.get("iss")) {
        (None, None) => r.add(
            Check::Iss,
            Status::Skipped,
            "no --iss given and no iss claim",
        ),
        (None, Some(v)) => r.add(
            Check::Iss,
            Status::Skipped,
            detail!("not checked: no --iss given (token iss: {v})"),
        ),
        (Some(want), None) => r.add(
            Check::Iss,
            Status::Fail,
            detail!("no iss claim, expected {want:?}"),
        ),
        (Some(want), Some(Value::String(got))) if got == want => {
            r.add(Check::Iss, Status::Pass, detail!("issuer is {got:?}"))
        }
        (Some(want), Some(got)) => r.add(
            Check::Iss,
            Status::Fail,
            detail!("issuer is {got}, expected {want:?}"),
        ),
    }

    // aud (RFC 7519 §4.1.3)
    let auds: Result<Vec<&str>, String> = match claims.get("aud") {
        None => Ok(vec![]),
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| "\"aud\" must be a string or an array of strings".to_string())
            })
            .collect(),
        Some(_) => Err("\"aud\" must be a string or an array of strings".to_string()),
    };
    match (auds, opts.aud.is_empty()) {
        (Err(why), _) => r.add(Check::Aud, Status::Fail, why),
        (Ok(a), true) if a.is_empty() && !claims.contains_key("aud") => {
            r.add(Check::Aud, Status::Skipped, "no --aud given and no aud claim")
        }
        (Ok(a), true) => r.add(
            Check::Aud,
            Status::Fail,
            detail!("the token is meant for audience {a:?}, but no --aud was given (RFC 7519 §4.1.3: a verifier must identify itself)"),
        ),
        (Ok(a), false) if a.is_empty() => r.add(
            Check::Aud,
            Status::Fail,
            detail!("no aud claim, expected one of {:?}", opts.aud),
        ),
        (Ok(a), false) => match a.iter().find(|x| opts.aud.iter().any(|w| w == *x)) {
            Some(m) => r.add(Check::Aud, Status::Pass, detail!("audience {m:?} matches")),
            None => r.add(
                Check::Aud,
                Status::Fail,
                detail!("audience {a:?} does not include any of {:?}", opts.aud),
            ),
        },
    }

    // required
    if opts.require.is_empty() {
        r.add(Check::Required, Status::Skipped, "no --require given");
    } else {
        let missing: Vec<&str> = opts
            .require
            .iter()
            .filter(|c| !claims.contains_key(c.as_str()))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            r.add(
                Check::Required,
                Status::Pass,
                detail!("present: {}", opts.require.join(", ")),
            );
        } else {
            r.add(
                Check::Required,
                Status::Fail,
                detail!("missing required claims: {}", missing.join(", ")),
            );
        }
    }

    // revocation
    match (opts.is_revoked, claims.get("jti")) {
        (None, _) => r.add(
            Check::Revocation,
            Status::Skipped,
            "no revocation list for this key source (vault keys only)",
        ),
        (Some(_), None) => r.add(
            Check::Revocation,
            Status::Warn,
            "no jti claim: this token cannot be revoked individually",
        ),
        (Some(_), Some(v)) if !v.is_string() => {
            r.add(Check::Revocation, Status::Fail, "\"jti\" must be a string")
        }
        (Some(is_revoked), Some(v)) => {
            let jti = v.as_str().unwrap_or_default();
            if is_revoked(jti) {
                r.add(
                    Check::Revocation,
                    Status::Fail,
                    detail!("jti {jti:?} is revoked"),
                );
            } else {
                r.add(
                    Check::Revocation,
                    Status::Pass,
                    detail!("jti {jti:?} is not revoked"),
                );
            }
        }
    }
}

fn leeway_note(leeway: i64) -> String {
    if leeway > 0 {
        detail!(", beyond the {leeway} s leeway")
    } else {
        String::new()
    }
}
