-- 0005: how often citizens at this terminal submitted each catalog item and topic.
--
-- It orders the "most used" list on the choose screen, so the services people of this community
-- actually need are one touch away. One row per item or topic, counted up in the same
-- transaction that takes the submission, so a submission that rolls back is not counted.
-- No personal data: only catalog ids, a count and when the last use was.
--
-- at_ms values are UTC milliseconds since the epoch. An id the hall has withdrawn stays here
-- harmlessly; the list skips ids the current catalog does not hold.

CREATE TABLE catalog_usage (
    kind             TEXT    NOT NULL CHECK (kind IN ('item', 'topic')),
    id               TEXT    NOT NULL CHECK (id <> ''),
    uses             INTEGER NOT NULL CHECK (uses >= 1),
    last_used_at_ms  INTEGER NOT NULL CHECK (last_used_at_ms > 0),
    PRIMARY KEY (kind, id)
);
