//! Staged rotation (`promote`), reversible `disable`/`enable`, per-key
//! policy, and `key due`: overdue rotations, expiring keys, ending grace
//! periods and due destructions — applied when Keyward runs, never silently
//! late.

use super::lifecycle::{live_tokens_guard, refuse_if_destroying};
use super::model::{parse_ts, pick_versions, resolve, versions, KeyRow};
use super::Vault;
use crate::audit::Outcome;
use crate::db::Transaction;
use crate::duration::{format_duration, rfc3339};
use crate::error::{Error, Result};
use crate::keys::state::{KeyState, Transition};
use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use serde::Serialize;
use serde_json::json;

/// `key policy` arguments: `None` leaves a setting as it is; a zero
/// duration clears `auto_rotate`/`max_token_ttl` (and sets grace to 0).
#[derive(Debug, Clone, Default)]
pub struct PolicyChange {
    pub auto_rotate: Option<Duration>,
    pub grace: Option<Duration>,
    pub max_token_ttl: Option<Duration>,
}

/// One item of `key due`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DueItem {
    /// `rotation`, `expiry`, `grace_end`, `destruction`.
    pub kind: String,
    pub key_id: String,
    pub name: String,
    pub version: Option<u32>,
    /// When it is (or was) due.
    pub due_at: String,
    /// Already past due.
    pub overdue: bool,
    /// Past due by more than a day: something should have run and did not.
    pub late: bool,
    pub detail: String,
}

/// `key due`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DueReport {
    pub now: String,
    pub within: String,
    pub items: Vec<DueItem>,
    /// What `--apply` did.
    pub applied: Vec<String>,
}

impl Vault {
    /// Promotes the staged version once it has been published for
    /// `min_published`; the active one enters its grace period.
    pub fn promote(&mut self, id: &str, min_published: Duration) -> Result<u32> {
        if min_published < Duration::zero() {
            return Err(Error::invalid(
                "bad_duration",
                "--min-published must not be negative",
            ));
        }
        // Read and check under the write lock, like `revoke`: a second
        // promotion, or a disable of the staged version, must not act on
        // what it read before this one committed.
        let tx = Transaction::immediate(&self.conn)?;
        let key = resolve(&tx, id)?;
        let vs = versions(&tx, &key.id)?;
        let now = self.clock.now();
        let pending = vs.iter().rev().find(|v| v.effective_state(now) == KeyState::Pending).ok_or_else(|| {
            Error::conflict(
                "invalid_transition",
                format!("{} has no staged version to promote: stage one with `keyward key rotate {} --stage`", key.name, key.id),
            )
        })?;
        pending.state.apply(Transition::Promote, &key.name)?;
        let published = parse_ts(
            pending
                .published_at
                .as_deref()
                .or(Some(&pending.created_at)),
        )
        .unwrap_or(now);
        if now - published < min_published {
            let ready = rfc3339(published + min_published);
            return Err(Error::conflict(
                "too_early",
                format!(
                    "v{} of {} was published {} ago, less than --min-published {}: promote it after {ready} (or lower --min-published)",
                    pending.version,
                    key.name,
                    format_duration(now - published),
                    format_duration(min_published)
                ),
            ));
        }
        crate::failpoint::hit("promote.checked");
        let grace = Duration::seconds(key.grace.unwrap_or(86_400));
        let at = rfc3339(now);
        let grace_until = rfc3339(now + grace);
        let mut previous = Vec::new();
        for v in vs
            .iter()
            .filter(|v| v.version != pending.version && v.effective_state(now) == KeyState::Active)
        {
            tx.execute(
                "UPDATE key_versions SET state = 'grace', grace_until = ?3, stopped_signing_at = ?4 WHERE key_id = ?1 AND version = ?2",
                params![key.id, v.version, grace_until, at],
            )?;
            previous.push(v.version);
        }
        tx.execute(
            "UPDATE key_versions SET state = 'active', activated_at = ?3 WHERE key_id = ?1 AND version = ?2",
            params![key.id, pending.version, at],
        )?;
        self.record(
            &tx,
            "key.promote",
            Some((&key.id, Some(pending.version))),
            Outcome::Success,
            json!({"name": key.name, "previous_versions": previous, "grace_until": grace_until}),
        )?;
        self.commit(tx)?;
        Ok(pending.version)
    }

    /// Disables one version, or every live one (reversible).
    pub fn disable(
        &mut self,
        id: &str,
        version: Option<u32>,
        reason: &str,
        force: bool,
    ) -> Result<Vec<u32>> {
        let result = self.disable_unrecorded(id, version, reason, force);
        self.record_denial("key.disable", id, version, &result);
        result
    }

    fn disable_unrecorded(
        &mut self,
        id: &str,
        version: Option<u32>,
        reason: &str,
        force: bool,
    ) -> Result<Vec<u32>> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid("bad_reason", "give a reason: --reason TEXT"));
        }
        // Under the write lock: a rotation or promotion that commits
        // meanwhile must not leave a version this "disable every version"
        // never saw.
        let tx = Transaction::immediate(&self.conn)?;
        let key = resolve(&tx, id)?;
        let vs = versions(&tx, &key.id)?;
        let now = self.clock.now();
        let targets = pick_versions(
            &key,
            &vs,
            version,
            now,
            |s| s.verifies(),
            || format!("{} has no version to disable", key.name),
        )?;
        for v in &targets {
            v.effective_state(now)
                .apply(Transition::Disable, &key.name)?;
            if !force {
                live_tokens_guard(&key, v, now, "disable")?;
            }
        }
        crate::failpoint::hit("disable.checked");
        let at = rfc3339(now);
        let mut done = Vec::new();
        for v in targets {
            tx.execute(
                "UPDATE key_versions SET prior_state = state, state = 'disabled', reason = ?3,
                     stopped_signing_at = CASE WHEN state = 'active' THEN ?4 ELSE stopped_signing_at END
                 WHERE key_id = ?1 AND version = ?2",
                params![key.id, v.version, reason, at],
            )?;
            self.record(
                &tx,
                "key.disable",
                Some((&key.id, Some(v.version))),
                Outcome::Success,
                json!({"name": key.name, "reason": reason}),
            )?;
            done.push(v.version);
        }
        self.commit(tx)?;
        Ok(done)
    }

    /// Re-enables disabled versions in the state they had; a formerly active
    /// version whose place was taken meanwhile comes back in grace.
    pub fn enable(&mut self, id: &str, version: Option<u32>) -> Result<Vec<(u32, KeyState)>> {
        // Under the write lock: whether the active place is taken must be
        // true when this commits, or a promotion meanwhile would leave two
        // active versions.
        let tx = Transaction::immediate(&self.conn)?;
        let key = resolve(&tx, id)?;
        // Its disabled versions are on their way out.
        refuse_if_destroying(&tx, &key)?;
        let vs = versions(&tx, &key.id)?;
        let now = self.clock.now();
        let targets = pick_versions(
            &key,
            &vs,
            version,
            now,
            |s| s == KeyState::Disabled,
            || format!("{} has no version to enable", key.name),
        )?;
        for v in &targets {
            v.effective_state(now)
                .apply(Transition::Enable, &key.name)?;
        }
        let mut active_taken = vs
            .iter()
            .any(|v| v.effective_state(now) == KeyState::Active);
        let grace_until = rfc3339(now + Duration::seconds(key.grace.unwrap_or(86_400)));
        crate::failpoint::hit("enable.checked");
        let mut done = Vec::new();
        // Newest first: it is the one that takes the active place.
        for v in targets.iter().rev() {
            let mut to = v.prior_state.unwrap_or(KeyState::Active);
            if to == KeyState::Active && active_taken {
                to = KeyState::Grace;
            }
            if to == KeyState::Active {
                active_taken = true;
            }
            tx.execute(
                "UPDATE key_versions SET state = ?3, prior_state = NULL, reason = NULL,
                     grace_until = CASE WHEN ?3 = 'grace' THEN COALESCE(grace_until, ?4) ELSE grace_until END
                 WHERE key_id = ?1 AND version = ?2",
                params![key.id, v.version, to.as_str(), grace_until],
            )?;
            self.record(
                &tx,
                "key.enable",
                Some((&key.id, Some(v.version))),
                Outcome::Success,
                json!({"name": key.name, "state": to.as_str()}),
            )?;
            done.push((v.version, to));
        }
        self.commit(tx)?;
        Ok(done)
    }

    /// Changes a key's policy; returns the policy now in force.
    pub fn set_policy(&mut self, id: &str, change: PolicyChange) -> Result<super::model::Policy> {
        for (name, d) in [
            ("--auto-rotate", change.auto_rotate),
            ("--grace", change.grace),
            ("--max-token-ttl", change.max_token_ttl),
        ] {
            if d.is_some_and(|d| d < Duration::zero()) {
                return Err(Error::invalid(
                    "bad_duration",
                    format!("{name} must not be negative"),
                ));
            }
        }
        let key = resolve(&self.conn, id)?;
        if change.max_token_ttl.is_some() && key.kind != crate::keys::KeyKind::Signing {
            return Err(Error::invalid(
                "not_signing",
                format!(
                    "{} is an API key: --max-token-ttl applies to signing keys",
                    key.name
                ),
            ));
        }
        let secs = |d: Option<Duration>| d.map(|d| d.num_seconds());
        let clear_zero = |d: Option<i64>| d.filter(|s| *s > 0);
        let tx = Transaction::immediate(&self.conn)?;
        if let Some(a) = secs(change.auto_rotate) {
            tx.execute(
                "UPDATE keys SET auto_rotate = ?2 WHERE id = ?1",
                params![key.id, clear_zero(Some(a))],
            )?;
        }
        if let Some(g) = secs(change.grace) {
            tx.execute(
                "UPDATE keys SET grace = ?2 WHERE id = ?1",
                params![key.id, g],
            )?;
        }
        if let Some(t) = secs(change.max_token_ttl) {
            tx.execute(
                "UPDATE keys SET max_token_ttl = ?2 WHERE id = ?1",
                params![key.id, clear_zero(Some(t))],
            )?;
        }
        let updated = resolve(&tx, &key.id)?;
        let policy = updated.policy();
        self.record(
            &tx,
            "key.policy",
            Some((&key.id, None)),
            Outcome::Success,
            json!({"name": key.name, "policy": policy}),
        )?;
        self.commit(tx)?;
        Ok(policy)
    }

    /// What is due within `within`: rotations (by policy), expiries, ends of
    /// grace periods and scheduled destructions. With `apply`, performs the
    /// due rotations and destructions, audited with the actor `system`.
    pub fn due(&mut self, within: Duration, apply: bool) -> Result<DueReport> {
        if within < Duration::zero() {
            return Err(Error::invalid(
                "bad_duration",
                "--within must not be negative",
            ));
        }
        let now = self.clock.now();
        let horizon = now + within;
        let mut items = Vec::new();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM keys WHERE destroyed_at IS NULL ORDER BY name, id",
            super::model::KEY_COLUMNS
        ))?;
        let keys = stmt
            .query_map([], KeyRow::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        for k in &keys {
            let vs = versions(&self.conn, &k.id)?;
            if let Some(at) = k.rotation_due(&vs, now).filter(|t| *t <= horizon) {
                items.push(item(
                    "rotation",
                    k,
                    None,
                    at,
                    now,
                    format!(
                        "auto-rotation every {} is due",
                        format_duration(Duration::seconds(k.auto_rotate.unwrap_or(0)))
                    ),
                ));
            }
            for v in &vs {
                let state = v.effective_state(now);
                if matches!(state, KeyState::Active | KeyState::Pending) {
                    if let Some(t) = parse_ts(v.not_after.as_deref()).filter(|t| *t <= horizon) {
                        items.push(item(
                            "expiry",
                            k,
                            Some(v.version),
                            t,
                            now,
                            format!("v{} expires", v.version),
                        ));
                    }
                }
                if state == KeyState::Grace {
                    if let Some(t) = parse_ts(v.grace_until.as_deref()).filter(|t| *t <= horizon) {
                        items.push(item(
                            "grace_end",
                            k,
                            Some(v.version),
                            t,
                            now,
                            format!("v{} stops verifying when its grace period ends", v.version),
                        ));
                    }
                }
            }
            if let Some(t) = parse_ts(k.destroy_at.as_deref()).filter(|t| *t <= horizon) {
                items.push(item(
                    "destruction",
                    k,
                    None,
                    t,
                    now,
                    "scheduled destruction of every secret".into(),
                ));
            }
        }
        items.sort_by(|a, b| a.due_at.cmp(&b.due_at));
        let mut applied = Vec::new();
        if apply {
            let previous_actor = std::mem::replace(&mut self.actor, "system".into());
            let result = (|| -> Result<()> {
                for it in items.iter().filter(|i| i.kind == "rotation" && i.overdue) {
                    let r = self.rotate(&it.key_id, None)?;
                    applied.push(format!("rotated {} to v{}", it.name, r.version));
                }
                for id in self.destroy_due()? {
                    applied.push(format!("destroyed {id}"));
                }
                Ok(())
            })();
            self.actor = previous_actor;
            result?;
        }
        Ok(DueReport {
            now: rfc3339(now),
            within: format_duration(within),
            items,
            applied,
        })
    }
}

fn item(
    kind: &str,
    k: &KeyRow,
    version: Option<u32>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    detail: String,
) -> DueItem {
    DueItem {
        kind: kind.into(),
        key_id: k.id.clone(),
        name: k.name.clone(),
        version,
        due_at: rfc3339(at),
        overdue: at <= now,
        late: now - at > Duration::days(1),
        detail,
    }
}
