//! Weak-secret warnings: list hits (exact and variants), RFC 7518 §3.2
//! length per algorithm, low entropy, repetition, sequences, digits, and no
//! warning at all for a strong random secret.

use keyward_core::crack::{
    builtin_secrets, import_warnings, weak_secret_check, WeakSecretKind as K,
};
use keyward_core::crypto::Alg;
use rand::RngCore;

fn kinds(secret: &[u8], alg: Alg) -> Vec<K> {
    weak_secret_check(secret, alg)
        .into_iter()
        .map(|w| w.kind)
        .collect()
}

fn random(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

#[test]
fn list_hits_exact_and_variants() {
    for s in ["secret", "your-256-bit-secret", "keyboard cat", "changeme"] {
        assert!(
            kinds(s.as_bytes(), Alg::HS256).contains(&K::CommonSecret),
            "{s}"
        );
    }
    // Long list entries are flagged even though their length is fine.
    let supabase = b"super-secret-jwt-token-with-at-least-32-characters-long";
    assert_eq!(kinds(supabase, Alg::HS256), vec![K::CommonSecret]);
    for s in [
        "YOUR-256-BIT-SECRET",
        "SeCrEt99",
        "CHANGEME!",
        "Keyboard Cat2024",
    ] {
        let k = kinds(s.as_bytes(), Alg::HS256);
        assert!(k.contains(&K::CommonSecretVariant), "{s}: {k:?}");
        assert!(!k.contains(&K::CommonSecret), "{s}");
    }
    // A piped secret's trailing newline does not hide it.
    assert!(kinds(b"secret\n", Alg::HS256).contains(&K::CommonSecret));
    // Every entry of the list is caught by the check.
    for s in builtin_secrets() {
        assert!(
            kinds(s.as_bytes(), Alg::HS512).contains(&K::CommonSecret),
            "{s}"
        );
    }
}

#[test]
fn too_short_follows_rfc7518_per_algorithm() {
    let s32 = random(32);
    let s48 = random(48);
    assert!(!kinds(&s32, Alg::HS256).contains(&K::TooShort));
    assert!(kinds(&s32[..31], Alg::HS256).contains(&K::TooShort));
    assert!(kinds(&s32, Alg::HS384).contains(&K::TooShort));
    assert!(!kinds(&s48, Alg::HS384).contains(&K::TooShort));
    assert!(kinds(&s48, Alg::HS512).contains(&K::TooShort));
    let w = weak_secret_check(&s32[..20], Alg::HS256);
    let short = w.iter().find(|w| w.kind == K::TooShort).unwrap();
    assert!(short.message.contains("20 bytes"), "{}", short.message);
    assert!(short.message.contains("RFC 7518"), "{}", short.message);
    assert!(short.message.contains("32 bytes"), "{}", short.message);
}

#[test]
fn low_entropy_repetition_sequences_and_digits() {
    let a40 = vec![b'a'; 40];
    let k = kinds(&a40, Alg::HS256);
    assert!(
        k.contains(&K::LowEntropy) && k.contains(&K::Repetitive),
        "{k:?}"
    );
    let abab = b"abababababababababababababababab";
    let k = kinds(abab, Alg::HS256);
    assert!(
        k.contains(&K::LowEntropy) && k.contains(&K::Repetitive),
        "{k:?}"
    );
    // A repeated unit with many distinct characters: repetitive, not low entropy.
    let unit = b"Tq8#zR1!Lm5&Xc9?Tq8#zR1!Lm5&Xc9?";
    assert_eq!(kinds(unit, Alg::HS256), vec![K::Repetitive]);
    let digits = b"83920174658392017465839201746511";
    assert!(kinds(digits, Alg::HS256).contains(&K::AllDigits));
    let seq = b"Zq7!abcdefghXw2@pL9#mN4$kR6%tY1^";
    assert_eq!(kinds(seq, Alg::HS256), vec![K::Sequence]);
    let run = b"Zq7!pL9#mN4$kR6%tY1^Xw2@00000000";
    assert_eq!(kinds(run, Alg::HS256), vec![K::Repetitive]);
    // Few distinct letters, no pattern: low entropy alone.
    let dull = b"abbaabaabbbaababbabaaabbabbaabab";
    assert!(kinds(dull, Alg::HS256).contains(&K::LowEntropy));
}

#[test]
fn strong_random_secrets_get_no_warning() {
    for _ in 0..50 {
        assert_eq!(kinds(&random(64), Alg::HS256), vec![]);
        assert_eq!(kinds(&random(64), Alg::HS512), vec![]);
        assert_eq!(kinds(&random(48), Alg::HS384), vec![]);
        // Text encodings of random bytes are fine too.
        let b64 = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            random(48),
        );
        assert_eq!(kinds(b64.as_bytes(), Alg::HS256), vec![], "{b64}");
        let hex: String = random(32).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(kinds(hex.as_bytes(), Alg::HS256), vec![], "{hex}");
    }
}

#[test]
fn messages_never_contain_the_secret() {
    let secret = b"my-own-weak-pw";
    for w in weak_secret_check(secret, Alg::HS256) {
        assert!(!w.message.contains("my-own-weak-pw"), "{}", w.message);
        assert!(!w.kind.code().is_empty());
    }
}

#[test]
fn import_warnings_read_raw_bytes_and_oct_jwks() {
    assert!(!import_warnings("HS256", b"secret").is_empty());
    // An oct JWK: its `k` is judged, not the JSON text. (Keys shorter than
    // the hash are refused by the import itself, so this one is long.)
    let jwk = br#"{"kty":"oct","k":"c3VwZXItc2VjcmV0LWp3dC10b2tlbi13aXRoLWF0LWxlYXN0LTMyLWNoYXJhY3RlcnMtbG9uZw"}"#;
    let w = import_warnings("HS256", jwk);
    assert_eq!(
        w.iter().map(|w| w.kind).collect::<Vec<_>>(),
        vec![K::CommonSecret],
        "{w:?}"
    );
    assert!(import_warnings("HS512", &random(64)).is_empty());
    // Not an HMAC algorithm: nothing to say here.
    assert!(import_warnings("ES256", b"secret").is_empty());
    let json = serde_json::to_value(import_warnings("HS256", b"secret")).unwrap();
    assert_eq!(json[0]["code"], "common_secret");
    assert!(json[0]["message"].is_string());
}
