-- Team vaults on OpenBao (see team/): the local database is a cache of the
-- key documents in OpenBao. `team_sync` records, per key, the KV v2 version
-- of its document this cache matches (the check-and-set value of the next
-- write) and a hash of the shared rows (no write when nothing changed).
CREATE TABLE team_sync (
    key_id      TEXT PRIMARY KEY,
    kv_version  INTEGER NOT NULL,
    doc_hash    TEXT NOT NULL,
    updated_by  TEXT,             -- who wrote the document last (OpenBao's copy)
    updated_at  TEXT
);
-- Where a signing key's private half lives: NULL = the vault's secret store,
-- 'transit' = OpenBao's transit engine (non-exportable).
ALTER TABLE keys ADD COLUMN custody TEXT;
-- For transit keys: the transit version behind each Keyward version.
ALTER TABLE key_versions ADD COLUMN transit_version INTEGER;
