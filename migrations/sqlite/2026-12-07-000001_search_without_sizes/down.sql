-- The search index with its table of column sizes again (FTS5's default).
DROP TRIGGER request_search_subject_update;
DROP TRIGGER request_search_subject_delete;
DROP TRIGGER request_search_message_delete;
ALTER TABLE request_search RENAME TO request_search_unsized;
CREATE VIRTUAL TABLE request_search USING fts5(
    text,
    scope,
    request_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO request_search (request_search, rank) VALUES ('pgsz', 1000);
INSERT INTO request_search (rowid, text, scope, request_id)
SELECT rowid, text, scope, request_id FROM request_search_unsized ORDER BY rowid;
DROP TABLE request_search_unsized;
INSERT INTO request_search (request_search) VALUES ('optimize');
CREATE TRIGGER request_search_subject_update AFTER UPDATE OF subject ON requests BEGIN
    UPDATE search_staged SET text = NEW.subject WHERE id = -4503599627370496 - NEW.id;
    UPDATE request_search SET text = NEW.subject WHERE rowid = -4503599627370496 - NEW.id;
END;
CREATE TRIGGER request_search_subject_delete AFTER DELETE ON requests BEGIN
    DELETE FROM search_staged WHERE id = -4503599627370496 - OLD.id;
    DELETE FROM request_search WHERE rowid = -4503599627370496 - OLD.id;
END;
CREATE TRIGGER request_search_message_delete AFTER DELETE ON messages BEGIN
    DELETE FROM search_staged WHERE id = -OLD.id;
    DELETE FROM request_search WHERE rowid = -OLD.id;
END;
