-- Support requests: a customer asks, the company's agents answer. Types are
-- kept to what SQLite carries too. Activity times are Unix milliseconds,
-- made strictly increasing per request by the code that writes them, so that
-- "seen up to" can be compared exactly (see README, "Support requests").

ALTER TABLE companies ADD COLUMN signin_url TEXT;
-- The agents and admins a request may be assigned to, without reading every
-- customer of the company.
CREATE INDEX users_company_role ON users (company_id, role, name);
-- Members of a shared project see each other's requests.
ALTER TABLE projects ADD COLUMN shared BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE requests (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
-- them. The bytes come last: listing a message's files never reads them
-- (and PostgreSQL keeps large ones out of line, in TOAST).
CREATE TABLE attachments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    request_id BIGINT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    -- decided from the bytes, never from the client's header
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

-- What changed on a request besides messages: the status lines of the
-- conversation (customers see status changes only).
CREATE TABLE request_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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

-- Search over subjects and messages, with PostgreSQL's full-text search: the
-- same rows as SQLite's FTS5 index, one per subject and one per message, and
-- the same order. `key` is the order shown, ascending:
--
--   subject of request R:  key = -2^52 - R   (subjects first, newest first)
--   message M:             key = -M          (then messages, newest first)
--
-- so a request whose subject has the words comes before one where only a
-- message has them, and a walk through the matches pages on `key > last`.
-- The scope is in columns: the GIN index holds (company_id, doc) together
-- (btree_gin), so a company's search intersects posting lists inside the
-- index, as FTS5 did with its scope tokens, instead of filtering every
-- company's matches; a few requests' search reads them by request_id. Kept
-- by triggers, so that no write can forget it. No foreign keys: the triggers
-- own the rows, and an index probe per write would buy nothing.
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- What unicode61 with remove_diacritics did: lower case, accents off
-- ('Zürich' finds 'zurich'), without the unaccent extension (whose function
-- is not immutable). NFD splits a letter from its marks, the marks go, NFC
-- puts the rest back. Applied to the words of a query too, so both sides
-- fold alike. normalize() needs a UTF8 database: refused here, rather than at
-- every request's insert.
DO $$
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the database must be UTF8, not %', current_setting('server_encoding');
    END IF;
END
$$;
CREATE FUNCTION request_search_fold(t TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN normalize(regexp_replace(normalize(lower(t), NFD),
        '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+', '', 'g'), NFC);

-- The words of a text, as the code cuts what is typed: runs of letters and
-- digits. Punctuation becomes a space first, or the parser would keep
-- 'bob@example.com' or 'a/b/c' as one token that no typed word matches.
-- Positions are stripped: searches need no phrases, and the rows are smaller.
CREATE FUNCTION request_search_doc(t TEXT) RETURNS TSVECTOR
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN strip(to_tsvector('simple'::regconfig, regexp_replace(request_search_fold(t),
        '[\u0001-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007f\u00a0-\u00a9\u00ab-\u00b1\u00b4\u00b6-\u00b8\u00bb\u00bf\u00d7\u00f7\u2000-\u206f\u2e00-\u2e7f\u3000-\u303f]+',
        ' ', 'g')));

CREATE TABLE request_search (
    key BIGINT PRIMARY KEY,
    company_id BIGINT NOT NULL,
    request_id BIGINT NOT NULL,
    -- an internal note's row; subjects are public
    internal BOOLEAN NOT NULL,
    doc TSVECTOR NOT NULL
);
CREATE INDEX request_search_company_doc ON request_search USING gin (company_id, doc);
CREATE INDEX request_search_request ON request_search (request_id, key);

CREATE FUNCTION request_search_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO request_search (key, company_id, request_id, internal, doc)
        VALUES (-4503599627370496 - NEW.id, NEW.company_id, NEW.id, FALSE,
                request_search_doc(NEW.subject));
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE request_search SET doc = request_search_doc(NEW.subject)
        WHERE key = -4503599627370496 - NEW.id;
    ELSE
        DELETE FROM request_search WHERE key = -4503599627370496 - OLD.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER request_search_subject AFTER INSERT ON requests
    FOR EACH ROW EXECUTE FUNCTION request_search_subject();
-- Only when the subject changes: a status change rewrites no index row.
CREATE TRIGGER request_search_subject_update AFTER UPDATE OF subject ON requests
    FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject)
    EXECUTE FUNCTION request_search_subject();
CREATE TRIGGER request_search_subject_delete AFTER DELETE ON requests
    FOR EACH ROW EXECUTE FUNCTION request_search_subject();

-- A request's messages go with it by their foreign key's cascade, which
-- fires the delete trigger of each.
CREATE FUNCTION request_search_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO request_search (key, company_id, request_id, internal, doc)
        SELECT -NEW.id, r.company_id, r.id, NEW.internal, request_search_doc(NEW.body)
        FROM requests r WHERE r.id = NEW.request_id;
    ELSE
        DELETE FROM request_search WHERE key = -OLD.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER request_search_message AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION request_search_message();
CREATE TRIGGER request_search_message_delete AFTER DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION request_search_message();
