-- Back to the first index's rowids (subject -R, message M; newest first
-- backwards).
DROP TRIGGER request_search_message_delete;
DROP TRIGGER request_search_message;
DROP TRIGGER request_search_subject_delete;
DROP TRIGGER request_search_subject_update;
DROP TRIGGER request_search_subject;
DROP TABLE request_search;
CREATE VIRTUAL TABLE request_search USING fts5(
    text,
    scope,
    request_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO request_search (rowid, text, scope, request_id)
SELECT -id, subject, 'c' || company_id || ' r' || id || ' pub', id FROM requests;
INSERT INTO request_search (rowid, text, scope, request_id)
SELECT m.id, m.body,
       'c' || r.company_id || ' r' || r.id || CASE WHEN m.internal THEN ' int' ELSE ' pub' END,
       m.request_id
FROM messages m JOIN requests r ON r.id = m.request_id;
CREATE TRIGGER request_search_subject AFTER INSERT ON requests BEGIN
    INSERT INTO request_search (rowid, text, scope, request_id)
    VALUES (-NEW.id, NEW.subject, 'c' || NEW.company_id || ' r' || NEW.id || ' pub', NEW.id);
END;
CREATE TRIGGER request_search_subject_update AFTER UPDATE OF subject ON requests BEGIN
    UPDATE request_search SET text = NEW.subject WHERE rowid = -NEW.id;
END;
CREATE TRIGGER request_search_subject_delete AFTER DELETE ON requests BEGIN
    DELETE FROM request_search WHERE rowid = -OLD.id;
END;
CREATE TRIGGER request_search_message AFTER INSERT ON messages BEGIN
    INSERT INTO request_search (rowid, text, scope, request_id)
    SELECT NEW.id, NEW.body,
           'c' || r.company_id || ' r' || r.id || CASE WHEN NEW.internal THEN ' int' ELSE ' pub' END,
           NEW.request_id
    FROM requests r WHERE r.id = NEW.request_id;
END;
CREATE TRIGGER request_search_message_delete AFTER DELETE ON messages BEGIN
    DELETE FROM request_search WHERE rowid = OLD.id;
END;
