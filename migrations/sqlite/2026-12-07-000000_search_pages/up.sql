-- The search index in pages of ~1,000 bytes instead of FTS5's 4,050. FTS5
-- merges its segments as it goes, in quanta: each time 64 leaf pages have
-- been written, it merges up to 64 × (its number of levels) pages inside the
-- commit at hand. With 4 KB pages a quantum took ~15 ms of one commit of new
-- requests, and those commits made the p99 of new requests (21–36 ms at 64
-- connections). With pages a quarter the size a quantum does a quarter of the
-- work, four times as often: p99 16–17 ms, the same throughput, searches as
-- fast (docs/PERFORMANCE.md, "New requests"). `automerge` stays 4: at 8 a
-- freshly loaded index stalled commits for up to half a second. `optimize`
-- rewrites the index in the new page size: one segment, once.
INSERT INTO request_search (request_search, rank) VALUES ('pgsz', 1000);
INSERT INTO request_search (request_search) VALUES ('optimize');
