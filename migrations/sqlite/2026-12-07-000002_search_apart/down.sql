-- The search index back in this file, kept at each commit: rebuilt here from
-- `requests` and `messages` (the file of its own is left as it is; delete it).
DROP TRIGGER search_subject;
DROP TRIGGER search_subject_update;
DROP TRIGGER search_subject_delete;
DROP TRIGGER search_message;
DROP TRIGGER search_message_delete;
DROP TABLE search_origin;
DROP TABLE search_staged;
CREATE TABLE search_staged (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    scope TEXT NOT NULL,
    request_id INTEGER NOT NULL
);
CREATE VIRTUAL TABLE request_search USING fts5(
    text,
    scope,
    request_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2',
    columnsize = 0
);
INSERT INTO request_search (request_search, rank) VALUES ('pgsz', 1000);
INSERT INTO request_search (rowid, text, scope, request_id)
SELECT -4503599627370496 - id, subject, 'c' || company_id || ' r' || id || ' pub', id
FROM requests
UNION ALL
SELECT -m.id, m.body,
       'c' || r.company_id || ' r' || r.id || CASE WHEN m.internal THEN ' int' ELSE ' pub' END,
       m.request_id
FROM messages m JOIN requests r ON r.id = m.request_id
ORDER BY 1;
CREATE TRIGGER request_search_subject AFTER INSERT ON requests BEGIN
    INSERT INTO search_staged (id, text, scope, request_id)
    VALUES (-4503599627370496 - NEW.id, NEW.subject,
            'c' || NEW.company_id || ' r' || NEW.id || ' pub', NEW.id);
END;
CREATE TRIGGER request_search_subject_update AFTER UPDATE OF subject ON requests BEGIN
    UPDATE search_staged SET text = NEW.subject WHERE id = -4503599627370496 - NEW.id;
    UPDATE request_search SET text = NEW.subject WHERE rowid = -4503599627370496 - NEW.id;
END;
CREATE TRIGGER request_search_subject_delete AFTER DELETE ON requests BEGIN
    DELETE FROM search_staged WHERE id = -4503599627370496 - OLD.id;
    DELETE FROM request_search WHERE rowid = -4503599627370496 - OLD.id;
END;
CREATE TRIGGER request_search_message AFTER INSERT ON messages BEGIN
    INSERT INTO search_staged (id, text, scope, request_id)
    SELECT -NEW.id, NEW.body,
           'c' || r.company_id || ' r' || r.id || CASE WHEN NEW.internal THEN ' int' ELSE ' pub' END,
           NEW.request_id
    FROM requests r WHERE r.id = NEW.request_id;
END;
CREATE TRIGGER request_search_message_delete AFTER DELETE ON messages BEGIN
    DELETE FROM search_staged WHERE id = -OLD.id;
    DELETE FROM request_search WHERE rowid = -OLD.id;
END;
