//! `keyward jwt ...`: inspect, verify and crack tokens. The engine is
//! `keyward_core::jwt`; this file reads flags and files and shapes output.

use crate::output::Ctx;
use clap::{ArgGroup, Subcommand};
use keyward_core::crypto::Alg;
use keyward_core::duration::{parse_duration, parse_time};
use keyward_core::jwt::{
    self, Candidate, InspectOptions, Inspection, Severity, Status, VerifyOptions,
};
use keyward_core::{Error, Result};
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

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
    /// Try a wordlist of HMAC secrets against an HS* token.
    Crack {
        /// The token, or `-` (or nothing) for stdin.
        token: Option<String>,
        /// One candidate secret per line.
        #[arg(long, value_name = "PATH")]
        wordlist: PathBuf,
        /// Worker threads (default: the number of CPUs).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
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
                None => jwt::verify(&parsed, &opts),
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
            threads,
        } => crack(ctx, token, &wordlist, threads),
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

fn crack(ctx: &Ctx, token: Option<String>, wordlist: &Path, threads: Option<usize>) -> Result<u8> {
    let text = read_token(token)?;
    let token = jwt::parse(&text)?;
    let words = std::fs::read(wordlist).map_err(|e| {
        Error::invalid(
            "unreadable_wordlist",
            format!("cannot read wordlist {}: {e}", wordlist.display()),
        )
    })?;
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let quiet = ctx.quiet;
    let progress = move |p: jwt::CrackProgress| {
        if !quiet {
            eprint!(
                "\rtried {}/{} ({:.0}/s, ETA {}s)   ",
                p.tried,
                p.total,
                p.rate(),
                p.eta().as_secs()
            );
        }
    };
    let found = jwt::crack(&token, &words, threads, &progress)?;
    if !quiet {
        eprintln!();
    }
    match found {
        Some(secret) => {
            let shown = secret
                .expose_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{:?}", secret.expose()));
            ctx.emit(&json!({"found": true, "secret": shown}), || shown.clone());
            Ok(0)
        }
        None => {
            ctx.emit(&json!({"found": false, "secret": null}), || {
                "not found: no line of the wordlist is the secret".into()
            });
            Ok(1)
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
    ctx.emit(
        &serde_json::to_value(&r).unwrap_or(Value::Null),
        || match r.until {
            Some(u) => format!(
                "revoked jti {} until {}",
                r.jti,
                chrono::DateTime::from_timestamp(u, 0)
                    .map(keyward_core::duration::rfc3339)
                    .unwrap_or_default()
            ),
            None => format!(
                "revoked jti {} (the token has no exp: kept for good)",
                r.jti
            ),
        },
    );
    Ok(0)
}
