//! A small OpenBao HTTP client: JSON over `ureq` with rustls (TLS
//! verification always on: Mozilla's roots, or only the CA given with
//! `--ca-file`), a timeout on every request, and one place that turns
//! OpenBao's answers into errors that say what to do.
//!
//! Never logs, and never puts a token, a secret id or a secret value into an
//! error: messages carry the address, the path and OpenBao's own error text.

use crate::error::{Error, Result};
use crate::secret::SecretBytes;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take in all (override: `KEYWARD_BAO_TIMEOUT_MS`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How the client logs in again when its token expires.
pub enum Login {
    /// A fixed token: when it is refused, the user must give a new one.
    Token,
    /// AppRole: the role id and secret id give a fresh token.
    AppRole {
        mount: String,
        role_id: String,
        secret_id: SecretBytes,
    },
}

/// Keeps a new token (after a re-login).
type TokenSink = Box<dyn Fn(&SecretBytes) + Send + Sync>;

/// An answer from OpenBao that the caller handles itself.
pub enum Reply {
    /// 2xx, with the JSON body (`Value::Null` for 204).
    Ok(Value),
    /// 404.
    NotFound,
    /// A KV v2 check-and-set mismatch.
    CasMismatch,
}

/// A client bound to one OpenBao server (and namespace).
pub struct BaoClient {
    /// The address as configured (several nodes: comma-separated).
    addr: String,
    /// The nodes to try, in order, starting from the last one that answered.
    nodes: Vec<String>,
    current: AtomicUsize,
    namespace: Option<String>,
    agent: ureq::Agent,
    token: Mutex<SecretBytes>,
    login: Login,
    /// Called with a new token after a re-login, to keep it (in the keychain).
    on_new_token: Option<TokenSink>,
}

impl BaoClient {
    /// A client for `addr` (`http://` or `https://`), trusting only `ca_file`
    /// when given.
    pub fn new(
        addr: &str,
        namespace: Option<&str>,
        ca_file: Option<&Path>,
        token: SecretBytes,
        login: Login,
    ) -> Result<BaoClient> {
        let nodes: Vec<String> = addr
            .split(',')
            .map(|a| a.trim().trim_end_matches('/').to_string())
            .filter(|a| !a.is_empty())
            .collect();
        if nodes.is_empty() {
            return Err(Error::invalid("bad_addr", "--addr is empty"));
        }
        for a in &nodes {
            if !(a.starts_with("http://") || a.starts_with("https://")) {
                return Err(Error::invalid(
                    "bad_addr",
                    format!("--addr {a:?} is not an http:// or https:// URL"),
                ));
            }
        }
        let addr = nodes.join(",");
        let timeout = std::env::var("KEYWARD_BAO_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(REQUEST_TIMEOUT);
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(path) = ca_file {
            tls = tls.root_certs(read_ca(path)?);
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(timeout))
            .tls_config(tls.build())
            // OpenBao answers in JSON; a proxy's HTML error page is not worth following.
            .max_redirects(0)
            .build();
        Ok(BaoClient {
            addr,
            nodes,
            current: AtomicUsize::new(0),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
            agent: ureq::Agent::new_with_config(config),
            token: Mutex::new(token),
            login,
            on_new_token: None,
        })
    }

    /// Keeps new tokens (after an AppRole re-login) with `f`.
    pub fn on_new_token(mut self, f: impl Fn(&SecretBytes) + Send + Sync + 'static) -> Self {
        self.on_new_token = Some(Box::new(f));
        self
    }

    /// The server's address (several nodes: comma-separated).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The current token (to keep it after a login).
    pub fn token(&self) -> SecretBytes {
        self.token.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Logs in with AppRole and keeps the token; a fixed token is returned as is.
    pub fn login(&self) -> Result<SecretBytes> {
        let Login::AppRole {
            mount,
            role_id,
            secret_id,
        } = &self.login
        else {
            return Ok(self.token());
        };
        let secret = secret_id
            .expose_str()
            .ok_or_else(|| Error::SecretStore("the stored AppRole secret id is not text".into()))?;
        let body = json!({"role_id": role_id, "secret_id": secret});
        let path = format!("auth/{mount}/login");
        let raw = self.send("POST", &path, Some(&body), false)?;
        let v = self.expect_ok(raw, &path, "log in with AppRole")?;
        let token = v
            .pointer("/auth/client_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::SecretStore(format!(
                    "OpenBao at {} answered the AppRole login without a token",
                    self.addr
                ))
            })?;
        let token = SecretBytes::from(token.to_string());
        if let Ok(mut t) = self.token.lock() {
            *t = token.clone();
        }
        if let Some(f) = &self.on_new_token {
            f(&token);
        }
        Ok(token)
    }

    /// GET `path`.
    pub fn get(&self, path: &str, what: &str) -> Result<Reply> {
        self.call("GET", path, None, what, true)
    }

    /// LIST `path` (the names under a folder; empty when there is none).
    pub fn list(&self, path: &str, what: &str) -> Result<Vec<String>> {
        let path = format!("{}?list=true", path.trim_end_matches('/'));
        match self.call("GET", &path, None, what, true)? {
            Reply::Ok(v) => Ok(v
                .pointer("/data/keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()),
            _ => Ok(Vec::new()),
        }
    }

    /// POST `body` to `path`. `idempotent`: retried once after a timeout or
    /// a dropped connection (a KV check-and-set write is: the retry carries the
    /// same `cas`, so it cannot apply twice).
    pub fn post(&self, path: &str, body: &Value, what: &str, idempotent: bool) -> Result<Reply> {
        self.call("POST", path, Some(body), what, idempotent)
    }

    /// DELETE `path`.
    pub fn delete(&self, path: &str, what: &str) -> Result<Reply> {
        self.call("DELETE", path, None, what, true)
    }

    /// `sys/seal-status` (unauthenticated).
    pub fn seal_status(&self) -> Result<Value> {
        let raw = self.send("GET", "sys/seal-status", None, false)?;
        self.expect_ok(raw, "sys/seal-status", "read the seal status")
    }

    /// Fails with the sealed message when the server is sealed.
    pub fn ensure_unsealed(&self) -> Result<()> {
        let s = self.seal_status()?;
        if s.get("sealed").and_then(Value::as_bool) == Some(true) {
            return Err(self.sealed());
        }
        Ok(())
    }

    fn sealed(&self) -> Error {
        Error::SecretStore(format!(
            "OpenBao at {} is sealed: unseal it (bao operator unseal) and retry",
            self.addr
        ))
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        what: &str,
        retry: bool,
    ) -> Result<Reply> {
        let mut relogged = false;
        loop {
            let raw = self.send(method, path, body, retry)?;
            if raw.0 == 403 && !relogged && matches!(self.login, Login::AppRole { .. }) {
                // The token may have expired: log in again once.
                relogged = true;
                self.login()?;
                continue;
            }
            return match raw.0 {
                200..=299 => Ok(Reply::Ok(raw.1)),
                404 if !raw.1.to_string().contains("sealed") => Ok(Reply::NotFound),
                400 if errors_text(&raw.1).contains("check-and-set") => Ok(Reply::CasMismatch),
                _ => Err(self.failure(raw, path, what)),
            };
        }
    }

    /// Expects a 2xx answer.
    fn expect_ok(&self, raw: (u16, Value), path: &str, what: &str) -> Result<Value> {
        if (200..300).contains(&raw.0) {
            Ok(raw.1)
        } else {
            Err(self.failure(raw, path, what))
        }
    }

    /// One request; transport failures become "cannot reach" errors. With
    /// `retry`, a timeout or dropped connection is tried once more.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        retry: bool,
    ) -> Result<(u16, Value)> {
        let n = self.nodes.len();
        let start = self.current.load(Ordering::Relaxed) % n;
        let attempts = if retry { 2 } else { 1 };
        let mut last_err = None;
        let mut last_reply = None;
        'nodes: for k in 0..n {
            let i = (start + k) % n;
            let url = format!("{}/v1/{}", self.nodes[i], path.trim_start_matches('/'));
            for _ in 0..attempts {
                match self.send_once(method, &url, body) {
                    // With several nodes, a 5xx (a standby that lost its
                    // active node, a sealed node) sends us to the next one.
                    Ok(r) if n > 1 && (r.0 >= 500 || matches!(r.0, 307 | 308)) => {
                        last_reply = Some(r);
                        continue 'nodes;
                    }
                    Ok(r) => {
                        self.current.store(i, Ordering::Relaxed);
                        return Ok(r);
                    }
                    Err(e) => {
                        let unsent =
                            matches!(e, ureq::Error::ConnectionFailed | ureq::Error::HostNotFound);
                        let transient = matches!(e, ureq::Error::Timeout(_) | ureq::Error::Io(_));
                        last_err = Some(e);
                        if unsent {
                            // Nothing was sent: another node may take it.
                            continue 'nodes;
                        }
                        if !transient {
                            continue 'nodes;
                        }
                        if !retry {
                            // It may have been applied: report, do not resend.
                            break 'nodes;
                        }
                    }
                }
            }
        }
        if let Some(r) = last_reply {
            return Ok(r);
        }
        let cause = match last_err {
            Some(ureq::Error::Timeout(t)) => format!("timed out ({t})"),
            Some(ureq::Error::ConnectionFailed) => "connection refused".to_string(),
            Some(ureq::Error::HostNotFound) => "host not found".to_string(),
            Some(ureq::Error::Tls(e)) => format!("TLS: {e}"),
            Some(ureq::Error::Rustls(e)) => format!("TLS: {e}"),
            Some(e) => one_line(&e.to_string()),
            None => "no answer".to_string(),
        };
        Err(Error::SecretStore(format!(
            "cannot reach OpenBao at {} ({cause}): check that the server runs and that the address (and --ca-file for TLS) is right, then retry",
            self.addr
        )))
    }

    fn send_once(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
    ) -> std::result::Result<(u16, Value), ureq::Error> {
        self.send_to(method, url, body, 1)
    }

    /// One request; a standby's redirect to the active node (307/308) is
    /// followed `redirects` times, never from https down to http.
    fn send_to(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        redirects: u32,
    ) -> std::result::Result<(u16, Value), ureq::Error> {
        let token = self.token();
        let token = token.expose_str().unwrap_or("");
        macro_rules! headers {
            ($req:expr) => {{
                let mut r = $req;
                if !token.is_empty() {
                    r = r.header("X-Vault-Token", token);
                }
                if let Some(ns) = &self.namespace {
                    r = r.header("X-Vault-Namespace", ns.as_str());
                }
                r.header("X-Vault-Request", "true")
            }};
        }
        let resp = match method {
            "GET" => headers!(self.agent.get(url)).call(),
            "DELETE" => headers!(self.agent.delete(url)).call(),
            _ => {
                // The body may carry a secret: keep it in memory that is wiped.
                let bytes = zeroize::Zeroizing::new(
                    serde_json::to_vec(body.unwrap_or(&Value::Null)).unwrap_or_default(),
                );
                let req = headers!(self.agent.post(url)).header("Content-Type", "application/json");
                req.send(&bytes[..])
            }
        };
        let mut resp = resp?;
        let status = resp.status().as_u16();
        if matches!(status, 307 | 308) && redirects > 0 {
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_string);
            if let Some(to) = location.filter(|to| {
                to.starts_with("https://")
                    || (to.starts_with("http://") && url.starts_with("http://"))
            }) {
                return self.send_to(method, &to, body, redirects - 1);
            }
        }
        let text = zeroize::Zeroizing::new(
            resp.body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_string()?,
        );
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Ok((status, value))
    }

    /// Turns a non-2xx answer into the error to show.
    fn failure(&self, raw: (u16, Value), path: &str, what: &str) -> Error {
        let (status, body) = raw;
        let errors = errors_text(&body);
        let path = path.split('?').next().unwrap_or(path);
        if status == 503 && errors.to_lowercase().contains("sealed") {
            return self.sealed();
        }
        if status == 403 || status == 401 {
            let how = match self.login {
                Login::Token => "give a valid token with `keyward vault init --backend openbao --addr URL --token-file PATH` (same --team), then retry",
                Login::AppRole { .. } => "check the AppRole's role id, secret id and policies, and run `keyward vault init --backend openbao --addr URL --role-id ID --secret-id-file PATH` again",
            };
            return Error::SecretStore(format!(
                "OpenBao at {} {DENIED} {path} while trying to {what} (the token expired, was revoked, or its policy does not allow it): {how}",
                self.addr
            ));
        }
        let detail = if errors.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {}", one_line(&errors))
        };
        if status >= 500 {
            return Error::SecretStore(format!(
                "OpenBao at {} failed to {what} ({detail}): check the server's health (bao status) and retry",
                self.addr
            ));
        }
        Error::SecretStore(format!(
            "OpenBao at {} {REFUSED} {what} at {path} ({detail})",
            self.addr
        ))
    }
}

/// How `Client::failure` words a 4xx refusal and a denial: OpenBao
/// answered that it did not apply the request.
const REFUSED: &str = "refused to";
const DENIED: &str = "denied access to";

/// Whether `e` is OpenBao's definite answer that it did not apply a request
/// (refused as malformed or too large, or denied), rather than a failure
/// after which the request may or may not have been applied.
pub fn refused(e: &Error) -> bool {
    let Error::SecretStore(m) = e else {
        return false;
    };
    // "OpenBao at <address> refused to ..." (an address has no spaces).
    let Some((_, rest)) = m
        .strip_prefix("OpenBao at ")
        .and_then(|m| m.split_once(' '))
    else {
        return false;
    };
    rest.starts_with(REFUSED) || rest.starts_with(DENIED)
}

/// OpenBao's `errors` array as one string.
fn errors_text(body: &Value) -> String {
    body.get("errors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(300).collect()
}

/// The certificates of a PEM CA file.
fn read_ca(path: &Path) -> Result<ureq::tls::RootCerts> {
    let pem = std::fs::read(path).map_err(|e| {
        Error::invalid(
            "bad_ca_file",
            format!("cannot read --ca-file {}: {e}", path.display()),
        )
    })?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err(Error::invalid(
            "bad_ca_file",
            format!("--ca-file {} holds no PEM certificate", path.display()),
        ));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> BaoClient {
        BaoClient::new(
            "http://127.0.0.1:1,http://127.0.0.1:2",
            None,
            None,
            SecretBytes::new(b"t".to_vec()),
            Login::Token,
        )
        .unwrap()
    }

    #[test]
    fn only_a_definite_refusal_counts_as_refused() {
        let c = client();
        let answer = |status: u16, error: &str| {
            c.failure(
                (status, json!({"errors": [error]})),
                "secret/data/x",
                "write a key's document",
            )
        };
        // OpenBao answered that it did not apply the request.
        assert!(refused(&answer(
            400,
            "refused JSON input due to high complexity"
        )));
        assert!(refused(&answer(403, "permission denied")));
        // It may have: server errors, a sealed server, anything else.
        assert!(!refused(&answer(500, "internal error: refused to commit")));
        assert!(!refused(&answer(503, "Vault is sealed")));
        assert!(!refused(&Error::SecretStore(
            "cannot reach OpenBao: connection refused to 127.0.0.1".into()
        )));
        assert!(!refused(&Error::Io("refused to".into())));
    }
}
