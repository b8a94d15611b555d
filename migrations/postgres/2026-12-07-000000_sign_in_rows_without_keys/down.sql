DROP TRIGGER companies_gone ON companies;
DROP FUNCTION companies_gone();
DROP TRIGGER users_gone ON users;
DROP FUNCTION users_gone();
DELETE FROM sessions WHERE user_id NOT IN (SELECT id FROM users);
UPDATE sso_events SET user_id = NULL WHERE user_id NOT IN (SELECT id FROM users);
DELETE FROM sso_events WHERE company_id NOT IN (SELECT id FROM companies);
ALTER TABLE sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE sso_events
    ADD CONSTRAINT sso_events_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies(id) ON DELETE CASCADE,
    ADD CONSTRAINT sso_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL;
