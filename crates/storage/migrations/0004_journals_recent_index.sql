-- The activity feed across projects reads the newest journals first:
-- WHERE journable_type = ... ORDER BY created_at DESC, id DESC LIMIT n.
-- With this index both engines walk it backwards and stop after n rows;
-- without it SQLite picked the (type, id, version) index and sorted every
-- journal first.
CREATE INDEX journals_type_created_at ON journals (journable_type, created_at, id);
