DROP INDEX sso_events_refusal_minute;
ALTER TABLE sso_events DROP COLUMN minute;
ALTER TABLE sso_events DROP COLUMN count;
DROP TABLE sessions;
