-- The search index without its table of column sizes (FTS5 `columnsize=0`).
-- FTS5 keeps each row's size in words, in a table of its own, for ranking by
-- relevance (bm25); Portico's search shows its results in rowid order and never
-- ranks, so that was a row written for nothing with every subject and message:
-- without it the writer spends 2.5–4.4 µs less a new request, +4–8 % new
-- requests a second (docs/PERFORMANCE.md, "New requests"). An FTS5 table
-- cannot change that option: the index is rebuilt once (~3 s for 400,000
-- rows), with the same rowids, pages of ~1,000 bytes (…_search_pages) and
-- triggers.
DROP TRIGGER request_search_subject_update;
DROP TRIGGER request_search_subject_delete;
DROP TRIGGER request_search_message_delete;
ALTER TABLE request_search RENAME TO request_search_sized;
CREATE VIRTUAL TABLE request_search USING fts5(
    text,
    scope,
    request_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2',
    columnsize = 0
);
INSERT INTO request_search (request_search, rank) VALUES ('pgsz', 1000);
INSERT INTO request_search (rowid, text, scope, request_id)
SELECT rowid, text, scope, request_id FROM request_search_sized ORDER BY rowid;
DROP TABLE request_search_sized;
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
