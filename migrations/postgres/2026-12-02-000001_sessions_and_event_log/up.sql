-- Sessions that end on the server. The cookie names one of these rows (its
-- id and its user); every request checks that it still exists (from the
-- cache on the hot path). Sign-out deletes the row, so a copy of the cookie
-- opens nothing; disabling a user deletes all of theirs.
--
-- Append-only by design: a sign-in pays one append at the end of the table
-- (and the sequence), no index but the primary key's, itself appended to at
-- its right edge — a per-user index would cost every sign-in a write to a
-- random page (docs/PERFORMANCE.md). What needs a person's sessions (their
-- list on Settings → People, "end all", the housekeeping) is rare and scans.
-- An identity column: an id is never reused, so a copy of an ended session's
-- cookie can never name a new one; and every session lives as long, so id
-- order is expiry order. The cookie is sealed (encrypted and authenticated):
-- the id need not be secret.
CREATE TABLE sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- 'sso' or 'password'
    method TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT,
    user_agent TEXT
);

-- The event log cannot be flooded: a refusal is counted into the row of its
-- company, reason and client IP for the current minute (`minute` =
-- created_at / 60); sign-ins (`ok`) keep one row each, with `minute` NULL.
-- The index is partial: a sign-in's insert does not pay for it. The upsert
-- names the index's condition (ON CONFLICT (…) WHERE minute IS NOT NULL) for
-- PostgreSQL to infer it. NULLs stay distinct, as in SQLite: refusals with no
-- client IP keep a row each.
ALTER TABLE sso_events ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sso_events ADD COLUMN minute BIGINT;
CREATE UNIQUE INDEX sso_events_refusal_minute ON sso_events (company_id, outcome, ip, minute)
    WHERE minute IS NOT NULL;
