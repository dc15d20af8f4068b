-- Lifecycle policy: automatic rotation, a maximum token lifetime (which
-- guards revoke/disable of versions whose tokens may still be live), and
-- the times a version was published and stopped signing.
ALTER TABLE keys ADD COLUMN auto_rotate INTEGER;      -- seconds between rotations
ALTER TABLE keys ADD COLUMN max_token_ttl INTEGER;    -- seconds
ALTER TABLE key_versions ADD COLUMN published_at TEXT;
ALTER TABLE key_versions ADD COLUMN stopped_signing_at TEXT;
UPDATE key_versions SET published_at = created_at;
