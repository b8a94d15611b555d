-- Nothing to do on PostgreSQL: its request_search was created with the final
-- order from the start (migrations/…_requests: subject of request R at key
-- -2^52 - R, message M at -M, ascending = the order shown). The migration is
-- kept so that both backends list the same ones. A statement, not only this
-- comment: diesel refuses a migration that runs no query.
SELECT 1;
