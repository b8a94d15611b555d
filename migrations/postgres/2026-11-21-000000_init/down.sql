DROP TABLE settings;
DROP TABLE used_tokens;
DROP TABLE sso_events;
DROP TABLE memberships;
DROP TABLE projects;
DROP TABLE users;
DROP TABLE sso_secrets;
DROP TABLE companies;
