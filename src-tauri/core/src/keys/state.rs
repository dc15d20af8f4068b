//! Key version states and the one table of allowed transitions.
//!
//! State is data, not flags: every change goes through [`KeyState::apply`],
//! which refuses what the current state does not allow and says which
//! command would make it possible. Time-based states (`expired`, the end of
//! `grace`) are derived at use time by [`effective`], so no background job
//! is needed for them to take effect.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The lifecycle state of one key version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum KeyState {
    /// Staged next version: published, verifies, does not sign yet.
    Pending,
    /// Signs (or, for API keys, is accepted).
    Active,
    /// Rotated out: still verifies until its grace period ends.
    Grace,
    /// Past its expiry or grace end: never verifies or signs.
    Expired,
    /// Reversibly switched off.
    Disabled,
    /// Permanently withdrawn: never verifies or signs again.
    Revoked,
    /// Destruction scheduled; restorable until its date.
    DestroyScheduled,
    /// Secret destroyed; the row is a tombstone and its version never reused.
    Destroyed,
}

/// A requested change of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// A staged version becomes the one that signs.
    Promote,
    /// A new version replaced this one: it enters its grace period.
    RotateOut,
    Revoke,
    Disable,
    Enable,
    ScheduleDestroy,
    Restore,
    Destroy,
}

impl KeyState {
    /// The stored and displayed form.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Pending => "pending",
            KeyState::Active => "active",
            KeyState::Grace => "grace",
            KeyState::Expired => "expired",
            KeyState::Disabled => "disabled",
            KeyState::Revoked => "revoked",
            KeyState::DestroyScheduled => "destroy-scheduled",
            KeyState::Destroyed => "destroyed",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Result<KeyState> {
        Ok(match s {
            "pending" => KeyState::Pending,
            "active" => KeyState::Active,
            "grace" => KeyState::Grace,
            "expired" => KeyState::Expired,
            "disabled" => KeyState::Disabled,
            "revoked" => KeyState::Revoked,
            "destroy-scheduled" => KeyState::DestroyScheduled,
            "destroyed" => KeyState::Destroyed,
            other => {
                return Err(Error::invalid(
                    "bad_state",
                    format!("unknown state {other:?}: use pending, active, grace, expired, disabled, revoked, destroy-scheduled or destroyed"),
                ))
            }
        })
    }

    /// Whether a version in this state may verify tokens / be accepted.
    pub fn verifies(self) -> bool {
        matches!(self, KeyState::Pending | KeyState::Active | KeyState::Grace)
    }

    /// Whether a version in this state may sign.
    pub fn signs(self) -> bool {
        self == KeyState::Active
    }

    /// Applies `t`, or explains why this state does not allow it. `key` names
    /// the key in the hint (`keyward key ... <key>`).
    pub fn apply(self, t: Transition, key: &str) -> Result<KeyState> {
        use KeyState as S;
        use Transition as T;
        let next = match (self, t) {
            (S::Pending, T::Promote) => Some(S::Active),
            (S::Active, T::RotateOut) => Some(S::Grace),
            (S::Pending | S::Active | S::Grace | S::Expired | S::Disabled, T::Revoke) => {
                Some(S::Revoked)
            }
            (S::Pending | S::Active | S::Grace, T::Disable) => Some(S::Disabled),
            (S::Disabled, T::Enable) => Some(S::Active),
            (S::Revoked | S::Disabled | S::Expired, T::ScheduleDestroy) => {
                Some(S::DestroyScheduled)
            }
            (S::DestroyScheduled, T::Destroy) => Some(S::Destroyed),
            (S::Revoked | S::Disabled | S::Expired, T::Destroy) => Some(S::Destroyed),
            _ => None,
        };
        next.ok_or_else(|| {
            let hint = match (self, t) {
                (S::Active | S::Grace | S::Pending, T::ScheduleDestroy | T::Destroy) => {
                    format!(": revoke it first (keyward key revoke {key} --reason TEXT)")
                }
                (S::Revoked, T::Enable) => {
                    ": revocation is never undone; create a new key instead".into()
                }
                (S::Destroyed, _) => ": the secret is gone; create a new key instead".into(),
                (S::Revoked, T::Revoke) => ": it is already revoked".into(),
                _ => String::new(),
            };
            Error::conflict(
                "invalid_transition",
                format!(
                    "cannot {} a {} version of {key}{hint}",
                    transition_verb(t),
                    self.as_str()
                ),
            )
        })
    }
}

fn transition_verb(t: Transition) -> &'static str {
    match t {
        Transition::Promote => "promote",
        Transition::RotateOut => "rotate out",
        Transition::Revoke => "revoke",
        Transition::Disable => "disable",
        Transition::Enable => "enable",
        Transition::ScheduleDestroy => "schedule destruction of",
        Transition::Restore => "restore",
        Transition::Destroy => "destroy",
    }
}

/// The state a version is in at `now`: a stored `active`/`pending` past its
/// `not_after`, or a `grace` past its `grace_until`, is `expired`.
pub fn effective(
    stored: KeyState,
    not_after: Option<DateTime<Utc>>,
    grace_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> KeyState {
    match stored {
        KeyState::Active | KeyState::Pending | KeyState::Grace
            if not_after.is_some_and(|t| t <= now) =>
        {
            KeyState::Expired
        }
        KeyState::Grace if grace_until.is_some_and(|t| t <= now) => KeyState::Expired,
        s => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn transitions_follow_the_table() {
        use KeyState as S;
        use Transition as T;
        assert_eq!(S::Active.apply(T::RotateOut, "k").unwrap(), S::Grace);
        assert_eq!(S::Grace.apply(T::Revoke, "k").unwrap(), S::Revoked);
        assert_eq!(
            S::Revoked.apply(T::ScheduleDestroy, "k").unwrap(),
            S::DestroyScheduled
        );
        assert_eq!(S::Pending.apply(T::Promote, "k").unwrap(), S::Active);
        let e = S::Revoked.apply(T::Enable, "k").unwrap_err();
        assert!(e.to_string().contains("never undone"), "{e}");
        let e = S::Active.apply(T::ScheduleDestroy, "billing").unwrap_err();
        assert!(e.to_string().contains("keyward key revoke billing"), "{e}");
        assert!(S::Destroyed.apply(T::Revoke, "k").is_err());
        assert!(S::Active.apply(T::Promote, "k").is_err());
    }

    #[test]
    fn every_state_round_trips_through_its_name() {
        for s in [
            KeyState::Pending,
            KeyState::Active,
            KeyState::Grace,
            KeyState::Expired,
            KeyState::Disabled,
            KeyState::Revoked,
            KeyState::DestroyScheduled,
            KeyState::Destroyed,
        ] {
            assert_eq!(KeyState::parse(s.as_str()).unwrap(), s);
        }
    }

    #[test]
    fn expiry_and_grace_are_derived_from_time() {
        let t0 = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let exp = Some(t0 + Duration::hours(1));
        assert_eq!(effective(KeyState::Active, exp, None, t0), KeyState::Active);
        assert_eq!(
            effective(KeyState::Active, exp, None, t0 + Duration::hours(1)),
            KeyState::Expired
        );
        let grace = Some(t0 + Duration::minutes(5));
        assert_eq!(effective(KeyState::Grace, None, grace, t0), KeyState::Grace);
        assert_eq!(
            effective(KeyState::Grace, None, grace, t0 + Duration::minutes(5)),
            KeyState::Expired
        );
        assert_eq!(
            effective(KeyState::Revoked, exp, None, t0 + Duration::days(9)),
            KeyState::Revoked
        );
    }
}
