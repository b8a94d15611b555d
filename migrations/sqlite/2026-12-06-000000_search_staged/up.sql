-- New subjects and messages are staged in a plain table by their triggers and
-- moved into the FTS5 index once, at the end of their write transaction
-- (`db::search::index_staged`). Written into request_search directly, every
-- later statement of the transaction made FTS5 flush its pending terms as a
-- segment of their own (at each statement's savepoint), so a batch of N new
-- requests wrote ~2N segments and merged them again: half of the writer's time
-- (docs/PERFORMANCE.md, "New requests"). Any write transaction that stages
-- rows moves everything staged, so nothing waits there past its commit.
CREATE TABLE search_staged (
    id INTEGER PRIMARY KEY,  -- the rowid in request_search
    text TEXT NOT NULL,
    scope TEXT NOT NULL,
    request_id INTEGER NOT NULL
);
DROP TRIGGER request_search_subject;
DROP TRIGGER request_search_subject_update;
DROP TRIGGER request_search_subject_delete;
DROP TRIGGER request_search_message;
DROP TRIGGER request_search_message_delete;
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
