//! `keyward key ...` and `keyward apikey verify`.

use crate::output::Ctx;
use clap::{Subcommand, ValueEnum};
use keyward_core::crypto::Alg;
use keyward_core::duration::{parse_duration, parse_positive};
use keyward_core::keys::{KeyKind, KeyState};
use keyward_core::vault::{ExportFormat, KeyFilter, NewApiKey, NewSigningKey};
use keyward_core::{Error, Result, SecretBytes};
use serde_json::json;
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Api,
    Signing,
}

impl From<Kind> for KeyKind {
    fn from(k: Kind) -> KeyKind {
        match k {
            Kind::Api => KeyKind::Api,
            Kind::Signing => KeyKind::Signing,
        }
    }
}

/// Where a signing key's private half is kept.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Custody {
    /// The vault's secret store (OS keychain, or OpenBao KV for a team vault).
    Local,
    /// OpenBao's transit engine (team vaults): non-exportable.
    Transit,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Pem,
    Jwk,
}

#[derive(Subcommand)]
pub enum KeyCmd {
    /// Create a key: an API key, or a signing key (--alg required).
    New {
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long)]
        name: String,
        /// HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA.
        #[arg(long)]
        alg: Option<String>,
        /// RSA modulus size: 2048, 3072 or 4096.
        #[arg(long)]
        bits: Option<usize>,
        /// Each version expires this long after it is created (e.g. 90d).
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        /// A scope recorded with the key (repeatable).
        #[arg(long = "scope", value_name = "S")]
        scopes: Vec<String>,
        /// API key prefix, 2-12 characters a-z0-9 (default kw).
        #[arg(long)]
        prefix: Option<String>,
        #[arg(long)]
        note: Option<String>,
        /// Signing keys of a team vault: `transit` keeps the private key in
        /// OpenBao's transit engine (never exportable).
        #[arg(long, value_enum)]
        custody: Option<Custody>,
    },
    /// Import an API key (stdin) or a signing key (PEM, JWK, or an HMAC secret's bytes).
    Import {
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long)]
        name: String,
        #[arg(long)]
        alg: Option<String>,
        /// Read the key from this file instead of stdin.
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long = "scope", value_name = "S")]
        scopes: Vec<String>,
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
    },
    /// List keys (never secrets).
    List {
        #[arg(long, value_enum)]
        kind: Option<Kind>,
        /// pending, active, grace, expired, disabled, revoked, destroy-scheduled.
        #[arg(long)]
        state: Option<String>,
    },
    /// Show a key and its versions.
    Show { id: String },
    /// Make a new version active; the old one verifies until its grace period ends.
    Rotate {
        id: String,
        /// How long the previous version keeps verifying (default: the key's policy, else 24h).
        #[arg(long, value_name = "DURATION", conflicts_with = "stage")]
        grace: Option<String>,
        /// Stage the new version as `pending`: published in the JWKS and
        /// verifying, not signing until `key promote`.
        #[arg(long)]
        stage: bool,
    },
    /// Make the staged version active once it has been published long enough.
    Promote {
        id: String,
        /// Refuse until the staged version has been published this long (default 0s).
        #[arg(long, value_name = "DURATION", default_value = "0s")]
        min_published: String,
    },
    /// Switch off one version or every live one (reversible with `enable`).
    Disable {
        id: String,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long)]
        reason: String,
        /// Even if tokens it signed may still be live (see `key policy --max-token-ttl`).
        #[arg(long)]
        force: bool,
    },
    /// Switch disabled versions back on, in the state they had.
    Enable {
        id: String,
        #[arg(long)]
        version: Option<u32>,
    },
    /// Show or change a key's lifecycle policy (0s turns a setting off).
    Policy {
        id: String,
        /// Rotate automatically this long after the active version was activated.
        #[arg(long, value_name = "DURATION")]
        auto_rotate: Option<String>,
        /// Default grace period of rotations and promotions.
        #[arg(long, value_name = "DURATION")]
        grace: Option<String>,
        /// The longest lifetime of tokens this key signs: revoke/disable of a
        /// version that signed within it needs --force.
        #[arg(long, value_name = "DURATION")]
        max_token_ttl: Option<String>,
    },
    /// Overdue rotations, expiring keys, ending grace periods, due destructions.
    Due {
        /// Look this far ahead (default 7d).
        #[arg(long, value_name = "DURATION", default_value = "7d")]
        within: String,
        /// Perform the due rotations and destructions (audited as actor `system`).
        #[arg(long)]
        apply: bool,
    },
    /// Revoke one version, or every version.
    Revoke {
        id: String,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long)]
        reason: String,
        /// Even if tokens it signed may still be live (see `key policy --max-token-ttl`).
        #[arg(long)]
        force: bool,
    },
    /// Print a version's secret (audited).
    Reveal {
        id: String,
        #[arg(long)]
        version: Option<u32>,
    },
    /// Export a signing key as PEM or JWK (the private form is audited).
    Export {
        id: String,
        #[arg(long)]
        version: Option<u32>,
        #[arg(long, value_enum)]
        format: Format,
        /// Only the public part.
        #[arg(long)]
        public: bool,
    },
    /// Print the JWKS of signing keys' verifying versions.
    Jwks { ids: Vec<String> },
    /// Schedule destruction (default in 30d; 0s destroys now). Revoke first.
    Delete {
        id: String,
        #[arg(long, value_name = "DURATION", default_value = "30d")]
        after: String,
    },
    /// Cancel a scheduled destruction.
    Restore { id: String },
}

#[derive(Subcommand)]
pub enum ApikeyCmd {
    /// Check an API key: exit 0 live, 1 unknown/revoked/expired, 2 malformed.
    Verify {
        /// The key; read from stdin when absent or `-`.
        key: Option<String>,
    },
}

fn parse_alg(s: &str) -> Result<Alg> {
    s.parse::<Alg>()
}

fn read_input(file: Option<&PathBuf>) -> Result<SecretBytes> {
    let mut buf = Vec::new();
    match file {
        Some(p) => {
            buf = std::fs::read(p).map_err(|e| {
                Error::invalid(
                    "unreadable_file",
                    format!("cannot read {}: {e}", p.display()),
                )
            })?;
        }
        None => {
            std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                Error::invalid("unreadable_stdin", format!("cannot read stdin: {e}"))
            })?;
        }
    }
    if buf.is_empty() {
        return Err(Error::invalid(
            "empty_input",
            "no key given: pass --file PATH or pipe the key on stdin",
        ));
    }
    Ok(SecretBytes::new(buf))
}

/// Writes a secret to stdout without leaving copies in our own buffers.
fn print_secret(secret: &SecretBytes) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(secret.expose())
        .and_then(|_| {
            if !secret.expose().ends_with(b"\n") {
                out.write_all(b"\n")?;
            }
            out.flush()
        })
        .map_err(|e| Error::Io(format!("cannot write to stdout: {e}")))
}

fn secret_str(secret: &SecretBytes) -> String {
    secret.expose_str().unwrap_or_default().to_string()
}

pub fn run(ctx: &Ctx, cmd: KeyCmd) -> Result<u8> {
    match cmd {
        KeyCmd::New {
            kind,
            name,
            alg,
            bits,
            expires_in,
            scopes,
            prefix,
            note,
            custody,
        } => {
            let expires_in = expires_in.as_deref().map(parse_positive).transpose()?;
            match kind {
                Kind::Api => {
                    if custody.is_some() {
                        return Err(Error::invalid(
                            "bad_flag",
                            "--custody applies to --kind signing only",
                        ));
                    }
                    if alg.is_some() || bits.is_some() {
                        return Err(Error::invalid(
                            "bad_flag",
                            "--alg and --bits apply to --kind signing only",
                        ));
                    }
                    let mut vault = ctx.open_vault()?;
                    let issued = vault.create_api_key(NewApiKey {
                        name,
                        prefix,
                        scopes,
                        expires_in,
                        note,
                    })?;
                    if ctx.json {
                        let mut doc = serde_json::to_value(&issued).unwrap_or_default();
                        doc["secret"] = json!(secret_str(&issued.secret));
                        ctx.emit(&doc, String::new);
                    } else {
                        print_secret(&issued.secret)?;
                        ctx.note(&format!(
                            "created API key {} ({}). Store it now: it is shown only once (`keyward key reveal {}` is audited).",
                            issued.name, issued.id, issued.id
                        ));
                    }
                }
                Kind::Signing => {
                    if prefix.is_some() {
                        return Err(Error::invalid(
                            "bad_flag",
                            "--prefix applies to --kind api only",
                        ));
                    }
                    let alg = alg.ok_or_else(|| {
                        Error::invalid("alg_required", "--alg is required for --kind signing (HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA)")
                    })?;
                    let alg = parse_alg(&alg)?;
                    let mut vault = ctx.open_vault()?;
                    let req = NewSigningKey {
                        name,
                        alg,
                        bits,
                        expires_in,
                        scopes,
                        note,
                    };
                    let created = match custody {
                        Some(Custody::Transit) => vault.create_transit_signing_key(req)?,
                        _ => vault.create_signing_key(req)?,
                    };
                    ctx.emit(&serde_json::to_value(&created).unwrap_or_default(), || {
                        created.id.clone()
                    });
                    if !ctx.json {
                        ctx.note(&format!(
                            "created {} signing key {} version 1, kid {}",
                            created.alg, created.name, created.kid
                        ));
                    }
                }
            }
            Ok(0)
        }
        KeyCmd::Import {
            kind,
            name,
            alg,
            file,
            scopes,
            expires_in,
        } => {
            let expires_in = expires_in.as_deref().map(parse_positive).transpose()?;
            let alg = alg.as_deref().map(parse_alg).transpose()?;
            let input = read_input(file.as_ref())?;
            let mut vault = ctx.open_vault()?;
            match kind {
                Kind::Api => {
                    if alg.is_some() {
                        return Err(Error::invalid(
                            "bad_flag",
                            "--alg applies to --kind signing only",
                        ));
                    }
                    let imported = vault.import_api_key(&name, input, scopes, expires_in)?;
                    ctx.emit(&serde_json::to_value(&imported).unwrap_or_default(), || {
                        imported.id.clone()
                    });
                }
                Kind::Signing => {
                    let created =
                        vault.import_signing_key(&name, alg, input.expose(), scopes, expires_in)?;
                    // Weak HMAC secrets are imported all the same, with a warning.
                    let weak = keyward_core::crack::import_warnings(&created.alg, input.expose());
                    let mut doc = serde_json::to_value(&created).unwrap_or_default();
                    for w in &weak {
                        eprintln!("warning: {}", w.message);
                    }
                    if !weak.is_empty() {
                        doc["warnings"] = json!(weak);
                    }
                    ctx.emit(&doc, || created.id.clone());
                }
            }
            Ok(0)
        }
        KeyCmd::List { kind, state } => {
            let state = state.as_deref().map(KeyState::parse).transpose()?;
            let vault = ctx.open_vault()?;
            let keys = vault.list_keys(&KeyFilter {
                kind: kind.map(Into::into),
                state,
            })?;
            ctx.emit(&json!({ "keys": keys }), || {
                if keys.is_empty() {
                    return "no keys (create one with `keyward key new --kind api --name NAME`)"
                        .into();
                }
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.id.clone(),
                            k.name.clone(),
                            k.kind.as_str().into(),
                            k.alg.clone().unwrap_or_else(|| "-".into()),
                            k.state.as_str().into(),
                            format!("v{}", k.version),
                            k.expires_at.clone().unwrap_or_else(|| "never".into()),
                        ]
                    })
                    .collect();
                table(
                    &["ID", "NAME", "KIND", "ALG", "STATE", "VER", "EXPIRES"],
                    &rows,
                )
            });
            Ok(0)
        }
        KeyCmd::Show { id } => {
            let vault = ctx.open_vault()?;
            let d = vault.show_key(&id)?;
            let mut doc = serde_json::to_value(&d).unwrap_or_default();
            // Team vaults: who changed the key last (from its OpenBao document).
            let last = vault.last_change(&d.summary.id)?;
            if let Some(l) = &last {
                doc["last_change"] = serde_json::to_value(l).unwrap_or_default();
            }
            ctx.emit(&doc, || {
                let s = &d.summary;
                let mut out = format!(
                    "{} ({})\n  kind     {}\n  alg      {}\n  state    {}\n  version  {}\n  created  {}\n  expires  {}\n",
                    s.name,
                    s.id,
                    s.kind.as_str(),
                    s.alg.as_deref().unwrap_or("-"),
                    s.state.as_str(),
                    s.version,
                    s.created_at,
                    s.expires_at.as_deref().unwrap_or("never"),
                );
                if !s.scopes.is_empty() {
                    out.push_str(&format!("  scopes   {}\n", s.scopes.join(", ")));
                }
                if let Some(l) = &last {
                    out.push_str(&format!(
                        "  changed  {} by {}\n",
                        l.at.as_deref().unwrap_or("?"),
                        l.by.as_deref().unwrap_or("?")
                    ));
                }
                if let Some(at) = &s.destroy_at {
                    out.push_str(&format!("  destroy  {at} (restore with `keyward key restore {}`)\n", s.id));
                }
                let rows: Vec<Vec<String>> = d
                    .versions
                    .iter()
                    .map(|v| {
                        vec![
                            format!("v{}", v.version),
                            v.state.as_str().into(),
                            v.created_at.clone(),
                            v.grace_until.clone().or(v.not_after.clone()).unwrap_or_else(|| "-".into()),
                            v.thumbprint
                                .clone()
                                .or_else(|| v.last4.as_ref().map(|l| format!("…{l}")))
                                .or_else(|| v.kid.clone())
                                .unwrap_or_else(|| "-".into()),
                        ]
                    })
                    .collect();
                out.push('\n');
                out.push_str(&table(&["VERSION", "STATE", "CREATED", "UNTIL", "THUMBPRINT / KID"], &rows));
                out
            });
            Ok(0)
        }
        KeyCmd::Rotate { id, grace, stage } => {
            let grace = grace.as_deref().map(parse_duration).transpose()?;
            let mut vault = ctx.open_vault()?;
            let r = if stage {
                vault.stage_rotation(&id)?
            } else {
                vault.rotate(&id, grace)?
            };
            let mut doc = serde_json::to_value(&r).unwrap_or_default();
            if let Some(s) = &r.secret {
                doc["secret"] = json!(secret_str(s));
            }
            let until = r
                .grace_until
                .clone()
                .map(|t| format!("v{} verifies until {t}", r.previous_version))
                .unwrap_or_else(|| {
                    format!(
                        "v{} stays active until `keyward key promote {}`",
                        r.previous_version, r.id
                    )
                });
            if ctx.json {
                ctx.emit(&doc, String::new);
            } else if let Some(s) = &r.secret {
                print_secret(s)?;
                ctx.note(&format!(
                    "rotated {} to v{} ({}); {until}. Store the new key now: it is shown only once.",
                    r.name,
                    r.version,
                    r.state.as_str()
                ));
            } else {
                ctx.emit(&doc, || {
                    format!(
                        "rotated {} to v{} ({}, kid {}); {until}",
                        r.name,
                        r.version,
                        r.state.as_str(),
                        r.thumbprint.clone().or(r.kid.clone()).unwrap_or_default(),
                    )
                });
            }
            Ok(0)
        }
        KeyCmd::Revoke {
            id,
            version,
            reason,
            force,
        } => {
            let mut vault = ctx.open_vault()?;
            let versions = vault.revoke_with(&id, version, &reason, force)?;
            let d = vault.show_key(&id)?;
            ctx.emit(
                &json!({"id": d.summary.id, "name": d.summary.name, "revoked_versions": versions}),
                || {
                    format!(
                        "revoked {} {}",
                        d.summary.name,
                        versions
                            .iter()
                            .map(|v| format!("v{v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            );
            Ok(0)
        }
        KeyCmd::Reveal { id, version } => {
            let mut vault = ctx.open_vault()?;
            let secret = vault.reveal(&id, version)?;
            if ctx.json {
                ctx.emit(
                    &json!({"id": id, "secret": secret_str(&secret)}),
                    String::new,
                );
            } else {
                print_secret(&secret)?;
            }
            Ok(0)
        }
        KeyCmd::Export {
            id,
            version,
            format,
            public,
        } => {
            let mut vault = ctx.open_vault()?;
            let f = match format {
                Format::Pem => ExportFormat::Pem,
                Format::Jwk => ExportFormat::Jwk,
            };
            let out = vault.export(&id, version, f, public)?;
            if ctx.json {
                let text = secret_str(&out.text);
                let doc = match format {
                    Format::Jwk => serde_json::from_str(&text).unwrap_or(json!(text)),
                    Format::Pem => json!({"pem": text}),
                };
                ctx.emit(&doc, String::new);
            } else {
                print_secret(&out.text)?;
            }
            Ok(0)
        }
        KeyCmd::Jwks { ids } => {
            let vault = ctx.open_vault()?;
            let jwks = vault.jwks(&ids)?;
            // A JWKS is JSON either way.
            println!(
                "{}",
                serde_json::to_string_pretty(&jwks).unwrap_or_default()
            );
            Ok(0)
        }
        KeyCmd::Delete { id, after } => {
            let after = parse_duration(&after)?;
            let mut vault = ctx.open_vault()?;
            let at = vault.delete(&id, after)?;
            ctx.emit(
                &json!({"id": id, "destroy_at": at, "destroyed": at.is_none()}),
                || match &at {
                    Some(at) => format!(
                        "{id} will be destroyed at {at} (undo with `keyward key restore {id}`)"
                    ),
                    None => format!("{id} destroyed"),
                },
            );
            Ok(0)
        }
        KeyCmd::Promote { id, min_published } => {
            let min = parse_duration(&min_published)?;
            let mut vault = ctx.open_vault()?;
            let v = vault.promote(&id, min)?;
            let d = vault.show_key(&id)?;
            ctx.emit(&json!({"id": d.summary.id, "name": d.summary.name, "version": v, "state": "active"}), || {
                format!("promoted {} v{v} to active", d.summary.name)
            });
            Ok(0)
        }
        KeyCmd::Disable {
            id,
            version,
            reason,
            force,
        } => {
            let mut vault = ctx.open_vault()?;
            let done = vault.disable(&id, version, &reason, force)?;
            ctx.emit(&json!({"id": id, "disabled_versions": done}), || {
                format!(
                    "disabled {id} {}",
                    done.iter()
                        .map(|v| format!("v{v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
            Ok(0)
        }
        KeyCmd::Enable { id, version } => {
            let mut vault = ctx.open_vault()?;
            let done = vault.enable(&id, version)?;
            let list: Vec<_> = done
                .iter()
                .map(|(v, s)| json!({"version": v, "state": s}))
                .collect();
            ctx.emit(&json!({"id": id, "enabled": list}), || {
                let parts: Vec<String> = done
                    .iter()
                    .map(|(v, s)| format!("v{v} ({})", s.as_str()))
                    .collect();
                format!("enabled {id} {}", parts.join(", "))
            });
            Ok(0)
        }
        KeyCmd::Policy {
            id,
            auto_rotate,
            grace,
            max_token_ttl,
        } => {
            let change = keyward_core::vault::PolicyChange {
                auto_rotate: auto_rotate.as_deref().map(parse_duration).transpose()?,
                grace: grace.as_deref().map(parse_duration).transpose()?,
                max_token_ttl: max_token_ttl.as_deref().map(parse_duration).transpose()?,
            };
            let mut vault = ctx.open_vault()?;
            let unchanged = change.auto_rotate.is_none()
                && change.grace.is_none()
                && change.max_token_ttl.is_none();
            let policy = if unchanged {
                vault.show_key(&id)?.summary.policy
            } else {
                vault.set_policy(&id, change)?
            };
            let d = vault.show_key(&id)?;
            ctx.emit(&json!({"id": d.summary.id, "name": d.summary.name, "policy": policy, "next_rotation_at": d.summary.next_rotation_at}), || {
                let off = |v: &Option<String>| v.clone().unwrap_or_else(|| "off".into());
                format!(
                    "{} ({})\n  auto-rotate    {}\n  grace          {}\n  max token TTL  {}\n  next rotation  {}",
                    d.summary.name,
                    d.summary.id,
                    off(&policy.auto_rotate),
                    policy.grace.clone().unwrap_or_else(|| "24h (default)".into()),
                    off(&policy.max_token_ttl),
                    d.summary.next_rotation_at.clone().unwrap_or_else(|| "-".into())
                )
            });
            Ok(0)
        }
        KeyCmd::Due { within, apply } => {
            let within = parse_duration(&within)?;
            let mut vault = ctx.open_vault()?;
            let report = vault.due(within, apply)?;
            ctx.emit(&serde_json::to_value(&report).unwrap_or_default(), || {
                let mut out = String::new();
                if report.items.is_empty() {
                    out.push_str(&format!("nothing due within {}", report.within));
                }
                for i in &report.items {
                    let flag = if i.late {
                        "LATE "
                    } else if i.overdue {
                        "due  "
                    } else {
                        "soon "
                    };
                    out.push_str(&format!(
                        "{flag} {:<12} {:<20} {:<4} {}  {}\n",
                        i.kind,
                        i.name,
                        i.version.map(|v| format!("v{v}")).unwrap_or_default(),
                        i.due_at,
                        i.detail
                    ));
                }
                for a in &report.applied {
                    out.push_str(&format!("applied: {a}\n"));
                }
                out
            });
            Ok(0)
        }
        KeyCmd::Restore { id } => {
            let mut vault = ctx.open_vault()?;
            vault.restore(&id)?;
            ctx.emit(&json!({"id": id, "restored": true}), || {
                format!("{id} restored")
            });
            Ok(0)
        }
    }
}

pub fn run_apikey(ctx: &Ctx, cmd: ApikeyCmd) -> Result<u8> {
    match cmd {
        ApikeyCmd::Verify { key } => {
            let input = match key.as_deref() {
                Some("-") | None => read_input(None)?,
                Some(k) => SecretBytes::from_slice(k.as_bytes()),
            };
            // Malformed keys fail here, before the vault is even opened.
            keyward_core::keys::apikey::ApiKey::parse(input.expose())?;
            let mut vault = ctx.open_vault()?;
            match vault.verify_api_key(input.expose()) {
                Ok(m) => {
                    let mut doc = serde_json::to_value(&m).unwrap_or_default();
                    doc["valid"] = json!(true);
                    ctx.emit(&doc, || {
                        format!(
                            "valid: {} ({}) v{}, {}, scopes [{}]",
                            m.name,
                            m.id,
                            m.version,
                            m.state.as_str(),
                            m.scopes.join(", ")
                        )
                    });
                    Ok(0)
                }
                Err(e @ Error::Rejected { .. }) => {
                    ctx.emit(
                        &json!({"valid": false, "reason": e.to_string(), "code": e.code()}),
                        || format!("invalid: {e}"),
                    );
                    Ok(1)
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// A plain left-aligned text table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    for r in rows {
        out.push('\n');
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}
