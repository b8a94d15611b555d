-- Support requests: a customer asks, the company's agents answer. Types are
-- kept to what PostgreSQL carries too. Activity times are Unix milliseconds,
-- made strictly increasing per request by the code that writes them, so that
-- "seen up to" can be compared exactly (see README, "Support requests").

ALTER TABLE companies ADD COLUMN signin_url TEXT;
-- The agents and admins a request may be assigned to, without reading every
-- customer of the company.
CREATE INDEX users_company_role ON users (company_id, role, name);
-- Members of a shared project see each other's requests.
ALTER TABLE projects ADD COLUMN shared BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    project_id BIGINT REFERENCES projects(id) ON DELETE SET NULL,
    requester_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    assignee_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    subject TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    status TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'open', 'pending', 'solved', 'closed')),
    priority TEXT NOT NULL DEFAULT 'normal'
        CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    created_at BIGINT NOT NULL,
    -- any activity (internal notes too), for agents; milliseconds
    updated_at BIGINT NOT NULL,
    -- what a customer may see happen (public messages, status), milliseconds
    public_updated_at BIGINT NOT NULL
);
-- The agents' queue: the company's requests by activity, by status.
CREATE INDEX requests_company_activity ON requests (company_id, updated_at DESC, id DESC);
CREATE INDEX requests_company_status ON requests (company_id, status, updated_at DESC);
CREATE INDEX requests_assignee ON requests (assignee_id, status);
-- A customer's own requests, and a shared project's.
CREATE INDEX requests_requester ON requests (requester_id, public_updated_at DESC);
CREATE INDEX requests_project ON requests (project_id, public_updated_at DESC);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    request_id BIGINT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- what was typed (Markdown), and its cleaned HTML, rendered once
    body TEXT NOT NULL,
    html TEXT NOT NULL,
    -- an internal note: agents and admins only
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_request ON messages (request_id, id);

-- Files of a message, kept in the database so that every instance serves
-- them. The bytes come last: listing a message's files never reads them.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    request_id BIGINT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    -- decided from the bytes, never from the client's header
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

-- What changed on a request besides messages: the status lines of the
-- conversation (customers see status changes only).
CREATE TABLE request_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    request_id BIGINT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    field TEXT NOT NULL CHECK (field IN ('status', 'priority', 'assignee', 'project')),
    old_value TEXT,
    new_value TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX request_changes_request ON request_changes (request_id, id);

-- Each person's last view of a request: the activity time they saw.
CREATE TABLE request_views (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    request_id BIGINT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, request_id)
);

-- Search over subjects and messages (SQLite's FTS5, in the bundled build).
-- One row per message (rowid = its id) and one per subject (rowid = minus the
-- request's id). `scope` holds tokens that narrow a search inside the index
-- itself: `c<company id>`, `r<request id>`, and `pub` or `int` (an internal
-- note), so a query ANDs them with the words and FTS5 skips through its
-- posting lists instead of filtering every match. Kept by triggers, so that no
-- write can forget it.
CREATE VIRTUAL TABLE request_search USING fts5(
    text,
    scope,
    request_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
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
