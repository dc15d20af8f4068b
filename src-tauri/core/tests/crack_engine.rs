//! The cracker against real tokens: every HS algorithm, wordlists and masks,
//! secrets at the start, middle and end and absent, CRLF and empty lines,
//! secrets longer than the hash block, mutations, cancellation, and an exact
//! count of the candidates tried (so a skipped or doubled line shows).

use keyward_core::crack::{
    self, crack_builtin, Candidates, CrackOptions, CrackOutcome, Mask, Target, Wordlist,
};
use keyward_core::crypto::{Alg, PrivateKey};
use keyward_core::jwt::{self, Token};
use serde_json::{json, Map};
use std::sync::atomic::{AtomicBool, Ordering};

const HS: [Alg; 3] = [Alg::HS256, Alg::HS384, Alg::HS512];

fn token(alg: Alg, secret: &[u8]) -> Token {
    let key = PrivateKey::from_hmac_secret(secret).unwrap();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("crack-test"));
    let text = jwt::sign(&key, alg, Map::new(), claims).unwrap();
    jwt::parse(&text).unwrap()
}

fn run(target: &Target, c: Candidates<'_>, opts: &CrackOptions) -> CrackOutcome {
    crack::crack(target, c, opts, &mut |_| {}, &AtomicBool::new(false))
}

fn found(o: &CrackOutcome) -> Option<Vec<u8>> {
    o.found.as_ref().map(|s| s.expose().to_vec())
}

/// `n` distinct filler words of varied length, none of them a test secret.
fn filler(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("w{i}{}", "x".repeat(i % 13)))
        .collect()
}

#[test]
fn wordlist_secret_at_start_middle_end_and_absent_for_every_alg() {
    let n = 3000;
    for alg in HS {
        let secret = "correct-horse";
        let t = Target::from_token(&token(alg, secret.as_bytes())).unwrap();
        assert_eq!(t.alg(), alg);
        for pos in [Some(0), Some(n / 2), Some(n), None] {
            let mut words = filler(n);
            if let Some(p) = pos {
                words.insert(p, secret.to_string());
            }
            let list = words.join("\n") + "\n";
            for threads in [1, 2, 3] {
                let o = run(
                    &t,
                    Candidates::Wordlist(list.as_bytes()),
                    &CrackOptions::threads(threads),
                );
                match pos {
                    Some(_) => {
                        assert_eq!(
                            found(&o).as_deref(),
                            Some(secret.as_bytes()),
                            "{alg} at {pos:?} on {threads} threads"
                        );
                    }
                    None => {
                        assert_eq!(found(&o), None, "{alg}");
                        assert_eq!(o.tried, n as u64, "{alg}: every line once");
                    }
                }
                assert!(!o.cancelled);
                assert_eq!(o.alg, alg);
            }
        }
    }
}

#[test]
fn a_hit_at_the_start_stops_every_thread_early() {
    let t = Target::from_token(&token(Alg::HS256, b"first")).unwrap();
    let list = std::iter::once("first".to_string())
        .chain(filler(200_000))
        .collect::<Vec<_>>()
        .join("\n");
    let mut opts = CrackOptions::threads(2);
    opts.chunk = Some(64 << 10);
    let o = run(&t, Candidates::Wordlist(list.as_bytes()), &opts);
    assert_eq!(found(&o).as_deref(), Some(&b"first"[..]));
    assert!(o.tried < 50_000, "kept going after the hit: {}", o.tried);
}

#[test]
fn every_line_is_tried_exactly_once_whatever_the_chunk_size() {
    let t = Target::from_token(&token(Alg::HS256, b"not-in-the-list")).unwrap();
    let words = filler(500);
    let mut list = String::new();
    for (i, w) in words.iter().enumerate() {
        list.push_str(w);
        // Mixed endings, and empty lines in between, which are not candidates.
        list.push_str(match i % 4 {
            0 => "\n",
            1 => "\r\n",
            2 => "\n\n\r\n",
            _ => "\r\n\n",
        });
    }
    for chunk in [1, 2, 3, 7, 16, 100, 1000, 1 << 20] {
        for threads in [1, 2, 4] {
            let mut opts = CrackOptions::threads(threads);
            opts.chunk = Some(chunk);
            let o = run(&t, Candidates::Wordlist(list.as_bytes()), &opts);
            assert_eq!(o.tried, 500, "chunk {chunk}, {threads} threads");
        }
    }
    // And a secret on any line is found with tiny chunks.
    for idx in [0, 1, 2, 3, 250, 499] {
        let secret = &words[idx];
        let t = Target::from_token(&token(Alg::HS384, secret.as_bytes())).unwrap();
        let mut opts = CrackOptions::threads(2);
        opts.chunk = Some(5);
        let o = run(&t, Candidates::Wordlist(list.as_bytes()), &opts);
        assert_eq!(found(&o).as_deref(), Some(secret.as_bytes()), "line {idx}");
    }
}

#[test]
fn crlf_lists_empty_lines_and_no_final_newline() {
    for alg in HS {
        let t = Target::from_token(&token(alg, b"hunter2")).unwrap();
        for list in [
            &b"password\r\n\r\n123456\r\nhunter2\r\nletmein\r\n"[..],
            b"\n\n\nhunter2",
            b"a\r\n\r\n\r\nhunter2\r\n",
            b"hunter2\r\n",
        ] {
            let o = run(&t, Candidates::Wordlist(list), &CrackOptions::threads(2));
            assert_eq!(
                found(&o).as_deref(),
                Some(&b"hunter2"[..]),
                "{alg} {list:?}"
            );
        }
        // The CR belongs to the line ending, never to the candidate.
        let t = Target::from_token(&token(alg, b"hunter2\r")).unwrap();
        let o = run(
            &t,
            Candidates::Wordlist(b"hunter2\r\n"),
            &CrackOptions::threads(1),
        );
        assert_eq!(found(&o), None);
        // Empty input and only-empty lines: nothing tried.
        for list in [&b""[..], b"\n\r\n\n"] {
            let o = run(&t, Candidates::Wordlist(list), &CrackOptions::threads(2));
            assert_eq!((found(&o), o.tried), (None, 0));
        }
    }
}

#[test]
fn secrets_longer_than_the_hash_block_are_hashed_first() {
    for (alg, len) in [
        (Alg::HS256, 65),
        (Alg::HS256, 200),
        (Alg::HS384, 129),
        (Alg::HS512, 129),
        (Alg::HS512, 400),
    ] {
        let secret: String = (0..len)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        let t = Target::from_token(&token(alg, secret.as_bytes())).unwrap();
        assert!(t.is_secret(secret.as_bytes()));
        let list = format!("short\n{}\n{secret}\nafter\n", &secret[..len - 1]);
        let o = run(
            &t,
            Candidates::Wordlist(list.as_bytes()),
            &CrackOptions::threads(2),
        );
        assert_eq!(found(&o).as_deref(), Some(secret.as_bytes()), "{alg} {len}");
    }
}

#[test]
fn mask_secret_at_start_middle_end_and_absent_for_every_alg() {
    let mask = Mask::parse("?l?l?d?d").unwrap();
    assert_eq!(mask.keyspace().unwrap(), 26 * 26 * 100);
    for alg in HS {
        for secret in ["aa00", "mn50", "zz99"] {
            let t = Target::from_token(&token(alg, secret.as_bytes())).unwrap();
            let o = run(&t, Candidates::Mask(&mask), &CrackOptions::threads(2));
            assert_eq!(
                found(&o).as_deref(),
                Some(secret.as_bytes()),
                "{alg} {secret}"
            );
        }
        // Not in the keyspace: every candidate tried once.
        let t = Target::from_token(&token(alg, b"AA00")).unwrap();
        let o = run(&t, Candidates::Mask(&mask), &CrackOptions::threads(2));
        assert_eq!(found(&o), None);
        assert_eq!(o.tried, 67_600, "{alg}");
    }
}

#[test]
fn mask_with_literals_and_lengths() {
    let t = Target::from_token(&token(Alg::HS256, b"k-7")).unwrap();
    let m = Mask::parse("k-?d?d").unwrap();
    // Exactly four characters: "k-7" is not among them.
    assert_eq!(
        found(&run(&t, Candidates::Mask(&m), &CrackOptions::threads(2))),
        None
    );
    let m = m.with_lengths(1, 4).unwrap();
    let o = run(&t, Candidates::Mask(&m), &CrackOptions::threads(2));
    assert_eq!(found(&o).as_deref(), Some(&b"k-7"[..]));
    // Increments: 1 + 1 + 10 + 100 candidates when nothing matches.
    let t = Target::from_token(&token(Alg::HS512, b"zzz")).unwrap();
    let o = run(&t, Candidates::Mask(&m), &CrackOptions::threads(2));
    assert_eq!((found(&o), o.tried), (None, 112));
    for bad in ["", "?", "ab?", "?z", "?l?L"] {
        let e = Mask::parse(bad).unwrap_err();
        assert_eq!(e.code(), "bad_mask", "{bad:?}");
    }
    let e = Mask::parse("?d?d").unwrap().with_lengths(1, 3).unwrap_err();
    assert_eq!(e.code(), "bad_mask");
}

#[test]
fn mutate_finds_capitalised_and_suffixed_variants() {
    let list = b"password\nsecret\nadmin\n";
    for (alg, secret) in [
        (Alg::HS256, "Secret123"),
        (Alg::HS384, "SECRET!"),
        (Alg::HS512, "secret2024"),
    ] {
        let t = Target::from_token(&token(alg, secret.as_bytes())).unwrap();
        let plain = run(&t, Candidates::Wordlist(list), &CrackOptions::threads(2));
        assert_eq!(found(&plain), None, "found without --mutate");
        let mut opts = CrackOptions::threads(2);
        opts.mutate = true;
        let o = run(&t, Candidates::Wordlist(list), &opts);
        assert_eq!(found(&o).as_deref(), Some(secret.as_bytes()), "{alg}");
    }
    // Exhausted: every variant of every word counted.
    let t = Target::from_token(&token(Alg::HS256, b"unrelated")).unwrap();
    let mut opts = CrackOptions::threads(2);
    opts.mutate = true;
    let o = run(&t, Candidates::Wordlist(list), &opts);
    let per_word = 3 * crack::SUFFIXES.len() as u64 + 1;
    assert_eq!(o.tried, 3 * per_word);
}

#[test]
fn a_memory_mapped_file_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("words.txt");
    let mut words = filler(10_000);
    words.push("the-last-line".into());
    std::fs::write(&path, words.join("\r\n")).unwrap();
    let list = Wordlist::open(&path).unwrap();
    let t = Target::from_token(&token(Alg::HS256, b"the-last-line")).unwrap();
    let o = run(
        &t,
        Candidates::Wordlist(list.bytes()),
        &CrackOptions::threads(2),
    );
    assert_eq!(found(&o).as_deref(), Some(&b"the-last-line"[..]));

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    assert!(Wordlist::open(&empty).unwrap().bytes().is_empty());
    for bad in [dir.path().join("missing.txt"), dir.path().to_path_buf()] {
        let e = Wordlist::open(&bad).err().unwrap();
        assert_eq!(e.code(), "unreadable_wordlist", "{}", bad.display());
    }
}

#[test]
fn cancel_stops_the_run_and_says_so() {
    let t = Target::from_token(&token(Alg::HS256, b"never")).unwrap();
    let mask = Mask::parse("?a?a?a?a?a?a").unwrap();
    let cancel = AtomicBool::new(false);
    let mut calls = 0;
    let o = crack::crack(
        &t,
        Candidates::Mask(&mask),
        &CrackOptions::threads(2),
        &mut |p| {
            calls += 1;
            assert!(p.fraction < 1.0);
            if calls == 2 {
                cancel.store(true, Ordering::SeqCst);
            }
        },
        &cancel,
    );
    assert!(o.cancelled);
    assert_eq!(found(&o), None);
    assert!(o.tried > 0 && o.tried < mask.keyspace().unwrap());
    assert!(o.elapsed.as_secs() < 30);
}

#[test]
fn progress_reaches_the_end() {
    let t = Target::from_token(&token(Alg::HS256, b"absent")).unwrap();
    let list = filler(1000).join("\n");
    let mut last = None;
    crack::crack(
        &t,
        Candidates::Wordlist(list.as_bytes()),
        &CrackOptions::threads(2),
        &mut |p| last = Some(*p),
        &AtomicBool::new(false),
    );
    let last = last.expect("a final progress report");
    assert_eq!(last.tried, 1000);
    assert_eq!(last.fraction, 1.0);
    assert_eq!(last.total, Some(1000));
}

#[test]
fn only_hmac_tokens_with_a_signature_can_be_cracked() {
    let ec = PrivateKey::generate(Alg::ES256, None).unwrap();
    let es = jwt::parse(&jwt::sign(&ec, Alg::ES256, Map::new(), Map::new()).unwrap()).unwrap();
    assert_eq!(Target::from_token(&es).err().unwrap().code(), "not_hmac");
    let hs = jwt::sign(
        &PrivateKey::from_hmac_secret(b"k").unwrap(),
        Alg::HS256,
        Map::new(),
        Map::new(),
    )
    .unwrap();
    let stripped = jwt::parse(&format!("{}.", hs.rsplit_once('.').unwrap().0)).unwrap();
    assert_eq!(
        Target::from_token(&stripped).err().unwrap().code(),
        "empty_signature"
    );
    let e = Target::new(Alg::HS512, b"a.b", &[1; 32]).err().unwrap();
    assert_eq!(e.code(), "bad_signature_length");
}

#[test]
fn the_builtin_check_finds_defaults_and_their_variants() {
    let cancel = AtomicBool::new(false);
    for secret in [
        "your-256-bit-secret",
        "keyboard cat",
        "Changeme2024",
        "SUPERSECRET!",
    ] {
        let o = crack_builtin(&token(Alg::HS256, secret.as_bytes()), &mut |_| {}, &cancel).unwrap();
        assert_eq!(found(&o).as_deref(), Some(secret.as_bytes()), "{secret}");
    }
    let strong = token(Alg::HS512, b"Qm9Y2v-8rT1xWq3ZpL6uNk0sJd5hFa7cEg4iBo9yVt2M");
    let o = crack_builtin(&strong, &mut |_| {}, &cancel).unwrap();
    assert_eq!(found(&o), None);
    assert!(o.tried > 20_000, "list and mutations: {}", o.tried);
    // The cancel button.
    cancel.store(true, Ordering::SeqCst);
    let o = crack_builtin(&strong, &mut |_| {}, &cancel).unwrap();
    assert!(o.cancelled && o.tried < 20_000);
}
