-- The search index moves to a database file of its own, kept by a thread of
-- its own (src/db/search/index.rs): the writer's commits no longer carry
-- FTS5's merges, which made the slowest ~2 % of them (docs/PERFORMANCE.md,
-- "New requests"). This file keeps, for that thread, a log of what changed:
-- every new, changed or deleted subject and message is a row of
-- `search_staged`, in the order committed (`seq`). The thread indexes the rows
-- after the last one it indexed (a mark it keeps in the index's file, in the
-- same transaction) and the writer deletes what it has indexed (`pruned`
-- below). The index is rebuilt from `requests` and `messages` whenever its
-- file is missing or does not follow this one (another database's, older than
-- what was pruned, newer than this log): it holds nothing else.
DROP TRIGGER request_search_subject;
DROP TRIGGER request_search_subject_update;
DROP TRIGGER request_search_subject_delete;
DROP TRIGGER request_search_message;
DROP TRIGGER request_search_message_delete;
DROP TABLE request_search;
DROP TABLE search_staged;
-- A row's key is its rowid in the index, the order a search shows: subjects
-- first, then messages, each newest first; `text` is what the index holds for
-- it from then on, NULL once deleted. AUTOINCREMENT: a `seq` is never given
-- twice, even once every row is pruned. `nonce`, drawn for each row, tells
-- this database's row `seq` from another history's (a backup restored, commits
-- lost by a power cut): the index keeps the nonce of the row at its mark, and
-- the writer never deletes that row.
CREATE TABLE search_staged (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key INTEGER NOT NULL,
    text TEXT,
    scope TEXT,
    request_id INTEGER,
    nonce INTEGER NOT NULL DEFAULT (random())
);
-- Which database this is (`origin`, drawn once) and the last `seq` the writer
-- deleted from the log: an index's file that names another origin, or that
-- indexed less than was deleted, is rebuilt.
CREATE TABLE search_origin (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    origin INTEGER NOT NULL,
    pruned INTEGER NOT NULL
);
INSERT INTO search_origin (id, origin, pruned) VALUES (1, random(), 0);
-- The rows are spelled as the rebuild spells them (src/db/search/index.rs,
-- `REBUILD`).
CREATE TRIGGER search_subject AFTER INSERT ON requests BEGIN
    INSERT INTO search_staged (key, text, scope, request_id)
    VALUES (-4503599627370496 - NEW.id, NEW.subject,
            'c' || NEW.company_id || ' r' || NEW.id || ' pub', NEW.id);
END;
CREATE TRIGGER search_subject_update AFTER UPDATE OF subject ON requests BEGIN
    INSERT INTO search_staged (key, text, scope, request_id)
    VALUES (-4503599627370496 - NEW.id, NEW.subject,
            'c' || NEW.company_id || ' r' || NEW.id || ' pub', NEW.id);
END;
CREATE TRIGGER search_subject_delete AFTER DELETE ON requests BEGIN
    INSERT INTO search_staged (key) VALUES (-4503599627370496 - OLD.id);
END;
CREATE TRIGGER search_message AFTER INSERT ON messages BEGIN
    INSERT INTO search_staged (key, text, scope, request_id)
    SELECT -NEW.id, NEW.body,
           'c' || r.company_id || ' r' || r.id || CASE WHEN NEW.internal THEN ' int' ELSE ' pub' END,
           NEW.request_id
    FROM requests r WHERE r.id = NEW.request_id;
END;
CREATE TRIGGER search_message_delete AFTER DELETE ON messages BEGIN
    INSERT INTO search_staged (key) VALUES (-OLD.id);
END;
