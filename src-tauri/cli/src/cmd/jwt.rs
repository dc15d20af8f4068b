//! `keyward jwt ...`: inspect, verify and crack tokens. The engine is
//! `keyward_core::jwt`; this file reads flags and files and shapes output.

use crate::output::Ctx;
use clap::{ArgGroup, Subcommand};
use keyward_core::crack;
use keyward_core::crypto::Alg;
use keyward_core::duration::{parse_duration, parse_time};
use keyward_core::jwt::{
    self, Candidate, InspectOptions, Inspection, Severity, Status, VerifyOptions,
};
use keyward_core::{Error, Result};
use serde_json::{json, Value};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Subcommand)]
pub enum JwtCmd {
    /// Decode a token, explain its claims and lint it (no key needed).
    Inspect {
        /// The token, or `-` (or nothing) for stdin.
        token: Option<String>,
        /// Judge times against this instant (RFC 3339 or Unix seconds).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        /// Flag tokens that live longer than this (default 24h).
        #[arg(long, value_name = "DURATION", default_value = "24h")]
        max_lifetime: String,
    },
    /// Verify a token's signature and claims, check by check.
    #[command(group(ArgGroup::new("keysrc").required(true).args(["key", "secret_file", "key_file"])))]
    Verify {
        /// The token, or `-` (or nothing) for stdin.
        token: Option<String>,
        /// A vault key id or name.
        #[arg(long, value_name = "ID")]
        key: Option<String>,
        /// The HMAC secret: the file's exact bytes.
        #[arg(long, value_name = "PATH")]
        secret_file: Option<PathBuf>,
        /// PEM (public, private, PKCS#1, SEC1, certificate), DER, JWK or JWK Set.
        #[arg(long, value_name = "PATH")]
        key_file: Option<PathBuf>,
        /// Allow only these algorithms (repeatable); narrows what the key allows.
        #[arg(long = "alg", value_name = "ALG")]
        algs: Vec<String>,
        /// Required issuer.
        #[arg(long, value_name = "ISS")]
        iss: Option<String>,
        /// Accepted audience (repeatable; any one must be in the token's aud).
        #[arg(long = "aud", value_name = "AUD")]
        aud: Vec<String>,
        /// Clock skew tolerated for exp, nbf and iat, in seconds.
        #[arg(long, value_name = "SECONDS", default_value = "0")]
        leeway: String,
        /// Judge times against this instant (RFC 3339 or Unix seconds).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        /// A claim that must be present (repeatable).
        #[arg(long = "require", value_name = "CLAIM")]
        require: Vec<String>,
        /// Generic JWS: any payload, claim checks skipped.
        #[arg(long)]
        jws: bool,
    },
    /// Sign a token with a vault key's active version (adds iat, jti, kid).
    Sign {
        /// The vault key id or name.
        #[arg(long, value_name = "ID")]
        key: String,
        /// Claims as a JSON object, or @FILE to read them from a file.
        #[arg(long, value_name = "JSON|@FILE")]
        claims: Option<String>,
        #[arg(long, value_name = "S")]
        sub: Option<String>,
        #[arg(long, value_name = "S")]
        iss: Option<String>,
        /// Audience (repeatable: several make an array).
        #[arg(long = "aud", value_name = "S")]
        aud: Vec<String>,
        /// Lifetime: exp = now + TTL (default 1h unless --claims sets exp).
        #[arg(long, value_name = "DURATION")]
        ttl: Option<String>,
        /// Sets nbf (RFC 3339 or Unix seconds).
        #[arg(long, value_name = "TIME")]
        not_before: Option<String>,
        /// Extra header members as a JSON object (never a different alg or kid).
        #[arg(long, value_name = "JSON")]
        header: Option<String>,
    },
    /// Put a token's jti on the vault's denylist until it expires.
    #[command(group(ArgGroup::new("what").args(["token", "jti"])))]
    Revoke {
        /// The token, or `-` (or nothing) for stdin.
        token: Option<String>,
        /// Revoke this jti instead of a token (needs --until).
        #[arg(long, value_name = "JTI", requires = "until")]
        jti: Option<String>,
        /// Keep the entry until this time (RFC 3339 or Unix seconds).
        #[arg(long, value_name = "TIME", requires = "jti")]
        until: Option<String>,
    },
    /// Guess the HMAC secret of an HS256/HS384/HS512 token (wordlist, mask or built-in list).
    #[command(
        group(ArgGroup::new("source").required(true).args(["wordlist", "builtin", "mask"])),
        after_long_help = CRACK_HELP
    )]
    Crack {
        /// The token, or `-` (or nothing) for stdin.
        token: Option<String>,
        /// One candidate secret per line (`\n` or `\r\n`; empty lines skipped). Memory-mapped: any size.
        #[arg(long, value_name = "PATH")]
        wordlist: Option<PathBuf>,
        /// Use Keyward's built-in list of common JWT secrets as the wordlist.
        #[arg(long)]
        builtin: bool,
        /// Try every candidate of a hashcat-style mask: ?l ?u ?d ?s ?a ?h ?H ?b, ?? for '?', other characters literal.
        #[arg(long, value_name = "MASK")]
        mask: Option<String>,
        /// With --mask: also try the shorter lengths, from 1 (or --mask-min) up to the mask's length (or --mask-max).
        #[arg(long, requires = "mask")]
        increment: bool,
        /// With --mask: shortest candidate tried (implies --increment).
        #[arg(long, value_name = "N", requires = "mask")]
        mask_min: Option<usize>,
        /// With --mask: longest candidate tried, at most the mask's length (implies --increment).
        #[arg(long, value_name = "N", requires = "mask")]
        mask_max: Option<usize>,
        /// With a wordlist: also try case variants and common suffixes (Secret, SECRET, secret123, secret!, secret2024...).
        #[arg(long, conflicts_with = "mask")]
        mutate: bool,
        /// Worker threads (default: the number of CPUs).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: Option<u16>,
    },
}

pub fn run(ctx: &Ctx, cmd: JwtCmd) -> Result<u8> {
    match cmd {
        JwtCmd::Inspect {
            token,
            now,
            max_lifetime,
        } => inspect(ctx, token, now, &max_lifetime),
        JwtCmd::Verify {
            token,
            key,
            secret_file,
            key_file,
            algs,
            iss,
            aud,
            leeway,
            now,
            require,
            jws,
        } => {
            let keys = if key.is_some() {
                // Filled in by the vault below from the key's versions.
                jwt::KeySource::set(Vec::new())
            } else if let Some(path) = secret_file {
                let secret = jwt::load_key_file(&path)?;
                if secret.is_empty() {
                    return Err(Error::invalid(
                        "empty_secret",
                        format!("{}: the secret file is empty", path.display()),
                    ));
                }
                jwt::KeySource::Single(Candidate::hmac_secret(&secret, file_label(&path)))
            } else if let Some(path) = key_file {
                let bytes = jwt::load_key_file(&path)?;
                jwt::key_source_from_file(&bytes, &file_label(&path))?
            } else {
                // clap's required group guarantees one key source.
                return Err(Error::invalid(
                    "usage",
                    "give --key, --secret-file or --key-file",
                ));
            };
            let token = read_token(token)?;
            let mut opts = VerifyOptions::new(keys, parse_now(now)?);
            opts.algs = algs
                .iter()
                .map(|a| a.parse::<Alg>())
                .collect::<Result<_>>()?;
            opts.iss = iss;
            opts.aud = aud;
            opts.leeway = parse_leeway(&leeway)?;
            opts.require = require;
            opts.jws = jws;
            let parsed = jwt::parse(&token)?;
            let v = match key {
                Some(id) => ctx.open_vault()?.verify_token(&id, &parsed, opts)?,
                None => jwt::verify_owned(parsed, &opts),
            };
            report_verification(ctx, &v)
        }
        JwtCmd::Sign {
            key,
            claims,
            sub,
            iss,
            aud,
            ttl,
            not_before,
            header,
        } => sign(ctx, key, claims, sub, iss, aud, ttl, not_before, header),
        JwtCmd::Revoke { token, jti, until } => revoke(ctx, token, jti, until),
        JwtCmd::Crack {
            token,
            wordlist,
            builtin,
            mask,
            increment,
            mask_min,
            mask_max,
            mutate,
            threads,
        } => crack(
            ctx,
            CrackArgs {
                token,
                wordlist,
                builtin,
                mask,
                increment,
                mask_min,
                mask_max,
                mutate,
                threads,
            },
        ),
    }
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The token argument, or stdin for `-`/none; surrounding whitespace trimmed.
fn read_token(arg: Option<String>) -> Result<String> {
    let text = match arg.as_deref() {
        Some("-") | None => {
            let mut s = String::new();
            std::io::stdin()
                .take(jwt::MAX_TOKEN_BYTES as u64 + 1024)
                .read_to_string(&mut s)
                .map_err(|e| {
                    Error::invalid(
                        "bad_input",
                        format!("cannot read the token from stdin: {e}"),
                    )
                })?;
            s
        }
        Some(t) => t.to_string(),
    };
    Ok(text.trim().to_string())
}

fn parse_now(now: Option<String>) -> Result<chrono::DateTime<chrono::Utc>> {
    match now {
        Some(t) => parse_time(&t),
        None => Ok(chrono::Utc::now()),
    }
}

fn parse_leeway(text: &str) -> Result<i64> {
    if let Ok(n) = text.trim().parse::<u32>() {
        return Ok(i64::from(n));
    }
    parse_duration(text).map(|d| d.num_seconds()).map_err(|_| {
        Error::invalid(
            "bad_leeway",
            format!("invalid --leeway {text:?}: give a number of seconds (for example 30)"),
        )
    })
}

fn inspect(
    ctx: &Ctx,
    token: Option<String>,
    now: Option<String>,
    max_lifetime: &str,
) -> Result<u8> {
    let text = read_token(token)?;
    let token = jwt::parse(&text)?;
    let mut opts = InspectOptions::at(parse_now(now)?);
    opts.max_lifetime = parse_duration(max_lifetime)?.num_seconds();
    let report = jwt::inspect(&token, &opts);
    let mut doc = serde_json::to_value(&report).unwrap_or(Value::Null);
    // Which vault key the kid names, when a vault exists (never created here).
    // Best effort: inspect needs no vault, so a broken one does not stop it.
    let vault_key = ctx
        .open_existing_vault()
        .ok()
        .flatten()
        .and_then(|vault| vault.describe_kid(&token).ok().flatten());
    doc["vault_key"] = serde_json::to_value(&vault_key).unwrap_or(Value::Null);
    ctx.emit(&doc, || {
        let mut out = human_inspection(&report);
        if let Some(k) = &vault_key {
            out.push_str(&format!("\nVault: {}\n", k.summary));
        }
        out
    });
    Ok(0)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn human_inspection(r: &Inspection) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Header\n{}\n",
        pretty(&Value::Object(r.header.clone()))
    ));
    match &r.payload_text {
        Some(text) => out.push_str(&format!("\nPayload (not a claims set)\n{text}\n")),
        None => out.push_str(&format!("\nClaims\n{}\n", pretty(&r.claims))),
    }
    if !r.registered.is_empty() {
        out.push_str("\nRegistered claims\n");
        for c in &r.registered {
            out.push_str(&format!("  {:<4} {}\n", c.claim, c.explained));
        }
    }
    out.push_str(&format!(
        "\nSignature: {} ({} bytes)\n",
        r.alg, r.signature_bytes
    ));
    if r.lints.is_empty() {
        out.push_str("\nLint: nothing to report\n");
    } else {
        out.push_str("\nLint\n");
        for l in &r.lints {
            let sev = match l.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            out.push_str(&format!("  {sev:<7} {:<20} {}\n", l.id, l.message));
        }
    }
    out
}

fn report_verification(ctx: &Ctx, v: &jwt::Verification) -> Result<u8> {
    let doc = json!({
        "valid": v.valid,
        "reason": v.reason,
        "header": v.header,
        "claims": v.claims,
        "checks": v.checks,
        "key": v.key,
    });
    ctx.emit(&doc, || {
        if ctx.quiet {
            return match &v.reason {
                None => "valid".into(),
                Some(r) => format!("invalid: {r}"),
            };
        }
        let mut out = match &v.reason {
            None => "VALID\n".to_string(),
            Some(r) => format!("INVALID: {r}\n"),
        };
        for c in &v.checks {
            let mark = match c.status {
                Status::Pass => "pass",
                Status::Fail => "FAIL",
                Status::Warn => "warn",
                Status::Skipped => "skip",
            };
            out.push_str(&format!(
                "  [{mark}] {:<10} {}\n",
                c.check.as_str(),
                c.detail
            ));
        }
        out
    });
    Ok(if v.valid { 0 } else { 1 })
}

const CRACK_HELP: &str = "\
Sources (exactly one): --wordlist PATH, --builtin (Keyward's list of common JWT secrets), --mask MASK.

Masks, hashcat-style, one position per token:
  ?l a-z   ?u A-Z   ?d 0-9   ?s space and !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~
  ?a ?l?u?d?s (95)   ?h 0-9a-f   ?H 0-9A-F   ?b any byte   ?? a literal '?'
  Any other character stands for itself: 'key-?d?d?d' tries key-000 to key-999.
  A mask of N positions tries candidates of exactly N bytes. --increment tries every
  length from 1 to N (the mask's first positions); --mask-min/--mask-max narrow that range
  and imply --increment: --mask '?a?a?a?a?a?a' --mask-min 4 tries lengths 4, 5 and 6.

--mutate (wordlists): each word as written, lower-case, Capitalised and UPPER-case, each
  bare or followed by one of 1 12 123 1234 12345 123456 0 00 01 2 3 7 69 99 007 ! !! 1! 123!
  ? . @ # $ * _ 2015..2026, plus one leetspeak spelling (secret -> 53cr37).

Output: the secret on stdout and exit 0; exit 1 when every candidate was tried. A secret
  that is not UTF-8 prints as hex:<hex>. With --json: {\"found\", \"secret\" (null when not
  found or not UTF-8), \"secret_hex\", \"alg\", \"tried\", \"elapsed_ms\", \"rate\" (candidates/s),
  \"interrupted\"}.
Progress (percent, candidates/s, ETA) goes to stderr: a bar on a terminal, a plain line
  every 5 seconds otherwise, nothing with --quiet.
Ctrl-C stops every thread, prints how many candidates were tried and exits 130 (a second
  Ctrl-C exits at once).
Exit 2: not an HS256/HS384/HS512 token, an empty signature, an unreadable wordlist, a bad
  mask or mask length.";

/// The flags of `jwt crack`.
struct CrackArgs {
    token: Option<String>,
    wordlist: Option<PathBuf>,
    builtin: bool,
    mask: Option<String>,
    increment: bool,
    mask_min: Option<usize>,
    mask_max: Option<usize>,
    mutate: bool,
    threads: Option<u16>,
}

/// Set by Ctrl-C; the cracker's workers watch it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn crack(ctx: &Ctx, a: CrackArgs) -> Result<u8> {
    let text = read_token(a.token)?;
    let token = jwt::parse(&text)?;
    let target = crack::Target::from_token(&token)?;
    // Everything that can be bad input is checked before any work starts.
    if a.mask.is_none() && (a.increment || a.mask_min.is_some() || a.mask_max.is_some()) {
        return Err(Error::invalid(
            "usage",
            "--increment, --mask-min and --mask-max go with --mask",
        ));
    }
    let (list, mask);
    let candidates = if let Some(m) = &a.mask {
        let mut parsed = crack::Mask::parse(m)?;
        if a.increment || a.mask_min.is_some() || a.mask_max.is_some() {
            let n = parsed.len();
            parsed = parsed.with_lengths(a.mask_min.unwrap_or(1), a.mask_max.unwrap_or(n))?;
        }
        mask = parsed;
        crack::Candidates::Mask(&mask)
    } else if a.builtin {
        crack::Candidates::Wordlist(crack::builtin_wordlist())
    } else if let Some(path) = &a.wordlist {
        list = crack::Wordlist::open(path)?;
        crack::Candidates::Wordlist(list.bytes())
    } else {
        // clap's required group makes this unreachable.
        return Err(Error::invalid(
            "usage",
            "give --wordlist PATH, --builtin or --mask MASK",
        ));
    };
    let threads = a.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let mut opts = crack::CrackOptions::threads(threads);
    opts.mutate = a.mutate;
    // A second Ctrl-C does not wait for the workers. If a handler cannot be
    // installed, Ctrl-C keeps its default effect (the process ends).
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let mut bar = CrackBar::new(ctx.quiet);
    let outcome = crack::crack(
        &target,
        candidates,
        &opts,
        &mut |p| bar.update(p),
        &INTERRUPTED,
    );
    bar.finish();
    let elapsed = outcome.elapsed.as_secs_f64();
    let summary = format!(
        "tried {} candidates in {elapsed:.2}s ({}/s, {threads} thread{})",
        outcome.tried,
        si(outcome.rate()),
        if threads == 1 { "" } else { "s" }
    );
    if outcome.cancelled {
        eprintln!("keyward: interrupted: {summary}; secret not found");
    } else {
        ctx.note(&summary);
    }
    let secret_text = outcome
        .found
        .as_ref()
        .and_then(|s| s.expose_str().map(str::to_string));
    let secret_hex = outcome.found.as_ref().map(|s| hex(s.expose()));
    let mut doc = json!({
        "found": outcome.found.is_some(),
        "secret": secret_text,
        "alg": outcome.alg.as_str(),
        "tried": outcome.tried,
        "elapsed_ms": outcome.elapsed.as_millis() as u64,
        "rate": outcome.rate().round(),
        "interrupted": outcome.cancelled,
    });
    if let Some(h) = &secret_hex {
        doc["secret_hex"] = json!(h);
    }
    ctx.emit(&doc, || match (&secret_text, &secret_hex) {
        (Some(t), _) => t.clone(),
        (None, Some(h)) => format!("hex:{h}"),
        (None, None) if outcome.cancelled => String::new(),
        (None, None) => "not found: no candidate is the secret".into(),
    });
    Ok(match (&outcome.found, outcome.cancelled) {
        (Some(_), _) => 0,
        (None, true) => 130,
        (None, false) => 1,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 1234567.0 → "1.23M".
fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2}G", x / 1e9),
        x if x >= 1e6 => format!("{:.2}M", x / 1e6),
        x if x >= 1e3 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

fn hms(d: std::time::Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Progress on stderr: a bar on a terminal, a line every few seconds otherwise.
enum CrackBar {
    Quiet,
    Bar(indicatif::ProgressBar),
    Lines(std::time::Instant),
}

impl CrackBar {
    const STEPS: u64 = 10_000;

    fn new(quiet: bool) -> Self {
        if quiet {
            return CrackBar::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return CrackBar::Lines(std::time::Instant::now());
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(Self::STEPS),
            indicatif::ProgressDrawTarget::stderr(),
        );
        // The template is a constant known to parse.
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30.cyan/blue} {percent:>3}% {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        CrackBar::Bar(bar)
    }

    fn text(p: &crack::CrackProgress) -> String {
        let eta = p.eta().map_or_else(|| "-".into(), hms);
        format!("{} tried, {}/s, ETA {eta}", p.tried, si(p.rate()))
    }

    fn update(&mut self, p: &crack::CrackProgress) {
        match self {
            CrackBar::Quiet => {}
            CrackBar::Bar(bar) => {
                bar.set_position((p.fraction * Self::STEPS as f64) as u64);
                bar.set_message(Self::text(p));
            }
            CrackBar::Lines(last) => {
                if last.elapsed() >= std::time::Duration::from_secs(5) {
                    *last = std::time::Instant::now();
                    eprintln!("jwt crack: {:.1}% {}", p.fraction * 100.0, Self::text(p));
                }
            }
        }
    }

    fn finish(&self) {
        if let CrackBar::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// `--claims JSON` or `--claims @FILE`.
fn claims_arg(arg: Option<String>) -> Result<serde_json::Map<String, Value>> {
    let Some(arg) = arg else {
        return Ok(serde_json::Map::new());
    };
    let bytes = match arg.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|e| {
            Error::invalid(
                "unreadable_file",
                format!("cannot read claims file {path}: {e}"),
            )
        })?,
        None => arg.into_bytes(),
    };
    jwt::parse_json_object(&bytes, "--claims")
}

#[allow(clippy::too_many_arguments)]
fn sign(
    ctx: &Ctx,
    key: String,
    claims: Option<String>,
    sub: Option<String>,
    iss: Option<String>,
    aud: Vec<String>,
    ttl: Option<String>,
    not_before: Option<String>,
    header: Option<String>,
) -> Result<u8> {
    let claims = claims_arg(claims)?;
    let header = match header {
        Some(h) => jwt::parse_json_object(h.as_bytes(), "--header")?,
        None => serde_json::Map::new(),
    };
    let ttl = match ttl {
        Some(t) => Some(keyward_core::duration::parse_positive(&t)?),
        None if claims.contains_key("exp") => None,
        None => Some(chrono::Duration::hours(1)),
    };
    let not_before = not_before.as_deref().map(parse_time).transpose()?;
    let mut vault = ctx.open_vault()?;
    let signed = vault.sign_token(
        &key,
        jwt::SignRequest {
            claims,
            sub,
            iss,
            aud,
            ttl,
            not_before,
            header,
        },
    )?;
    ctx.emit(
        &json!({"token": signed.token, "jti": signed.jti, "iat": signed.iat, "exp": signed.exp}),
        || signed.token.clone(),
    );
    Ok(0)
}

fn revoke(
    ctx: &Ctx,
    token: Option<String>,
    jti: Option<String>,
    until: Option<String>,
) -> Result<u8> {
    let mut vault;
    let r = match (jti, until) {
        (Some(jti), Some(until)) => {
            let until = parse_time(&until)?.timestamp();
            vault = ctx.open_vault()?;
            vault.revoke_jti(&jti, Some(until))?
        }
        _ => {
            let text = read_token(token)?;
            let token = jwt::parse(&text)?;
            vault = ctx.open_vault()?;
            vault.revoke_token(&token)?
        }
    };
    let whom = if r.team { " for the whole team" } else { "" };
    ctx.emit(
        &serde_json::to_value(&r).unwrap_or(Value::Null),
        || match r.until {
            Some(u) => format!(
                "revoked jti {}{whom} until {}",
                r.jti,
                chrono::DateTime::from_timestamp(u, 0)
                    .map(keyward_core::duration::rfc3339)
                    .unwrap_or_default()
            ),
            None => format!(
                "revoked jti {}{whom} (the token has no exp: kept for good)",
                r.jti
            ),
        },
    );
    Ok(0)
}
