-- Lists sorted by "updated", newest first (the web UI's default, the home
-- page's recent work packages): with this index both engines read work
-- packages in that order (ties by id, as every list breaks them) and stop
-- at the page's end instead of sorting them all.
CREATE INDEX work_packages_updated_at ON work_packages (updated_at DESC, id);
