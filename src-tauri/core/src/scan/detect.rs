//! Finding credentials in one buffer.
//!
//! Two cheap passes pick candidates: one Aho-Corasick search for the literal
//! prefixes of the provider formats (`ghp_`, `sk_live_`, `AKIA`, `xoxb-`,
//! `-----BEGIN `, `eyJ`...), and one strided pass for Keyward API keys, whose
//! prefix is the user's choice and so cannot be a literal: it probes every
//! 49th byte for the 49-character body. Each
//! candidate is then validated where it stands: exact shape, word
//! boundaries, checksums (Keyward's and GitHub's CRC32), a real JWT parse.
//! The validators are hand-written because each is a few byte comparisons on
//! a short window; a general regex engine would add nothing but time.
//!
//! A credential is found only when it is whole on one line (a PEM block is
//! the exception: its body spans lines by design). A token split across
//! lines, by a line continuation or string concatenation, is not reported.
//!
//! Nothing here keeps or prints a whole secret: a [`Detection`] carries the
//! masked form, and a Keyward key (needed for the vault lookup) stays in a
//! zeroizing [`ApiKey`] that the scan drops once the key is named.

use crate::jwt::{inspect, HeaderAlg, InspectOptions, Lint, Token, MAX_TOKEN_BYTES};
use crate::keys::apikey::{ApiKey, BODY_LEN, CHECKSUM_LEN};
use aho_corasick::{AhoCorasick, MatchKind};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What kind of credential a finding is; the `id` is the stable rule id of
/// the JSON and SARIF outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A Keyward-issued API key (checksum valid).
    KeywardApiKey,
    /// A GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` token (CRC32 valid).
    GithubToken,
    /// A GitHub fine-grained personal access token (`github_pat_`).
    GithubPat,
    /// A Stripe secret or restricted key.
    StripeKey,
    /// An AWS access key id (`AKIA`/`ASIA`).
    AwsAccessKeyId,
    /// A Slack token (`xoxb-`, `xoxp-`, `xapp-`...).
    SlackToken,
    /// A Slack incoming-webhook URL.
    SlackWebhook,
    /// A PEM private-key block.
    PrivateKey,
    /// A signed JWT (three base64url parts, a JSON header with `alg`).
    Jwt,
}

impl Kind {
    /// Every kind, in rule order.
    pub const ALL: [Kind; 9] = [
        Kind::KeywardApiKey,
        Kind::GithubToken,
        Kind::GithubPat,
        Kind::StripeKey,
        Kind::AwsAccessKeyId,
        Kind::SlackToken,
        Kind::SlackWebhook,
        Kind::PrivateKey,
        Kind::Jwt,
    ];

    /// The stable rule id.
    pub fn id(self) -> &'static str {
        match self {
            Kind::KeywardApiKey => "keyward-api-key",
            Kind::GithubToken => "github-token",
            Kind::GithubPat => "github-pat",
            Kind::StripeKey => "stripe-key",
            Kind::AwsAccessKeyId => "aws-access-key-id",
            Kind::SlackToken => "slack-token",
            Kind::SlackWebhook => "slack-webhook",
            Kind::PrivateKey => "private-key",
            Kind::Jwt => "jwt",
        }
    }

    /// A short name for people.
    pub fn title(self) -> &'static str {
        match self {
            Kind::KeywardApiKey => "Keyward API key",
            Kind::GithubToken => "GitHub token",
            Kind::GithubPat => "GitHub fine-grained personal access token",
            Kind::StripeKey => "Stripe secret key",
            Kind::AwsAccessKeyId => "AWS access key id",
            Kind::SlackToken => "Slack token",
            Kind::SlackWebhook => "Slack webhook URL",
            Kind::PrivateKey => "Private key (PEM)",
            Kind::Jwt => "JWT",
        }
    }

    /// What to do, in a few words (ends a finding's message).
    pub fn action(self) -> &'static str {
        match self {
            Kind::KeywardApiKey => "rotate it if it is live",
            Kind::GithubToken | Kind::GithubPat => "revoke it in GitHub's settings",
            Kind::StripeKey => "roll it in the Stripe dashboard",
            Kind::AwsAccessKeyId => "deactivate the key pair in IAM (its secret is often nearby)",
            Kind::SlackToken => "revoke it in the Slack app's settings",
            Kind::SlackWebhook => "regenerate the webhook: anyone holding it can post",
            Kind::PrivateKey => "replace the key and revoke what it certifies",
            Kind::Jwt => "revoke it or rotate its signing key if still valid",
        }
    }

    /// What to do about one (the SARIF rule's help text).
    pub fn help(self) -> &'static str {
        match self {
            Kind::KeywardApiKey => "A Keyward API key with a valid checksum. If the key is live, rotate it (keyward key rotate ID) and revoke the leaked version; then remove it from the file and its history.",
            Kind::GithubToken => "A GitHub token whose CRC32 checksum is valid. Revoke it in GitHub's settings (or the app's), then remove it from the file and its history.",
            Kind::GithubPat => "A GitHub fine-grained personal access token. Revoke it in GitHub's settings, then remove it from the file and its history.",
            Kind::StripeKey => "A Stripe secret or restricted key. Roll it in the Stripe dashboard, then remove it from the file and its history.",
            Kind::AwsAccessKeyId => "An AWS access key id; its secret access key is often nearby. Deactivate the key pair in IAM, then remove both from the file and its history.",
            Kind::SlackToken => "A Slack API token. Revoke it (auth.revoke or the app's settings), then remove it from the file and its history.",
            Kind::SlackWebhook => "A Slack incoming-webhook URL: anyone holding it can post to the channel. Regenerate it in the app's settings.",
            Kind::PrivateKey => "A PEM private-key block. Treat the key as compromised: replace it, revoke what it certifies, and remove it from the file and its history.",
            Kind::Jwt => "A signed JWT: a bearer credential until it expires. Revoke it (keyward jwt revoke) or rotate its signing key if it is still valid.",
        }
    }
}

/// Facts about a JWT found in a file (its lint findings included).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct JwtFacts {
    pub alg: String,
    pub kid: Option<String>,
    pub lints: Vec<Lint>,
}

/// What a validator learnt beyond the kind.
pub(crate) enum Extra {
    None,
    /// A checksum-valid Keyward key, kept (zeroizing) for the vault lookup.
    ApiKey(ApiKey),
    Jwt(JwtFacts),
    /// A human description of the variant (`GitHub OAuth token`, `RSA PRIVATE KEY`...).
    Variant(&'static str),
    PemLabel(String),
}

/// One credential found in a buffer.
pub struct Detection {
    pub kind: Kind,
    /// Byte offsets of the credential in the buffer.
    pub start: usize,
    pub end: usize,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in Unicode code points.
    pub column: u64,
    /// Prefix, `…`, last four characters: never the whole secret.
    pub masked: String,
    pub(crate) extra: Extra,
}

impl std::fmt::Debug for Detection {
    // By hand: the extra data may hold a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detection")
            .field("kind", &self.kind)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("masked", &self.masked)
            .finish()
    }
}

impl Detection {
    /// The variant's description, when the format has variants.
    pub fn variant(&self) -> Option<&str> {
        match &self.extra {
            Extra::Variant(v) => Some(v),
            Extra::PemLabel(l) => Some(l),
            _ => None,
        }
    }

    /// The JWT's facts, for a JWT.
    pub fn jwt(&self) -> Option<&JwtFacts> {
        match &self.extra {
            Extra::Jwt(j) => Some(j),
            _ => None,
        }
    }
}

/// Which validator a literal prefix leads to.
#[derive(Clone, Copy)]
enum Lit {
    Github(&'static str),
    GithubPat,
    Stripe(&'static str),
    Aws(&'static str),
    Slack(&'static str),
    SlackApp,
    SlackWebhook,
    Pem,
    Jwt,
}

const LITERALS: &[(&str, Lit)] = &[
    (
        "ghp_",
        Lit::Github("GitHub personal access token (classic)"),
    ),
    ("gho_", Lit::Github("GitHub OAuth access token")),
    ("ghu_", Lit::Github("GitHub user-to-server token")),
    (
        "ghs_",
        Lit::Github("GitHub server-to-server (app installation) token"),
    ),
    ("ghr_", Lit::Github("GitHub refresh token")),
    ("github_pat_", Lit::GithubPat),
    ("sk_live_", Lit::Stripe("Stripe live secret key")),
    ("rk_live_", Lit::Stripe("Stripe live restricted key")),
    ("sk_test_", Lit::Stripe("Stripe test secret key")),
    ("rk_test_", Lit::Stripe("Stripe test restricted key")),
    ("AKIA", Lit::Aws("AWS access key id (long-term)")),
    ("ASIA", Lit::Aws("AWS access key id (temporary, STS)")),
    ("xoxb-", Lit::Slack("Slack bot token")),
    ("xoxp-", Lit::Slack("Slack user token")),
    ("xoxa-", Lit::Slack("Slack workspace access token")),
    ("xoxr-", Lit::Slack("Slack refresh token")),
    ("xoxs-", Lit::Slack("Slack session token")),
    ("xoxo-", Lit::Slack("Slack legacy token")),
    ("xapp-", Lit::SlackApp),
    ("hooks.slack.com/services/", Lit::SlackWebhook),
    ("-----BEGIN ", Lit::Pem),
    ("eyJ", Lit::Jwt),
];

/// How far past a PEM header its END line is looked for.
const PEM_WINDOW: usize = 64 * 1024;
/// The fewest base64 characters a PEM private-key body can have (Ed25519
/// PKCS#8 is 64).
const PEM_MIN_BODY: usize = 40;

/// The detectors, built once and shared by every scanning thread.
pub struct Detector {
    literals: AhoCorasick,
    now: DateTime<Utc>,
}

impl Detector {
    /// Detectors judging JWT times against `now`.
    pub fn new(now: DateTime<Utc>) -> Detector {
        let patterns: Vec<&str> = LITERALS.iter().map(|(p, _)| *p).collect();
        let literals = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(patterns)
            // A fixed set of short ASCII literals: building cannot fail.
            .expect("the literal prefixes form a valid automaton");
        Detector { literals, now }
    }

    /// Every credential in `hay`, in order, none overlapping another.
    pub fn find(&self, hay: &[u8]) -> Vec<Detection> {
        let mut found: Vec<Detection> = Vec::new();
        for m in self.literals.find_iter(hay) {
            let (_, lit) = LITERALS[m.pattern().as_usize()];
            if let Some(d) = self.validate(lit, hay, m.start()) {
                found.push(d);
            }
        }
        let mut keys = keyward_keys(hay);
        if !keys.is_empty() {
            found.append(&mut keys);
            found.sort_by_key(|d| d.start);
        }
        // A validated span may contain another candidate (a JWT's base64 can
        // spell `AKIA`; a PEM body anything): the first, longest span wins.
        let mut out: Vec<Detection> = Vec::with_capacity(found.len());
        for d in found {
            if out.last().is_some_and(|prev| d.start < prev.end) {
                continue;
            }
            out.push(d);
        }
        locate(hay, &mut out);
        out
    }

    fn validate(&self, lit: Lit, hay: &[u8], at: usize) -> Option<Detection> {
        match lit {
            Lit::Github(variant) => github(hay, at, variant),
            Lit::GithubPat => github_pat(hay, at),
            Lit::Stripe(variant) => stripe(hay, at, variant),
            Lit::Aws(variant) => aws(hay, at, variant),
            Lit::Slack(variant) => slack(hay, at, variant),
            Lit::SlackApp => slack_app(hay, at),
            Lit::SlackWebhook => slack_webhook(hay, at),
            Lit::Pem => pem(hay, at),
            Lit::Jwt => self.jwt(hay, at),
        }
    }

    fn jwt(&self, hay: &[u8], at: usize) -> Option<Detection> {
        if !boundary_before(hay, at, |b| is_b64url(b) || b == b'.') {
            return None;
        }
        let header = run(hay, at, is_b64url);
        // `{"alg":"x"}` is 15 characters of base64url.
        if header < 15 || hay.get(at + header) != Some(&b'.') {
            return None;
        }
        let p_at = at + header + 1;
        let payload = run(hay, p_at, is_b64url);
        if payload < 2 || hay.get(p_at + payload) != Some(&b'.') {
            return None;
        }
        let s_at = p_at + payload + 1;
        let sig = run(hay, s_at, is_b64url);
        let end = s_at + sig;
        // A fourth part makes it a JWE (encrypted, five parts), not a JWS.
        if hay.get(end) == Some(&b'.') && hay.get(end + 1).copied().is_some_and(is_b64url) {
            return None;
        }
        if end - at > MAX_TOKEN_BYTES {
            return None;
        }
        // Every byte was checked to be base64url ASCII.
        let text = std::str::from_utf8(&hay[at..end]).ok()?;
        let token = Token::parse(text).ok()?;
        // Without its signature a signed token is no credential (and is
        // usually the first line of one split across lines).
        if sig == 0 && *token.alg() != HeaderAlg::None {
            return None;
        }
        let report = inspect(&token, &InspectOptions::at(self.now));
        let facts = JwtFacts {
            alg: report.alg,
            kid: report.kid,
            lints: report.lints,
        };
        Some(detection(Kind::Jwt, hay, at, end, 3, Extra::Jwt(facts)))
    }
}

/// Finds Keyward API keys: `<prefix>_<49 base62>` where the prefix is 2 to 12
/// `[a-z0-9]`, then the checksum decides.
///
/// The body is a maximal run of exactly 49 alphanumerics after a `_`. Any
/// such run covers one of every 49th byte, so only those bytes are probed;
/// a probe inside a word measures that word's run and jumps 49 bytes past
/// its end. Underscores are too common in code to be the anchor.
fn keyward_keys(hay: &[u8]) -> Vec<Detection> {
    const TAIL: usize = BODY_LEN + CHECKSUM_LEN;
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    let mut out = Vec::new();
    let mut p = TAIL - 1;
    while p < hay.len() {
        if !alnum(hay[p]) {
            p += TAIL;
            continue;
        }
        let mut a = p;
        while a > 0 && p - a < TAIL && alnum(hay[a - 1]) {
            a -= 1;
        }
        let b = p + 1 + run(hay, p + 1, alnum);
        p = b + TAIL;
        if b - a != TAIL || a < 3 || hay[a - 1] != b'_' {
            continue;
        }
        let u = a - 1;
        let mut start = u;
        while start > 0 && u - start < 13 && is_prefix_char(hay[start - 1]) {
            start -= 1;
        }
        let prefix = u - start;
        if !(2..=12).contains(&prefix) || !boundary_before(hay, start, is_word) {
            continue;
        }
        if let Ok(key) = ApiKey::parse(&hay[start..b]) {
            out.push(detection(
                Kind::KeywardApiKey,
                hay,
                start,
                b,
                prefix + 1,
                Extra::ApiKey(key),
            ));
        }
    }
    out
}

fn github(hay: &[u8], at: usize, variant: &'static str) -> Option<Detection> {
    if !boundary_before(hay, at, is_word) {
        return None;
    }
    let body_at = at + 4;
    if run_max(hay, body_at, |b| b.is_ascii_alphanumeric(), 37) != 36 {
        return None;
    }
    let body = &hay[body_at..body_at + 30];
    let check = &hay[body_at + 30..body_at + 36];
    if base62_u32(crc32fast::hash(body)) != check {
        return None;
    }
    Some(detection(
        Kind::GithubToken,
        hay,
        at,
        body_at + 36,
        4,
        Extra::Variant(variant),
    ))
}

/// `github_pat_` + 82 word characters (22, `_`, 59 in the issued tokens).
fn github_pat(hay: &[u8], at: usize) -> Option<Detection> {
    if !boundary_before(hay, at, is_word) {
        return None;
    }
    if run_max(hay, at + 11, is_word, 83) != 82 {
        return None;
    }
    Some(detection(
        Kind::GithubPat,
        hay,
        at,
        at + 93,
        11,
        Extra::None,
    ))
}

/// `sk_live_`/`rk_live_`/`sk_test_`/`rk_test_` + at least 20 base62.
fn stripe(hay: &[u8], at: usize, variant: &'static str) -> Option<Detection> {
    if !boundary_before(hay, at, is_word) {
        return None;
    }
    let body = run(hay, at + 8, |b| b.is_ascii_alphanumeric());
    if !(20..=255).contains(&body) {
        return None;
    }
    Some(detection(
        Kind::StripeKey,
        hay,
        at,
        at + 8 + body,
        8,
        Extra::Variant(variant),
    ))
}

/// `AKIA`/`ASIA` + 16 `[A-Z2-7]`, alone as a word.
fn aws(hay: &[u8], at: usize, variant: &'static str) -> Option<Detection> {
    if !boundary_before(hay, at, |b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let body = run_max(
        hay,
        at + 4,
        |b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b),
        17,
    );
    let end = at + 4 + body;
    if body != 16 || hay.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(detection(
        Kind::AwsAccessKeyId,
        hay,
        at,
        end,
        4,
        Extra::Variant(variant),
    ))
}

/// `xox?-` + digits, then dash-separated base62 groups: at least three
/// groups and 20 characters (`xoxb-<team>-<bot>-<secret>`).
fn slack(hay: &[u8], at: usize, variant: &'static str) -> Option<Detection> {
    if !boundary_before(hay, at, is_word) {
        return None;
    }
    let body_at = at + 5;
    let mut len = run(hay, body_at, |b| b.is_ascii_alphanumeric() || b == b'-');
    while len > 0 && hay[body_at + len - 1] == b'-' {
        len -= 1;
    }
    let body = &hay[body_at..body_at + len];
    let groups = body.split(|&b| b == b'-').count();
    if len < 20 || groups < 3 || !body[0].is_ascii_digit() || body.windows(2).any(|w| w == b"--") {
        return None;
    }
    Some(detection(
        Kind::SlackToken,
        hay,
        at,
        body_at + len,
        5,
        Extra::Variant(variant),
    ))
}

/// `xapp-<digit>-<[A-Z0-9]+>-<digits>-<[a-z0-9]{16,}>`.
fn slack_app(hay: &[u8], at: usize) -> Option<Detection> {
    if !boundary_before(hay, at, is_word) {
        return None;
    }
    let body_at = at + 5;
    let len = run(hay, body_at, |b| b.is_ascii_alphanumeric() || b == b'-');
    let body = &hay[body_at..body_at + len];
    let parts: Vec<&[u8]> = body.split(|&b| b == b'-').collect();
    let ok = parts.len() == 4
        && !parts[0].is_empty()
        && parts[0].iter().all(u8::is_ascii_digit)
        && !parts[1].is_empty()
        && parts[1]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && !parts[2].is_empty()
        && parts[2].iter().all(u8::is_ascii_digit)
        && parts[3].len() >= 16
        && parts[3]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !ok {
        return None;
    }
    Some(detection(
        Kind::SlackToken,
        hay,
        at,
        body_at + len,
        5,
        Extra::Variant("Slack app-level token"),
    ))
}

/// `hooks.slack.com/services/T…/B…/<secret>`, with its `https://` when present.
fn slack_webhook(hay: &[u8], at: usize) -> Option<Detection> {
    let mut i = at + 25;
    for lead in [b'T', b'B'] {
        if hay.get(i) != Some(&lead) {
            return None;
        }
        let n = run(hay, i, |b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if n < 7 || hay.get(i + n) != Some(&b'/') {
            return None;
        }
        i += n + 1;
    }
    let secret = run(hay, i, |b| b.is_ascii_alphanumeric());
    if secret < 20 {
        return None;
    }
    let scheme = b"https://";
    let start = if at >= scheme.len() && &hay[at - scheme.len()..at] == scheme {
        at - scheme.len()
    } else {
        at
    };
    Some(detection(
        Kind::SlackWebhook,
        hay,
        start,
        i + secret,
        at + 25 - start,
        Extra::None,
    ))
}

/// `-----BEGIN <label> PRIVATE KEY-----`, a base64 body (optionally with
/// RFC 1421 headers, or with `\n` escapes inside a JSON or code string), and
/// the matching END line.
fn pem(hay: &[u8], at: usize) -> Option<Detection> {
    let label_at = at + 11;
    let label_len = run_max(
        hay,
        label_at,
        |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ',
        41,
    );
    let label = &hay[label_at..label_at + label_len];
    if label_len > 40
        || !(label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK"))
        || !hay[label_at + label_len..].starts_with(b"-----")
    {
        return None;
    }
    let body_at = label_at + label_len + 5;
    let mut end_marker = Vec::with_capacity(label_len + 14);
    end_marker.extend_from_slice(b"-----END ");
    end_marker.extend_from_slice(label);
    end_marker.extend_from_slice(b"-----");
    let window = &hay[body_at..hay.len().min(body_at + PEM_WINDOW)];
    let body_len = memchr::memmem::find(window, &end_marker)?;
    let body = &window[..body_len];
    let (chars, last4) = pem_body(body)?;
    if chars < PEM_MIN_BODY {
        return None;
    }
    let end = body_at + body_len + end_marker.len();
    // Label bytes were checked to be ASCII.
    let label = String::from_utf8_lossy(label).into_owned();
    let masked = format!("-----BEGIN {label}-----…{last4}");
    Some(Detection {
        kind: Kind::PrivateKey,
        start: at,
        end,
        line: 0,
        column: 0,
        masked,
        extra: Extra::PemLabel(label),
    })
}

/// Checks a PEM body: lines of base64, optionally preceded by `Name: value`
/// header lines; the line breaks may be real or `\n` escapes. Returns the
/// count of base64 characters and the last four.
fn pem_body(body: &[u8]) -> Option<(usize, String)> {
    let mut chars = 0usize;
    let mut last = [0u8; 4];
    let mut i = 0;
    let mut line_start = true;
    let mut in_header = false;
    let mut seen_base64 = false;
    while i < body.len() {
        let b = body[i];
        if b == b'\\' && matches!(body.get(i + 1), Some(b'n' | b'r')) {
            i += 2;
            line_start = true;
            in_header = false;
            continue;
        }
        if b == b'\\' && matches!(body.get(i + 1), Some(b'\n' | b'\r')) {
            // A line continuation inside a string literal.
            i += 1;
            continue;
        }
        match b {
            b'\n' | b'\r' => {
                line_start = true;
                in_header = false;
            }
            b' ' | b'\t' | b'"' | b'\'' | b',' => {
                // Indentation, and the quotes and commas of a string spread
                // over lines in code, are not part of the key.
            }
            _ if in_header => {}
            _ if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' => {
                if line_start && !seen_base64 && header_line(&body[i..]) {
                    in_header = true;
                } else {
                    seen_base64 = true;
                    chars += 1;
                    last.rotate_left(1);
                    last[3] = b;
                }
                line_start = false;
            }
            _ => return None,
        }
        i += 1;
    }
    (chars >= 4).then(|| (chars, String::from_utf8_lossy(&last).into_owned()))
}

/// An RFC 1421 header line (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`).
fn header_line(rest: &[u8]) -> bool {
    let name = run(rest, 0, |b| b.is_ascii_alphanumeric() || b == b'-');
    name > 0 && rest.get(name) == Some(&b':')
}

/// Builds a detection whose masked form is the first `prefix_len` bytes, `…`
/// and the last four.
fn detection(
    kind: Kind,
    hay: &[u8],
    start: usize,
    end: usize,
    prefix_len: usize,
    extra: Extra,
) -> Detection {
    Detection {
        kind,
        start,
        end,
        line: 0,
        column: 0,
        masked: mask(&hay[start..end], prefix_len),
        extra,
    }
}

/// `prefix…last4`: never more of the secret than that.
pub fn mask(secret: &[u8], prefix_len: usize) -> String {
    // Keep at least eight characters hidden, whatever the caller asked.
    let shown = 4usize;
    let prefix_len = prefix_len.min(secret.len().saturating_sub(shown + 8));
    let tail = if secret.len() >= prefix_len + shown + 8 {
        &secret[secret.len() - shown..]
    } else {
        &[][..]
    };
    format!(
        "{}…{}",
        String::from_utf8_lossy(&secret[..prefix_len]),
        String::from_utf8_lossy(tail)
    )
}

/// Fills in 1-based lines and columns (code points) of sorted detections.
fn locate(hay: &[u8], found: &mut [Detection]) {
    let mut line = 1u64;
    let mut counted_to = 0usize;
    for d in found.iter_mut() {
        line += memchr::memchr_iter(b'\n', &hay[counted_to..d.start]).count() as u64;
        counted_to = d.start;
        let line_start = memchr::memrchr(b'\n', &hay[..d.start]).map_or(0, |i| i + 1);
        let column = hay[line_start..d.start]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count() as u64;
        d.line = line;
        d.column = column + 1;
    }
}

/// CRC32 as 6 base62 digits, zero-padded (GitHub's token checksum).
fn base62_u32(mut n: u32) -> [u8; 6] {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_prefix_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn boundary_before(hay: &[u8], at: usize, joins: impl Fn(u8) -> bool) -> bool {
    at == 0 || !joins(hay[at - 1])
}

/// How many bytes from `at` satisfy `pred`.
fn run(hay: &[u8], at: usize, pred: impl Fn(u8) -> bool) -> usize {
    hay.get(at..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| pred(b)).count())
}

/// Like [`run`], but stops counting at `max`.
fn run_max(hay: &[u8], at: usize, pred: impl Fn(u8) -> bool, max: usize) -> usize {
    hay.get(at..).map_or(0, |rest| {
        rest.iter().take(max).take_while(|&&b| pred(b)).count()
    })
}

/// A checksum-valid GitHub-format token made of a chosen 30-character body,
/// for tests, corpora and benchmarks (GitHub never issued it).
pub fn fake_github_token(prefix: &str, body30: &str) -> String {
    format!(
        "{prefix}{body30}{}",
        String::from_utf8_lossy(&base62_u32(crc32fast::hash(body30.as_bytes())))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_checksum_is_zero_padded() {
        assert_eq!(&base62_u32(0), b"000000");
        assert_eq!(&base62_u32(61), b"00000z");
        assert_eq!(&base62_u32(u32::MAX), b"4gfFC3");
    }

    #[test]
    fn mask_never_shows_more_than_prefix_and_four() {
        assert_eq!(
            mask(b"ghp_abcdefghijklmnopqrstuvwxyz0123456789", 4),
            "ghp_…6789"
        );
        // Too short to show anything safely: nothing but the ellipsis.
        assert_eq!(mask(b"short", 4), "…");
    }
}
