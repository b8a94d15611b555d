DROP TRIGGER request_search_message_delete ON messages;
DROP TRIGGER request_search_message ON messages;
DROP FUNCTION request_search_message();
DROP TRIGGER request_search_subject_delete ON requests;
DROP TRIGGER request_search_subject_update ON requests;
DROP TRIGGER request_search_subject ON requests;
DROP FUNCTION request_search_subject();
DROP TABLE request_search;
DROP FUNCTION request_search_doc(TEXT);
DROP FUNCTION request_search_fold(TEXT);
-- btree_gin stays: it holds no data, and something else may use it.
DROP TABLE request_views;
DROP TABLE request_changes;
DROP TABLE attachments;
DROP TABLE messages;
DROP TABLE requests;
ALTER TABLE projects DROP COLUMN shared;
DROP INDEX users_company_role;
ALTER TABLE companies DROP COLUMN signin_url;
