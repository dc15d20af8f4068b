//! Team vaults on OpenBao: when a vault directory holds `team.json`, the
//! source of truth is an OpenBao server, and the local SQLite database is a
//! cache of it (rebuildable with `vault check --repair`).
//!
//! Layout under the KV v2 mount (`secret` by default), per team:
//!
//! - `keyward/<team>/meta` — the team vault's id (two clients that `init`
//!   against the same team join the same vault);
//! - `keyward/<team>/keys/<key id>` — a key's `keys` row and every
//!   `key_versions` row (no secret) in one JSON-encoded string (OpenBao
//!   counts a request's strings), written with check-and-set so two
//!   people changing the same key at once cannot both win ([`doc`]);
//! - `keyward/<team>/secrets/<key id>/v<n>` — key material
//!   ([`crate::secrets::openbao::OpenBaoStore`], written create-only);
//! - `keyward/<team>/head` — a change feed: each commit appends the ids of
//!   the keys it wrote as a new KV version, so a client catches up by
//!   reading the versions it has not seen instead of every document;
//! - `keyward/<team>/denylist/<0-f>` — the revoked jtis of the whole team,
//!   until their tokens expire, in 16 shards ([`denylist`], check-and-set
//!   with retry);
//! - `keyward/<team>/usage/<key id>` — when each API-key version was last
//!   used by any client, to the minute, best effort ([`usage`]).
//!
//! Transit custody ([`transit`]): signing keys created in OpenBao's transit
//! engine; the private key never leaves OpenBao.
//!
//! The OpenBao token (or the AppRole secret id) lives in the OS keychain,
//! entries `openbao/token` and `openbao/secret-id` of the client's keychain
//! namespace; never in `team.json`, SQLite or a log.
//!
//! This module never changes local rows itself: the vault's façade does
//! (`vault::team`), inside its own transactions.

pub mod client;
pub mod denylist;
pub mod doc;
pub mod transit;
pub mod usage;

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use crate::secrets::keychain::KeychainStore;
use crate::secrets::SecretStore;
use client::{BaoClient, Login, Reply};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file in a vault directory that makes it a team vault.
pub const CONFIG_FILE: &str = "team.json";
/// Keychain entry of the OpenBao token.
pub const TOKEN_ENTRY: &str = "openbao/token";
/// Keychain entry of the AppRole secret id.
pub const SECRET_ID_ENTRY: &str = "openbao/secret-id";

/// `team.json`: where the team vault lives (never a credential).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TeamConfig {
    /// Always `openbao`.
    pub backend: String,
    pub addr: String,
    /// The KV v2 mount.
    pub mount: String,
    pub namespace: Option<String>,
    pub team: String,
    /// The team vault's id, read from (or created in) OpenBao.
    pub team_vault_id: String,
    /// This client's keychain namespace for its OpenBao credentials.
    pub client_id: String,
    pub auth: AuthConfig,
    pub ca_file: Option<PathBuf>,
    /// The transit engine's mount.
    pub transit_mount: String,
}

/// How this client authenticates (the secret parts are in the keychain).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum AuthConfig {
    Token,
    Approle { mount: String, role_id: String },
}

impl TeamConfig {
    /// Reads `team.json` from a vault directory; `None` for a personal vault.
    pub fn load(dir: &Path) -> Result<Option<TeamConfig>> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::Io(format!(
                    "cannot read {} ({e}): check its permissions",
                    path.display()
                )))
            }
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::Io(format!(
                "{} is not a valid team vault configuration ({e}): run `keyward vault init` again",
                path.display()
            ))
        })
    }

    /// Writes `team.json` (owner-only, atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(CONFIG_FILE);
        let tmp = dir.join(format!("{CONFIG_FILE}.{}.tmp", std::process::id()));
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        let write = || -> std::io::Result<()> {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            std::io::Write::write_all(&mut f, text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::Io(format!(
                "cannot write {} ({e}): check the vault directory's permissions",
                path.display()
            ))
        })
    }

    /// The KV v2 data path of `rel` under this team.
    pub fn data(&self, rel: &str) -> String {
        format!("{}/data/keyward/{}/{rel}", self.mount, self.team)
    }

    /// The KV v2 metadata path of `rel` under this team.
    pub fn metadata(&self, rel: &str) -> String {
        format!("{}/metadata/keyward/{}/{rel}", self.mount, self.team)
    }

    /// The keychain that holds this client's credentials.
    pub fn credentials(&self) -> KeychainStore {
        KeychainStore::new(&self.client_id)
    }

    /// A client logged in with the credentials in the keychain.
    pub fn connect(&self) -> Result<BaoClient> {
        let keychain = self.credentials();
        let missing = |what: &str| {
            Error::SecretStore(format!(
                "the OpenBao {what} of this team vault is not in the keychain: run `keyward vault init --backend openbao --addr {} ...` again",
                self.addr
            ))
        };
        let token = keychain.get(TOKEN_ENTRY)?;
        let login = match &self.auth {
            AuthConfig::Token => Login::Token,
            AuthConfig::Approle { mount, role_id } => Login::AppRole {
                mount: mount.clone(),
                role_id: role_id.clone(),
                secret_id: keychain
                    .get(SECRET_ID_ENTRY)?
                    .ok_or_else(|| missing("AppRole secret id"))?,
            },
        };
        let has_token = token.is_some();
        let approle = matches!(login, Login::AppRole { .. });
        if !has_token && !approle {
            return Err(missing("token"));
        }
        let client = BaoClient::new(
            &self.addr,
            self.namespace.as_deref(),
            self.ca_file.as_deref(),
            token.unwrap_or_default(),
            login,
        )?
        .on_new_token(move |t| {
            // Best effort: the next process logs in again if this fails.
            let _ = keychain.put(TOKEN_ENTRY, t);
        });
        if !has_token {
            client.login()?;
        }
        Ok(client)
    }
}

/// A vault's live link to its team: the configuration and a logged-in client.
pub struct TeamLink {
    pub config: TeamConfig,
    pub client: Arc<BaoClient>,
}

impl TeamLink {
    /// Connects to the team named in `dir/team.json`, if any.
    pub fn attach(dir: &Path) -> Result<Option<TeamLink>> {
        let Some(config) = TeamConfig::load(dir)? else {
            return Ok(None);
        };
        let client = Arc::new(config.connect()?);
        Ok(Some(TeamLink { config, client }))
    }

    /// Reads a KV v2 document: its data and version; `None` when absent
    /// (or deleted).
    pub fn read(&self, rel: &str, what: &str) -> Result<Option<(Value, u64)>> {
        match self.client.get(&self.config.data(rel), what)? {
            Reply::Ok(v) => {
                let data = v.pointer("/data/data").cloned().unwrap_or(Value::Null);
                let version = v
                    .pointer("/data/metadata/version")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                if data.is_null() {
                    return Ok(None);
                }
                Ok(Some((data, version)))
            }
            _ => Ok(None),
        }
    }

    /// Writes a KV v2 document with check-and-set `cas` (0: must not exist);
    /// `Ok(None)` on a CAS mismatch, else the new version.
    pub fn write_cas(&self, rel: &str, data: &Value, cas: u64, what: &str) -> Result<Option<u64>> {
        let body = json!({"options": {"cas": cas}, "data": data});
        match self.client.post(&self.config.data(rel), &body, what, true)? {
            Reply::Ok(v) => Ok(Some(
                v.pointer("/data/version").and_then(Value::as_u64).unwrap_or(0),
            )),
            Reply::CasMismatch => Ok(None),
            Reply::NotFound => Err(Error::SecretStore(format!(
                "OpenBao at {} has no KV v2 engine at {}/: enable it (bao secrets enable -version=2 -path={} kv) or give --mount",
                self.client.addr(),
                self.config.mount,
                self.config.mount
            ))),
        }
    }

    /// Appends `key_ids` to the change feed (best effort: a missed entry is
    /// caught up by `vault check`).
    pub fn announce(&self, key_ids: &[String]) {
        let body = json!({"data": {"keys": key_ids}});
        let _ = self.client.post(
            &self.config.data("head"),
            &body,
            "update the change feed",
            false,
        );
    }

    /// The change feed's current version (0 when nothing was written yet).
    pub fn head_version(&self) -> Result<u64> {
        match self
            .client
            .get(&self.config.metadata("head"), "read the change feed")?
        {
            Reply::Ok(v) => Ok(v
                .pointer("/data/current_version")
                .and_then(Value::as_u64)
                .unwrap_or(0)),
            _ => Ok(0),
        }
    }

    /// The key ids announced by feed version `v`; `None` when that version
    /// is no longer kept (then the caller rescans).
    pub fn head_entry(&self, v: u64) -> Result<Option<Vec<String>>> {
        let path = format!("{}?version={v}", self.config.data("head"));
        match self.client.get(&path, "read the change feed")? {
            Reply::Ok(doc) => Ok(doc
                .pointer("/data/data/keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })),
            _ => Ok(None),
        }
    }

    /// Every key id with a document.
    pub fn key_ids(&self) -> Result<Vec<String>> {
        Ok(self
            .client
            .list(&self.config.metadata("keys"), "list the team's keys")?
            .into_iter()
            .filter(|k| !k.ends_with('/'))
            .collect())
    }
}

/// The KV v2 mount a team vault uses unless told otherwise.
pub const DEFAULT_MOUNT: &str = "secret";
/// Where AppRole is mounted unless told otherwise.
pub const DEFAULT_APPROLE_MOUNT: &str = "approle";
/// The transit engine's mount unless told otherwise.
pub const DEFAULT_TRANSIT_MOUNT: &str = "transit";
/// Where `init` asks the server to write its file audit log by default.
pub const DEFAULT_AUDIT_FILE: &str = "/var/log/openbao/keyward-audit.log";

/// Credential files larger than this are not a token or a secret id.
const MAX_CREDENTIAL_FILE: u64 = 16 * 1024;

/// Reads a credential file (an OpenBao token, an AppRole secret id): its
/// one line, without surrounding whitespace. `what` names the file in
/// errors (`--token-file`, `the token file`); the content never appears in
/// one. Anything but a single non-empty line of text is refused, so a
/// mistaken path (a private key, a document) is never sent to a server.
pub fn read_credential_file(path: &Path, what: &str) -> Result<SecretBytes> {
    let unreadable = |e: std::io::Error| {
        Error::invalid(
            "unreadable_file",
            format!("cannot read {what} {}: {e}", path.display()),
        )
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_CREDENTIAL_FILE {
        return Err(Error::invalid(
            "bad_credential",
            format!(
                "{what} {} is {size} bytes: a token or secret id file holds one short line",
                path.display()
            ),
        ));
    }
    let bytes = SecretBytes::new(std::fs::read(path).map_err(unreadable)?);
    let text = std::str::from_utf8(bytes.expose())
        .map_err(|_| Error::invalid("bad_credential", format!("{what} is not text")))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(
            "bad_credential",
            format!("{what} {} is empty", path.display()),
        ));
    }
    if trimmed.chars().any(char::is_whitespace) {
        return Err(Error::invalid(
            "bad_credential",
            format!(
                "{what} {} holds more than one word: it must hold the token or secret id alone",
                path.display()
            ),
        ));
    }
    Ok(SecretBytes::from(trimmed.to_string()))
}

/// Where `init`'s credential is read from, by path: the shells (and the
/// desktop's IPC) name files and never hold the token or secret id.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum CredentialFiles {
    /// A file holding an OpenBao token.
    Token {
        #[ts(type = "string")]
        token_file: PathBuf,
    },
    /// AppRole: the role id, and a file holding the secret id.
    Approle {
        /// Where AppRole is mounted.
        mount: String,
        role_id: String,
        #[ts(type = "string")]
        secret_id_file: PathBuf,
    },
}

impl CredentialFiles {
    /// Reads the secret from its file.
    pub fn read(&self) -> Result<Credential> {
        Ok(match self {
            CredentialFiles::Token { token_file } => {
                Credential::Token(read_credential_file(token_file, "the token file")?)
            }
            CredentialFiles::Approle {
                mount,
                role_id,
                secret_id_file,
            } => {
                if role_id.trim().is_empty() {
                    return Err(Error::invalid(
                        "credential_required",
                        "give the AppRole role id with its secret id file",
                    ));
                }
                Credential::AppRole {
                    mount: mount.clone(),
                    role_id: role_id.trim().to_string(),
                    secret_id: read_credential_file(secret_id_file, "the secret id file")?,
                }
            }
        })
    }
}

/// `vault init --backend openbao`.
pub struct InitRequest {
    pub addr: String,
    pub mount: String,
    pub namespace: Option<String>,
    pub team: String,
    pub credential: Credential,
    pub ca_file: Option<PathBuf>,
    pub transit_mount: String,
    /// Where the server should write its file audit log (`None`: don't try).
    pub audit_file: Option<String>,
}

/// The credential given to `vault init`.
pub enum Credential {
    Token(SecretBytes),
    AppRole {
        mount: String,
        role_id: String,
        secret_id: SecretBytes,
    },
}

/// What `vault init --backend openbao` did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct InitReport {
    pub backend: String,
    pub addr: String,
    pub mount: String,
    pub namespace: Option<String>,
    pub team: String,
    pub team_vault_id: String,
    /// Whether this client created the team (else it joined it).
    pub created: bool,
    pub auth: String,
    /// What happened to the server's file audit device.
    pub audit_device: String,
    pub config_file: String,
}

/// The status the desktop shows for a vault's backend.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BackendStatus {
    /// `keychain` or `openbao`.
    pub kind: String,
    pub addr: Option<String>,
    pub team: Option<String>,
    pub sealed: Option<bool>,
    /// The server's version (`2.7.2`), when it answered.
    pub version: Option<String>,
    /// Whether the server runs in HA mode (Raft); `false`: a single node
    /// that is its own leader.
    pub ha_enabled: Option<bool>,
    /// The active node's address (HA/Raft), when the server says.
    pub leader: Option<String>,
    pub is_self_leader: Option<bool>,
    pub reachable: bool,
    /// Why the backend is not usable, with what to do.
    pub error: Option<String>,
}

/// Checks a team name: it becomes a path segment.
pub fn validate_team(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "bad_team",
            format!("--team {name:?}: use 1 to 64 characters a-z A-Z 0-9 . _ -"),
        ))
    }
}

fn validate_mount(name: &str, flag: &str) -> Result<String> {
    let m = name.trim_matches('/');
    if m.is_empty() || m.contains("..") || m.chars().any(|c| c.is_whitespace() || c == '?') {
        return Err(Error::invalid(
            "bad_mount",
            format!("{flag} {name:?} is not a mount path"),
        ));
    }
    Ok(m.to_string())
}

/// Connects with `req`'s credential, joins (or creates) the team vault in
/// OpenBao, keeps the credential in the keychain namespace `client_id`,
/// tries to enable a file audit device, and writes `team.json` in `dir`.
pub fn init(dir: &Path, client_id: &str, req: InitRequest) -> Result<InitReport> {
    validate_team(&req.team)?;
    let mount = validate_mount(&req.mount, "--mount")?;
    let transit_mount = validate_mount(&req.transit_mount, "--transit-mount")?;
    let (token, login, auth) = match req.credential {
        Credential::Token(t) => (t, Login::Token, AuthConfig::Token),
        Credential::AppRole {
            mount,
            role_id,
            secret_id,
        } => (
            SecretBytes::default(),
            Login::AppRole {
                mount: mount.clone(),
                role_id: role_id.clone(),
                secret_id,
            },
            AuthConfig::Approle { mount, role_id },
        ),
    };
    let secret_id = match &login {
        Login::AppRole { secret_id, .. } => Some(secret_id.clone()),
        Login::Token => None,
    };
    let client = BaoClient::new(
        &req.addr,
        req.namespace.as_deref(),
        req.ca_file.as_deref(),
        token,
        login,
    )?;
    client.ensure_unsealed()?;
    if secret_id.is_some() {
        client.login()?;
    }
    // Is the token any good?
    match client.get("auth/token/lookup-self", "look up its own token")? {
        Reply::Ok(_) => {}
        _ => {
            return Err(Error::SecretStore(format!(
                "OpenBao at {} did not recognise the token: give a valid one",
                client.addr()
            )))
        }
    }
    let mut config = TeamConfig {
        backend: "openbao".into(),
        addr: client.addr().to_string(),
        mount,
        namespace: req.namespace.filter(|n| !n.is_empty()),
        team: req.team,
        team_vault_id: String::new(),
        client_id: client_id.to_string(),
        auth: auth.clone(),
        ca_file: req.ca_file,
        transit_mount,
    };
    let link = TeamLink {
        config: config.clone(),
        client: Arc::new(client),
    };
    // Join the team vault, or create it (CAS 0: of two clients creating
    // it at once, one creates and the other joins).
    let mut created = false;
    let team_vault_id = loop {
        if let Some((meta, _)) = link.read("meta", "read the team vault")? {
            if let Some(id) = meta.get("vault_id").and_then(Value::as_str) {
                break id.to_string();
            }
        }
        let id = format!("t_{}", crate::vault::random_hex(8)?);
        let doc = json!({
            "vault_id": id,
            "format": 1,
            "created_at": crate::duration::rfc3339(chrono::Utc::now()),
        });
        if link
            .write_cas("meta", &doc, 0, "create the team vault")?
            .is_some()
        {
            created = true;
            // Keep enough change-feed versions for clients to catch up.
            let _ = link.client.post(
                &link.config.metadata("head"),
                &json!({"max_versions": 1000}),
                "configure the change feed",
                true,
            );
            break id;
        }
    };
    config.team_vault_id = team_vault_id.clone();
    let keychain = config.credentials();
    keychain.put(TOKEN_ENTRY, &link.client.token())?;
    match &secret_id {
        Some(s) => keychain.put(SECRET_ID_ENTRY, s)?,
        None => {
            keychain.delete(SECRET_ID_ENTRY)?;
        }
    }
    let audit_device = match &req.audit_file {
        Some(path) => enable_audit(&link.client, path),
        None => "not requested".to_string(),
    };
    config.save(dir)?;
    Ok(InitReport {
        backend: "openbao".into(),
        addr: config.addr.clone(),
        mount: config.mount.clone(),
        namespace: config.namespace.clone(),
        team: config.team.clone(),
        team_vault_id,
        created,
        auth: match auth {
            AuthConfig::Token => "token".into(),
            AuthConfig::Approle { .. } => "approle".into(),
        },
        audit_device,
        config_file: dir.join(CONFIG_FILE).display().to_string(),
    })
}

/// Enables a file audit device when the token may, and says what happened.
fn enable_audit(client: &BaoClient, path: &str) -> String {
    if let Ok(Reply::Ok(v)) = client.get("sys/audit", "list audit devices") {
        let devices = v.get("data").unwrap_or(&v);
        if let Some(map) = devices.as_object() {
            if let Some((name, _)) = map
                .iter()
                .find(|(_, d)| d.get("type").and_then(Value::as_str) == Some("file"))
            {
                return format!("a file audit device is already enabled ({name})");
            }
        }
    }
    let body = json!({"type": "file", "description": "Keyward team vault", "options": {"file_path": path}});
    match client.post("sys/audit/keyward-file", &body, "enable a file audit device", false) {
        Ok(Reply::Ok(_)) => format!("enabled a file audit device writing to {path} on the server"),
        Ok(_) => "not enabled: OpenBao refused the request".to_string(),
        Err(e) if e.to_string().contains("declarative") => "not enabled: this OpenBao accepts audit devices only from its configuration file: add an `audit \"file\"` block there (or set unsafe_allow_api_audit_creation = true and run init again)".to_string(),
        Err(e) if e.to_string().contains("denied") => "not enabled: this token may not enable audit devices (it needs sudo on sys/audit); ask an operator to run `bao audit enable file file_path=...`".to_string(),
        Err(e) => format!("not enabled: {e}"),
    }
}

/// The backend status of a vault directory, without opening the vault.
pub fn status(dir: &Path) -> BackendStatus {
    let config = match TeamConfig::load(dir) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return BackendStatus {
                kind: "keychain".into(),
                addr: None,
                team: None,
                sealed: None,
                version: None,
                ha_enabled: None,
                leader: None,
                is_self_leader: None,
                reachable: KeychainStore::new("probe").probe().is_ok(),
                error: None,
            }
        }
        Err(e) => {
            return BackendStatus {
                kind: "openbao".into(),
                addr: None,
                team: None,
                sealed: None,
                version: None,
                ha_enabled: None,
                leader: None,
                is_self_leader: None,
                reachable: false,
                error: Some(e.to_string()),
            }
        }
    };
    let mut s = BackendStatus {
        kind: "openbao".into(),
        addr: Some(config.addr.clone()),
        team: Some(config.team.clone()),
        sealed: None,
        version: None,
        ha_enabled: None,
        leader: None,
        is_self_leader: None,
        reachable: false,
        error: None,
    };
    // Seal status and leader need no token.
    let client = match BaoClient::new(
        &config.addr,
        config.namespace.as_deref(),
        config.ca_file.as_deref(),
        SecretBytes::default(),
        Login::Token,
    ) {
        Ok(c) => c,
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    };
    match client.seal_status() {
        Ok(v) => {
            s.reachable = true;
            s.sealed = v.get("sealed").and_then(Value::as_bool);
            s.version = v.get("version").and_then(Value::as_str).map(str::to_string);
            if s.sealed == Some(true) {
                s.error = Some(format!(
                    "OpenBao at {} is sealed: unseal it (bao operator unseal) and retry",
                    config.addr
                ));
            }
        }
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    }
    if let Ok(Reply::Ok(v)) = client.get("sys/leader", "read the leader") {
        s.leader = v
            .get("leader_address")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        s.is_self_leader = v.get("is_self").and_then(Value::as_bool);
        s.ha_enabled = v.get("ha_enabled").and_then(Value::as_bool);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn a_credential_file_gives_its_one_line_and_errors_never_show_its_content() {
        let tmp = tempfile::tempdir().unwrap();
        let ok = file(tmp.path(), "token", b"  s.Secret123\n");
        assert_eq!(
            read_credential_file(&ok, "--token-file").unwrap().expose(),
            b"s.Secret123"
        );

        let missing = tmp.path().join("missing");
        let e = read_credential_file(&missing, "the token file").unwrap_err();
        assert_eq!(e.code(), "unreadable_file");
        assert!(
            e.to_string().starts_with("cannot read the token file "),
            "{e}"
        );

        for (name, content, says) in [
            ("empty", &b" \n"[..], "is empty"),
            ("binary", &b"\xff\xfe"[..], "is not text"),
            (
                "pem",
                &b"-----BEGIN PRIVATE KEY-----\nMIIEsecretbody\n-----END PRIVATE KEY-----\n"[..],
                "more than one word",
            ),
        ] {
            let p = file(tmp.path(), name, content);
            let e = read_credential_file(&p, "the token file").unwrap_err();
            assert_eq!(e.code(), "bad_credential", "{name}");
            let msg = e.to_string();
            assert!(msg.contains(says), "{name}: {msg}");
            assert!(!msg.contains("secretbody"), "{name}: {msg}");
        }
        let big = file(tmp.path(), "big", &vec![b'a'; 20_000]);
        let e = read_credential_file(&big, "the token file").unwrap_err();
        assert!(e.to_string().contains("20000 bytes"), "{e}");
    }

    #[test]
    fn credential_files_read_a_token_or_an_approle_secret_id() {
        let tmp = tempfile::tempdir().unwrap();
        let token = file(tmp.path(), "token", b"root\n");
        let form: CredentialFiles = serde_json::from_value(
            json!({"method": "token", "token_file": token.display().to_string()}),
        )
        .unwrap();
        match form.read().unwrap() {
            Credential::Token(t) => assert_eq!(t.expose(), b"root"),
            Credential::AppRole { .. } => panic!("a token"),
        }

        let sid = file(tmp.path(), "sid", b"0d9b-secret\n");
        let form: CredentialFiles = serde_json::from_value(json!({
            "method": "approle", "mount": "approle", "role_id": " role-1 ",
            "secret_id_file": sid.display().to_string(),
        }))
        .unwrap();
        match form.read().unwrap() {
            Credential::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                assert_eq!((mount.as_str(), role_id.as_str()), ("approle", "role-1"));
                assert_eq!(secret_id.expose(), b"0d9b-secret");
            }
            Credential::Token(_) => panic!("AppRole"),
        }

        let no_role = CredentialFiles::Approle {
            mount: "approle".into(),
            role_id: " ".into(),
            secret_id_file: sid,
        };
        assert_eq!(no_role.read().err().unwrap().code(), "credential_required");
    }
}
