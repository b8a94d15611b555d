-- Portico's first schema, on PostgreSQL. Types are kept to what SQLite can
-- carry too (BIGINT, TEXT, BOOLEAN); times are Unix seconds in BIGINT
-- columns. Ids come from identity columns (a sequence): never reused, so an
-- id a token, a session or an in-flight sign-in holds can never name another
-- row. GENERATED ALWAYS: only the sequence hands out ids.

CREATE TABLE companies (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    max_token_lifetime BIGINT NOT NULL DEFAULT 600
        CHECK (max_token_lifetime BETWEEN 60 AND 86400),
    signout_url TEXT,
    created_at BIGINT NOT NULL
);

-- At most one current and one previous secret a company: the unique index on
-- (company_id, state) makes the rule a constraint, not a convention.
CREATE TABLE sso_secrets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('current', 'previous')),
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- for a previous secret: the end of its grace period
    expires_at BIGINT,
    last_used_at BIGINT,
    UNIQUE (company_id, state)
);

CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    -- trimmed, lower-cased ASCII: unique across all companies
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('CUSTOMER', 'AGENT', 'ADMIN')),
    password_hash TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    session_epoch BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT,
    last_login_method TEXT
);
CREATE INDEX users_company ON users (company_id, id);

CREATE TABLE projects (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (company_id, name)
);

CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, project_id)
);
CREATE INDEX memberships_project ON memberships (project_id);

CREATE TABLE sso_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    -- 'ok' or a reason code
    outcome TEXT NOT NULL,
    -- the email or sub the token named, if any
    subject TEXT,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    ip TEXT,
    iss TEXT
);
CREATE INDEX sso_events_company ON sso_events (company_id, id);

-- The replay guard: a jti is kept until its token would have expired anyway.
CREATE TABLE used_tokens (
    company_id BIGINT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (company_id, jti)
);
CREATE INDEX used_tokens_expiry ON used_tokens (expires_at);

-- Server-wide values, such as the generated session key.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
