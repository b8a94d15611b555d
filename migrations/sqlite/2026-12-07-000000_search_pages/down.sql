INSERT INTO request_search (request_search, rank) VALUES ('pgsz', 4050);
INSERT INTO request_search (request_search) VALUES ('optimize');
