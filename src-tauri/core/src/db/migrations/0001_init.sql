-- Vault schema v1. Secrets never live here: only ids, states, public keys,
-- API-key hashes and display hints.

CREATE TABLE meta (
    k TEXT PRIMARY KEY,
    v TEXT NOT NULL
);

CREATE TABLE keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('api', 'signing')),
    alg         TEXT,
    family      TEXT,
    prefix      TEXT,
    scopes      TEXT NOT NULL DEFAULT '[]',
    note        TEXT,
    created_at  TEXT NOT NULL,
    expires_in  INTEGER,          -- seconds; each new version expires this long after it is created
    grace       INTEGER,          -- seconds; default grace period on rotation
    destroy_at  TEXT,             -- set while destruction is scheduled
    destroyed_at TEXT             -- set once every secret is destroyed (tombstone)
);
-- A destroyed key's name may be reused; its id and versions never are.
CREATE UNIQUE INDEX keys_live_name ON keys(name) WHERE destroyed_at IS NULL;

CREATE TABLE key_versions (
    key_id        TEXT NOT NULL REFERENCES keys(id),
    version       INTEGER NOT NULL,
    state         TEXT NOT NULL,
    prior_state   TEXT,           -- state to return to on restore
    created_at    TEXT NOT NULL,
    activated_at  TEXT,
    not_after     TEXT,           -- expiry of this version
    grace_until   TEXT,           -- end of the grace period once rotated out
    revoked_at    TEXT,
    reason        TEXT,
    kid           TEXT,
    thumbprint    TEXT,
    public_der    BLOB,           -- SPKI DER of asymmetric keys (public part only)
    has_secret    INTEGER NOT NULL,
    api_hash      BLOB,           -- SHA-256 of the API key
    api_last4     TEXT,
    last_used_at  TEXT,
    PRIMARY KEY (key_id, version)
);
CREATE INDEX key_versions_api_hint ON key_versions(api_last4) WHERE api_last4 IS NOT NULL;
CREATE INDEX key_versions_kid ON key_versions(kid) WHERE kid IS NOT NULL;

-- Unfinished operations spanning the keychain and this database (see vault::lifecycle).
CREATE TABLE pending_ops (
    id          INTEGER PRIMARY KEY,
    op          TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    entry       TEXT NOT NULL,
    pid         INTEGER NOT NULL,  -- the process running it: a live one is not repaired
    started_at  TEXT NOT NULL
);

CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    source     TEXT NOT NULL,
    action     TEXT NOT NULL,
    key_id     TEXT,
    version    INTEGER,
    outcome    TEXT NOT NULL,
    details    TEXT NOT NULL,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);
CREATE INDEX audit_key ON audit(key_id, seq);
CREATE INDEX audit_action ON audit(action, seq);
CREATE INDEX audit_at ON audit(at);

-- Issued JWT ids and the denylist of revoked ones.
CREATE TABLE jti (
    jti         TEXT PRIMARY KEY,
    key_id      TEXT,
    version     INTEGER,
    issued_at   TEXT,
    exp         INTEGER,          -- unix seconds, NULL when the token has no exp
    revoked_at  TEXT,
    revoked_until INTEGER         -- unix seconds: drop the entry after this
);
CREATE INDEX jti_revoked ON jti(revoked_until) WHERE revoked_at IS NOT NULL;
