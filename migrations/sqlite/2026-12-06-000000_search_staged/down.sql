-- Back to triggers that write the FTS5 index directly.
INSERT INTO request_search (rowid, text, scope, request_id)
SELECT id, text, scope, request_id FROM search_staged;
DROP TRIGGER request_search_subject;
DROP TRIGGER request_search_subject_update;
DROP TRIGGER request_search_subject_delete;
DROP TRIGGER request_search_message;
DROP TRIGGER request_search_message_delete;
DROP TABLE search_staged;
CREATE TRIGGER request_search_subject AFTER INSERT ON requests BEGIN
    INSERT INTO request_search (rowid, text, scope, request_id)
    VALUES (-4503599627370496 - NEW.id, NEW.subject,
            'c' || NEW.company_id || ' r' || NEW.id || ' pub', NEW.id);
END;
CREATE TRIGGER request_search_subject_update AFTER UPDATE OF subject ON requests BEGIN
    UPDATE request_search SET text = NEW.subject WHERE rowid = -4503599627370496 - NEW.id;
END;
CREATE TRIGGER request_search_subject_delete AFTER DELETE ON requests BEGIN
    DELETE FROM request_search WHERE rowid = -4503599627370496 - OLD.id;
END;
CREATE TRIGGER request_search_message AFTER INSERT ON messages BEGIN
    INSERT INTO request_search (rowid, text, scope, request_id)
    SELECT -NEW.id, NEW.body,
           'c' || r.company_id || ' r' || r.id || CASE WHEN NEW.internal THEN ' int' ELSE ' pub' END,
           NEW.request_id
    FROM requests r WHERE r.id = NEW.request_id;
END;
CREATE TRIGGER request_search_message_delete AFTER DELETE ON messages BEGIN
    DELETE FROM request_search WHERE rowid = -OLD.id;
END;
