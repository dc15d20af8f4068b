//! Property tests: sign → verify succeeds for every algorithm with random
//! claims, and any single-byte change to the token is rejected.

use chrono::Utc;
use keyward_core::crypto::{Alg, ParsedKey, PrivateKey};
use keyward_core::jwt::{self, Candidate, KeySource, Token, VerifyOptions};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::sync::OnceLock;

fn keys() -> &'static [(Alg, PrivateKey)] {
    static KEYS: OnceLock<Vec<(Alg, PrivateKey)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let rsa = PrivateKey::generate(Alg::RS256, None).unwrap();
        Alg::ALL
            .into_iter()
            .map(|a| {
                let k = if a.family() == rsa.family() {
                    PrivateKey::from_storage(rsa.family(), rsa.to_storage().expose()).unwrap()
                } else {
                    PrivateKey::generate(a, None).unwrap()
                };
                (a, k)
            })
            .collect()
    })
}

fn source(k: &PrivateKey) -> KeySource {
    match k.public_key() {
        Some(p) => KeySource::Single(Candidate::from_parsed(&ParsedKey::Public(p), "key")),
        None => KeySource::Single(Candidate::hmac_secret(k.hmac_secret().unwrap(), "secret")),
    }
}

fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        proptest::collection::vec(any::<u32>(), 0..4).prop_map(Value::from),
    ]
}

fn claims() -> impl Strategy<Value = Map<String, Value>> {
    // Registered names are left out: their values must have specific types.
    proptest::collection::btree_map("[a-z_]{1,12}", claim_value(), 0..6).prop_map(|m| {
        m.into_iter()
            .filter(|(k, _)| !["exp", "nbf", "iat", "aud", "iss", "jti"].contains(&k.as_str()))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_and_tamper(
        claims in claims(),
        position in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        // Every algorithm in every case.
        for (alg, key) in keys() {
        let token = jwt::sign(key, *alg, Map::new(), claims.clone()).unwrap();
        let opts = VerifyOptions::new(source(key), Utc::now());
        let parsed = Token::parse(&token).unwrap();
        prop_assert_eq!(parsed.claims().unwrap(), &claims);
        let v = jwt::verify(&parsed, &opts);
        prop_assert!(v.valid, "{}: {:?}", alg, v.reason);

        let mut bytes = token.clone().into_bytes();
        let i = position.index(bytes.len());
        if bytes[i] == replacement {
            continue;
        }
        bytes[i] = replacement;
        let Ok(text) = String::from_utf8(bytes) else {
            continue; // not even text: nothing to verify
        };
        if let Ok(t) = Token::parse(&text) {
            let v = jwt::verify(&t, &opts);
            prop_assert!(!v.valid, "{} accepted a token changed at byte {}: {}", alg, i, text);
        }
        }
    }

    #[test]
    fn parsers_never_panic(text in ".{0,400}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let now = Utc::now();
        for candidate in [text.clone(), format!("{}.{}.{}", text, text, text)] {
            if let Ok(t) = Token::parse(&candidate) {
                let _ = jwt::inspect(&t, &jwt::InspectOptions::at(now));
                let _ = jwt::verify(&t, &VerifyOptions::new(source(&keys()[0].1), now));
            }
        }
        // Header and payload of arbitrary bytes.
        let b = keyward_core::crypto::b64::encode(&bytes);
        if let Ok(t) = Token::parse(&format!("{b}.{b}.{b}")) {
            let _ = jwt::inspect(&t, &jwt::InspectOptions::at(now));
        }
        let _ = keyward_core::crypto::parse_key(&bytes);
        let _ = keyward_core::crypto::parse_key(text.as_bytes());
    }
}
