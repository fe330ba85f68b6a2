-- The columns the text index covers, each with the number that its
-- entries' keys carry (entry key = row key * 1024 + code). A code is never
-- given twice, so entries stay unambiguous when columns come and go. The
-- index itself, and the triggers that keep it, are derived from the
-- personal-data registry at start (storage/src/text_index.rs), because
-- they differ per engine (FTS5 on SQLite, tsvector on PostgreSQL).
CREATE TABLE text_index_sources (
    code BIGINT PRIMARY KEY,
    table_name TEXT NOT NULL,
    column_name TEXT NOT NULL,
    UNIQUE (table_name, column_name)
);
