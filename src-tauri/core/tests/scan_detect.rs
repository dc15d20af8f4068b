//! The leak scanner's detectors on text: true positives for every format,
//! look-alikes with bad checksums or shapes, secrets split across lines, and
//! masking. Checksum-valid secrets (GitHub, Keyward) are generated here; the
//! corpus under tests/scan-corpus holds only formats without a checksum.

use chrono::{TimeZone, Utc};
use keyward_core::keys::apikey::ApiKey;
use keyward_core::scan::{fake_github_token, Detection, Detector, Kind};

fn detector() -> Detector {
    Detector::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
}

fn find(text: &str) -> Vec<Detection> {
    detector().find(text.as_bytes())
}

fn kinds(text: &str) -> Vec<Kind> {
    find(text).iter().map(|d| d.kind).collect()
}

fn api_key(prefix: &str) -> String {
    let k = ApiKey::generate(prefix).unwrap();
    k.secret().expose_str().unwrap().to_string()
}

/// 30 base62 characters, different on each call.
fn body30(seed: u8) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..30u32)
        .map(|i| A[((i * 7 + u32::from(seed) * 13 + i * i) % 62) as usize] as char)
        .collect()
}

/// Asserts the masked form is the prefix, `…` and the last four characters,
/// and shows nothing else of the secret.
fn assert_masked(d: &Detection, secret: &str, prefix: &str) {
    let last4 = &secret[secret.len() - 4..];
    assert_eq!(d.masked, format!("{prefix}…{last4}"), "{d:?}");
    assert!(!d.masked.contains(secret));
}

#[test]
fn keyward_api_keys_are_found_by_checksum_with_any_prefix() {
    for prefix in ["kw", "acme2", "abcdefghijkl"] {
        let key = api_key(prefix);
        let text = format!("[service]\napi_key = \"{key}\"\n");
        let found = find(&text);
        assert_eq!(found.len(), 1, "{prefix}: {found:?}");
        let d = &found[0];
        assert_eq!(d.kind, Kind::KeywardApiKey);
        assert_eq!((d.line, d.column), (2, 12));
        assert_masked(d, &key, &format!("{prefix}_"));
    }
}

#[test]
fn keyward_look_alikes_are_not_found() {
    let key = api_key("kw");
    // One character changed: the checksum no longer matches.
    let mut bad = key.clone().into_bytes();
    let i = 10;
    bad[i] = if bad[i] == b'a' { b'b' } else { b'a' };
    let bad = String::from_utf8(bad).unwrap();
    // Wrong length, uppercase prefix, prefix glued to a word, too long a prefix.
    let cases = [
        bad,
        key[..key.len() - 1].to_string(),
        format!("{key}x"),
        format!("K{}", &key[1..]),
        format!("X{key}"),
        format!("_{key}"),
        format!("abcdefghijklm{}", &key[2..]),
    ];
    for c in cases {
        assert!(kinds(&c).is_empty(), "{c}");
    }
}

#[test]
fn github_tokens_are_found_only_with_a_valid_crc32() {
    for (i, prefix) in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"].iter().enumerate() {
        let token = fake_github_token(prefix, &body30(i as u8));
        let found = find(&format!("GITHUB_TOKEN={token}\n"));
        assert_eq!(found.len(), 1, "{token}");
        assert_eq!(found[0].kind, Kind::GithubToken);
        assert_eq!((found[0].line, found[0].column), (1, 14));
        assert_masked(&found[0], &token, prefix);
        assert!(found[0].variant().unwrap().contains("GitHub"));

        // Any change to the body or the checksum is caught.
        for pos in [4, 20, 33, 39] {
            let mut bad = token.clone().into_bytes();
            bad[pos] = if bad[pos] == b'Q' { b'R' } else { b'Q' };
            let bad = String::from_utf8(bad).unwrap();
            assert!(kinds(&bad).is_empty(), "wrong CRC accepted: {bad}");
        }
        // Truncated or extended.
        assert!(kinds(&token[..39]).is_empty());
        assert!(kinds(&format!("{token}A")).is_empty());
    }
}

#[test]
fn provider_formats_without_checksums_are_found_by_shape() {
    let cases: &[(&str, Kind, &str)] = &[
        (
            "github_pat_11FAKE0000000000000000_abcdefghijABCDEFGHIJ0123456789abcdefghijABCDEFGHIJ012345678",
            Kind::GithubPat,
            "github_pat_",
        ),
        ("sk_live_FAKEabcdefghij0123456789", Kind::StripeKey, "sk_live_"),
        ("rk_live_FAKEabcdefghij0123456789", Kind::StripeKey, "rk_live_"),
        ("sk_test_FAKEabcdefghij0123456789", Kind::StripeKey, "sk_test_"),
        ("AKIAIOSFODNN7EXAMPLE", Kind::AwsAccessKeyId, "AKIA"),
        ("ASIAFAKEFAKEFAKE2345", Kind::AwsAccessKeyId, "ASIA"),
        (
            "xoxb-1234567890-1234567890123-FAKEabcdefghij0123456789",
            Kind::SlackToken,
            "xoxb-",
        ),
        (
            "xoxp-1234567890-1234567890-1234567890123-0123456789abcdef0123456789abcdef",
            Kind::SlackToken,
            "xoxp-",
        ),
        (
            "xoxa-2-1234567890-1234567890123-FAKEabcdefghij",
            Kind::SlackToken,
            "xoxa-",
        ),
        (
            "xapp-1-A0FAKE0FAKE0-1234567890123-0123456789abcdef0123456789abcdef",
            Kind::SlackToken,
            "xapp-",
        ),
        (
            "https://hooks.slack.com/services/T00000000/B00000000/FAKEabcdefghij0123456789",
            Kind::SlackWebhook,
            "https://hooks.slack.com/services/",
        ),
    ];
    for (secret, kind, prefix) in cases {
        let text = format!("value: \"{secret}\"\n");
        let found = find(&text);
        assert_eq!(found.len(), 1, "{secret}: {found:?}");
        assert_eq!(found[0].kind, *kind, "{secret}");
        assert_eq!((found[0].line, found[0].column), (1, 9), "{secret}");
        assert_masked(&found[0], secret, prefix);
    }
}

#[test]
fn provider_look_alikes_are_not_found() {
    for text in [
        "XAKIAIOSFODNN7EXAMPLE",
        "AKIAIOSFODNN7EXAMPLEX",
        "AKIAIOSFODNN7EXAMP1E",
        "AKIA1234",
        "akiaiosfodnn7example",
        "sk_live_short",
        "pk_live_FAKEabcdefghij0123456789",
        "my_sk_live_FAKEabcdefghij0123456789",
        "xoxb-123",
        "xoxb-not-a-token-at-all-really",
        "xapp-1-lowercase-123-abcdef0123456789abcdef",
        "https://hooks.slack.com/services/",
        "https://hooks.slack.com/services/T00000000/B00000000/short",
        "github_pat_tooshort_abc",
    ] {
        assert!(kinds(text).is_empty(), "{text}");
    }
}

fn pem_block(label: &str, body_lines: usize) -> (String, String) {
    let line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7FAKEFAKEFAKE";
    let body: Vec<String> = (0..body_lines)
        .map(|i| format!("{}{:04}", &line[..60], i))
        .collect();
    let last = body.last().unwrap().clone();
    (
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            body.join("\n")
        ),
        last[last.len() - 4..].to_string(),
    )
}

#[test]
fn private_key_blocks_are_found_with_their_label() {
    for label in [
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ] {
        let (block, last4) = pem_block(label, 5);
        let found = find(&format!("# key\n{block}"));
        assert_eq!(found.len(), 1, "{label}");
        assert_eq!(found[0].kind, Kind::PrivateKey);
        assert_eq!((found[0].line, found[0].column), (2, 1));
        assert_eq!(found[0].variant(), Some(label));
        assert_eq!(found[0].masked, format!("-----BEGIN {label}-----…{last4}"));
    }
    // Inside a JSON string, with `\n` escapes (a cloud service-account file).
    let (block, _) = pem_block("PRIVATE KEY", 3);
    let json = serde_json::json!({ "private_key": block }).to_string();
    assert_eq!(kinds(&json), vec![Kind::PrivateKey]);
}

#[test]
fn pem_look_alikes_are_not_found() {
    let (public, _) = pem_block("PUBLIC KEY", 5);
    let (cert, _) = pem_block("CERTIFICATE", 5);
    for text in [
        public.as_str(),
        cert.as_str(),
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "if pem.starts_with(\"-----BEGIN PRIVATE KEY-----\") { parse(pem) }\n",
        // A header whose END line never comes.
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n",
        // Mismatched labels.
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n",
    ] {
        assert!(kinds(text).is_empty(), "{text}");
    }
}

const HS256_EXPIRED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.kCrN2OupgZ_gI01GYZvcW00izRvWfwq6Ck5oS5WctBE";

#[test]
fn jwts_are_found_with_their_lints() {
    let found = find(&format!("Authorization: Bearer {HS256_EXPIRED}\n"));
    assert_eq!(found.len(), 1);
    let d = &found[0];
    assert_eq!(d.kind, Kind::Jwt);
    assert_eq!((d.line, d.column), (1, 23));
    assert_masked(d, HS256_EXPIRED, "eyJ");
    let jwt = d.jwt().unwrap();
    assert_eq!(jwt.alg, "HS256");
    let ids: Vec<&str> = jwt.lints.iter().map(|l| l.id).collect();
    assert!(ids.contains(&"expired"), "{ids:?}");
    assert!(ids.contains(&"symmetric_alg"), "{ids:?}");

    // An unsigned token (alg none, empty signature) is found, and says so.
    let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.";
    let found = find(&format!("session={none};"));
    assert_eq!(found.len(), 1);
    assert!(found[0]
        .jwt()
        .unwrap()
        .lints
        .iter()
        .any(|l| l.id == "alg_none"));
}

#[test]
fn jwt_look_alikes_are_not_found() {
    for text in [
        // One part, two parts.
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0",
        // A header without alg ({"typ":"JWT","kid":"x"}).
        "eyJ0eXAiOiJKV1QiLCJraWQiOiJ4In0.eyJzdWIiOiJ4In0.c2ln",
        // A header that is not JSON.
        "eyJub3QganNvbiBhdCBhbGw.eyJzdWIiOiJ4In0.c2ln",
        // A signed token stripped of its signature.
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.",
        // A JWE: five parts.
        "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZ.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz.XFBoMYUZodetZdvTiFvSkQ",
    ] {
        assert!(kinds(text).is_empty(), "{text}");
    }
}

#[test]
fn secrets_split_across_lines_are_not_found() {
    // A documented limitation: a credential is matched whole on one line.
    let token = fake_github_token("ghp_", &body30(9));
    let key = api_key("kw");
    let (h, rest) = HS256_EXPIRED.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for text in [
        format!("t = \"{}\" +\n    \"{}\"\n", &token[..20], &token[20..]),
        format!("k = {}\\\n{}\n", &key[..25], &key[25..]),
        format!("jwt = {h}.{p}.\n      {s}\n"),
        "aws = \"AKIAIOSFOD\"\n      \"NN7EXAMPLE\"\n".to_string(),
        "url: https://hooks.slack.com/services/T00000000/\n  B00000000/FAKEabcdefghij0123456789\n"
            .to_string(),
    ] {
        assert!(kinds(&text).is_empty(), "{text}");
    }
}

#[test]
fn positions_are_lines_and_code_point_columns() {
    let key = api_key("kw");
    let text = format!("first line\nclé → {key}\n\n\tAKIAIOSFODNN7EXAMPLE {HS256_EXPIRED}\n");
    let found = find(&text);
    let at: Vec<(Kind, u64, u64)> = found.iter().map(|d| (d.kind, d.line, d.column)).collect();
    assert_eq!(
        at,
        vec![
            (Kind::KeywardApiKey, 2, 7),
            (Kind::AwsAccessKeyId, 4, 2),
            (Kind::Jwt, 4, 23),
        ]
    );
}

#[test]
fn many_secrets_in_one_buffer_are_all_found_in_order() {
    let mut text = String::new();
    let mut expected = Vec::new();
    for i in 0..50u8 {
        text.push_str("some ordinary text with snake_case_names and_underscores_\n");
        match i % 3 {
            0 => {
                text.push_str(&format!("key={}\n", api_key("kw")));
                expected.push(Kind::KeywardApiKey);
            }
            1 => {
                text.push_str(&format!("gh={}\n", fake_github_token("gho_", &body30(i))));
                expected.push(Kind::GithubToken);
            }
            _ => {
                text.push_str("aws=AKIAIOSFODNN7EXAMPLE\n");
                expected.push(Kind::AwsAccessKeyId);
            }
        }
    }
    assert_eq!(kinds(&text), expected);
}

#[test]
fn the_detector_never_panics_on_arbitrary_bytes() {
    use proptest::prelude::*;
    let d = detector();
    proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..512))| {
        let _ = d.find(&bytes);
    });
    // Candidates cut off at the end of the buffer.
    for text in [
        "ghp_",
        "github_pat_",
        "sk_live_",
        "AKIA",
        "xoxb-",
        "xapp-",
        "hooks.slack.com/services/",
        "-----BEGIN ",
        "-----BEGIN PRIVATE KEY-----",
        "eyJ",
        "eyJhbGciOiJIUzI1NiJ9.",
        "kw_",
    ] {
        let _ = d.find(text.as_bytes());
    }
}

#[test]
fn keyward_keys_are_found_at_every_offset_and_back_to_back() {
    // The key pass probes every 49th byte: no alignment may hide a key.
    let key = api_key("kw");
    let other = api_key("team7");
    for pad in 0..120 {
        let filler: String = "ab_cd efgh-".chars().cycle().take(pad).collect();
        for text in [
            format!("{filler} {key}"),
            format!("{filler}\n{key}\n{filler}"),
            format!("{filler}={key} {other},{key}"),
        ] {
            let found = find(&text);
            let n = text.matches(&key).count() + text.matches(&other).count();
            assert_eq!(found.len(), n, "pad {pad}: {text}");
            assert!(found.iter().all(|d| d.kind == Kind::KeywardApiKey));
        }
    }
    // At the very start of the buffer, and inside a long run of letters (not a key).
    assert_eq!(kinds(&key), vec![Kind::KeywardApiKey]);
    assert!(kinds(&format!("{}{}", "A".repeat(200), &key[2..])).is_empty());
}
