-- The sign-in throttles, kept in the database so that every instance counts
-- the same attempts (src/auth/throttle.rs): one row a counter, its GCRA
-- "theoretical arrival time" in Unix milliseconds. A row whose time has
-- passed counts nothing and is deleted by the housekeeping.
CREATE TABLE throttles (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
CREATE INDEX throttles_tat ON throttles (tat);
