-- The rows every sign-in appends — its session and its `ok` event — carry no
-- foreign keys on PostgreSQL. There a key is checked by a locking read of the
-- parent row for every row inserted (the RI trigger's `SELECT … FOR KEY
-- SHARE`): three a sign-in, ~40 % of the server's CPU for a returning
-- sign-in, measured (docs/PERFORMANCE.md, "What costs more on PostgreSQL").
-- SQLite keeps its keys: a check there is an index lookup in the process.
--
-- What the keys did on delete, statement triggers do (one statement for all
-- the rows a delete removes, where a key's action ran once a row): a user's
-- sessions end with them (`User::delete` ends them first anyway) and their
-- events stay without them; a company's events go with it.
--
-- The rows inserted name a user and a company the sign-in has just read. A
-- sign-in racing with the deletion of its own user can leave a session row
-- of a user that is gone: it opens nothing (a session is live only with its
-- user, `auth::extract`) and is pruned at its expiry like any other.
ALTER TABLE sessions DROP CONSTRAINT sessions_user_id_fkey;
ALTER TABLE sso_events
    DROP CONSTRAINT sso_events_user_id_fkey,
    DROP CONSTRAINT sso_events_company_id_fkey;

CREATE FUNCTION users_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sessions WHERE user_id IN (SELECT id FROM gone);
    UPDATE sso_events SET user_id = NULL WHERE user_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$;
CREATE TRIGGER users_gone AFTER DELETE ON users
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION users_gone();

CREATE FUNCTION companies_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sso_events WHERE company_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$;
CREATE TRIGGER companies_gone AFTER DELETE ON companies
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION companies_gone();
