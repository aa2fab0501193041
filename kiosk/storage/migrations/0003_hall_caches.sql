-- 0003: local copies of what the service hall publishes, so the terminal starts and serves with
-- the hall unreachable: the service catalog, the signed courier roster and the latest task list.
--
-- Each cache is replaced in one transaction when a sync succeeds; a failed sync leaves the last
-- good copy in place.

-- One row per catalog entry (department, item, topic), as the hall sent it.
CREATE TABLE hall_catalog_entries (
    kind     TEXT    NOT NULL CHECK (kind IN ('department', 'item', 'topic')),
    id       TEXT    NOT NULL CHECK (id <> ''),
    version  INTEGER NOT NULL CHECK (version >= 0),
    data     TEXT    NOT NULL CHECK (json_valid(data) AND json_type(data) = 'object'),
    PRIMARY KEY (kind, id)
);

-- Small named documents: the catalog version, the pinned hall key, the roster, the tasks.
CREATE TABLE hall_cache_documents (
    name          TEXT    PRIMARY KEY CHECK (name <> ''),
    data          TEXT    NOT NULL CHECK (json_valid(data)),
    updated_at_ms INTEGER NOT NULL CHECK (updated_at_ms > 0)
);
