-- Substring search over audit events (`audit list --grep`) without scanning
-- every row: an FTS5 trigram index kept in step with the append-only table.
CREATE VIRTUAL TABLE audit_fts USING fts5(
    action, actor, key_id, details,
    content = 'audit', content_rowid = 'seq', tokenize = 'trigram'
);
INSERT INTO audit_fts (rowid, action, actor, key_id, details)
    SELECT seq, action, actor, key_id, details FROM audit;
CREATE TRIGGER audit_fts_insert AFTER INSERT ON audit BEGIN
    INSERT INTO audit_fts (rowid, action, actor, key_id, details)
    VALUES (new.seq, new.action, new.actor, new.key_id, new.details);
END;
-- Only an archive removes events (see audit::archive); keep the index in step.
CREATE TRIGGER audit_fts_delete AFTER DELETE ON audit BEGIN
    INSERT INTO audit_fts (audit_fts, rowid, action, actor, key_id, details)
    VALUES ('delete', old.seq, old.action, old.actor, old.key_id, old.details);
END;
CREATE INDEX audit_outcome ON audit(outcome, seq);
