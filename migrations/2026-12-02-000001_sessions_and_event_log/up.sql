-- Sessions that end on the server. The cookie names one of these rows; every
-- request checks that it still exists (from the cache on the hot path).
-- Sign-out deletes the row, so a copy of the cookie opens nothing; disabling
-- a user deletes all of theirs. `id` is random (63 bits), not a counter: a
-- session cannot be forged from the database's rows without the cookie key,
-- nor from the key without a live row.
CREATE TABLE sessions (
    id BIGINT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- 'sso' or 'password'
    method TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- The event log cannot be flooded: a refusal is counted into the row of its
-- company, reason and client IP for the current minute (`minute` =
-- created_at / 60); sign-ins (`ok`) keep one row each, with `minute` NULL, so
-- the unique index never merges them (NULLs are distinct).
ALTER TABLE sso_events ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sso_events ADD COLUMN minute BIGINT;
CREATE UNIQUE INDEX sso_events_refusal_minute ON sso_events (company_id, outcome, ip, minute);
-- The recent sign-ins of Settings → SSO, apart from the refusals.
CREATE INDEX sso_events_company_outcome ON sso_events (company_id, outcome, id);
