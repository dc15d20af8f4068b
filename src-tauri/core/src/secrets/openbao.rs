//! Key material of a team vault in OpenBao's KV v2 engine, one document per
//! key version at `<mount>/data/keyward/<team>/secrets/<key id>/v<n>`.
//!
//! Writes are create-only (check-and-set 0): a version number is never
//! reused, so when two clients race to write the same new version only one
//! succeeds, and the other cannot overwrite the winner's secret. A write
//! retried after a timeout that had in fact landed finds its own bytes and
//! counts as done. Deleting removes every KV version (metadata delete).
//!
//! Entries that are not key versions (the audit signing and MAC keys) belong
//! to this client, not to the team: they stay in the local OS keychain.

use super::keychain::KeychainStore;
use super::SecretStore;
use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use crate::team::client::Reply;
use crate::team::doc::KeyDoc;
use crate::team::TeamLink;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

/// Entries written less than this long ago that no key document records
/// yet are not listed: they may belong to another client's create or rotate
/// that has not committed its document, and must not look like orphans to
/// `vault check --repair`.
const IN_FLIGHT_SECS: i64 = 600;

/// KV v2 secrets of one team, plus this client's local entries.
pub struct OpenBaoStore {
    link: Arc<TeamLink>,
    local: KeychainStore,
}

impl OpenBaoStore {
    /// The store of `link`'s team; local entries go to `local`.
    pub fn new(link: Arc<TeamLink>, local: KeychainStore) -> Self {
        OpenBaoStore { link, local }
    }

    fn rel(entry: &str) -> String {
        format!("secrets/{entry}")
    }

    fn read(&self, entry: &str) -> Result<Option<SecretBytes>> {
        let path = self.link.config.data(&Self::rel(entry));
        match self.link.client.get(&path, "read a key's secret")? {
            Reply::Ok(v) => {
                let Some(b64) = v.pointer("/data/data/value").and_then(Value::as_str) else {
                    return Ok(None);
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| {
                        Error::SecretStore(format!(
                            "the secret of {entry} in OpenBao is not base64: it was written outside Keyward"
                        ))
                    })?;
                Ok(Some(SecretBytes::new(bytes)))
            }
            _ => Ok(None),
        }
    }
}

/// Key version entries (`<key id>/v<n>`) are the team's; anything else is local.
fn is_team_entry(entry: &str) -> bool {
    match entry.split_once("/v") {
        Some((id, n)) => {
            id.starts_with("k_")
                && !id.contains('/')
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

impl SecretStore for OpenBaoStore {
    fn backend(&self) -> &'static str {
        "openbao"
    }

    fn probe(&self) -> Result<()> {
        self.link.client.ensure_unsealed()?;
        match self
            .link
            .client
            .get("auth/token/lookup-self", "look up its own token")?
        {
            Reply::Ok(_) => Ok(()),
            _ => Err(Error::SecretStore(format!(
                "OpenBao at {} did not recognise this vault's token: run `keyward vault init` again",
                self.link.client.addr()
            ))),
        }
    }

    fn put(&self, entry: &str, secret: &SecretBytes) -> Result<()> {
        if !is_team_entry(entry) {
            return self.local.put(entry, secret);
        }
        let value = zeroize::Zeroizing::new(
            base64::engine::general_purpose::STANDARD.encode(secret.expose()),
        );
        let data = json!({"value": value.as_str()});
        match self
            .link
            .write_cas(&Self::rel(entry), &data, 0, "store a key's secret")?
        {
            Some(_) => Ok(()),
            // Either our own earlier attempt landed, or someone else wrote
            // this version first.
            None => match self.read(entry)? {
                Some(existing) if existing == *secret => Ok(()),
                _ => Err(Error::conflict(
                    "changed_elsewhere",
                    format!(
                        "{} was changed by someone else (its version {} already exists in OpenBao): run `keyward vault check --repair` to reload, then retry",
                        entry.split('/').next().unwrap_or(entry),
                        entry.rsplit("/v").next().unwrap_or("?")
                    ),
                )),
            },
        }
    }

    fn get(&self, entry: &str) -> Result<Option<SecretBytes>> {
        if !is_team_entry(entry) {
            return self.local.get(entry);
        }
        self.read(entry)
    }

    fn delete(&self, entry: &str) -> Result<bool> {
        if !is_team_entry(entry) {
            return self.local.delete(entry);
        }
        let meta = self.link.config.metadata(&Self::rel(entry));
        let existed = matches!(
            self.link
                .client
                .get(&meta, "read a key secret's metadata")?,
            Reply::Ok(_)
        );
        if existed {
            self.link.client.delete(&meta, "delete a key's secret")?;
        }
        Ok(existed)
    }

    fn list(&self) -> Result<Option<Vec<String>>> {
        let client = &self.link.client;
        let config = &self.link.config;
        let now = chrono::Utc::now();
        let mut out = Vec::new();
        for dir in client.list(&config.metadata("secrets"), "list the team's secrets")? {
            let Some(key_id) = dir.strip_suffix('/') else {
                continue;
            };
            let rel = format!("secrets/{key_id}");
            // The versions the key's document records (read only if needed).
            let mut recorded: Option<Vec<u64>> = None;
            for v in client.list(&config.metadata(&rel), "list a key's secrets")? {
                let entry = format!("{key_id}/{v}");
                if !is_team_entry(&entry) {
                    continue;
                }
                let young = match client.get(
                    &config.metadata(&Self::rel(&entry)),
                    "read a key secret's metadata",
                )? {
                    Reply::Ok(m) => m
                        .pointer("/data/created_time")
                        .and_then(Value::as_str)
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .is_some_and(|t| {
                            (now - t.with_timezone(&chrono::Utc)).num_seconds() < IN_FLIGHT_SECS
                        }),
                    _ => continue,
                };
                if young {
                    if recorded.is_none() {
                        let doc = match self.link.read(&format!("keys/{key_id}"), "read a key")? {
                            Some((d, _)) => Some(KeyDoc::from_json(&d)?),
                            None => None,
                        };
                        recorded = Some(
                            doc.map(|d| d.versions)
                                .unwrap_or_default()
                                .iter()
                                .filter_map(|x| x.get("version").and_then(Value::as_u64))
                                .collect(),
                        );
                    }
                    let n: u64 = v.trim_start_matches('v').parse().unwrap_or(0);
                    if !recorded.as_ref().is_some_and(|r| r.contains(&n)) {
                        // Another client's operation in flight.
                        continue;
                    }
                }
                out.push(entry);
            }
        }
        out.sort();
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::is_team_entry;

    #[test]
    fn key_versions_are_team_entries_and_the_rest_is_local() {
        assert!(is_team_entry("k_abc123/v1"));
        assert!(is_team_entry("k_abc123/v12"));
        assert!(!is_team_entry("audit/signing-key"));
        assert!(!is_team_entry("openbao/token"));
        assert!(!is_team_entry("k_abc/vx"));
        assert!(!is_team_entry("k_abc/v"));
    }
}
