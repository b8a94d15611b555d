-- The search index in pages of ~1,000 bytes instead of FTS5's 4,050, merged
-- at 8 segments a level instead of 4. FTS5 merges its segments as it goes, in
-- quanta: each time 64 leaf pages have been written, it merges up to 64 × (its
-- number of levels) pages inside the commit at hand. With 4 KB pages a quantum
-- took ~15 ms of one commit of new requests, and those commits made the p99
-- of new requests (21–36 ms at 64 connections). With pages a quarter the size
-- a quantum does a quarter of the work, four times as often (p99 16–17 ms);
-- merging at 8 segments a level rewrites each page fewer times (p99 13–14 ms,
-- and +4 % new requests a second), for searches ~3 % slower after 160,000 new
-- requests (more segments to read). 8 stays below FTS5's `crisismerge` (16),
-- which merges a whole level at once. Measured on copies of the benchmark's
-- database: docs/PERFORMANCE.md, "New requests". `optimize` rewrites the index
-- in the new page size: one segment, once.
INSERT INTO request_search (request_search, rank) VALUES ('pgsz', 1000);
INSERT INTO request_search (request_search, rank) VALUES ('automerge', 8);
INSERT INTO request_search (request_search) VALUES ('optimize');
