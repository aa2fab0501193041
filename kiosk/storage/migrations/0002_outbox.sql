-- 0002: the outbox — everything the terminal owes the service hall, until the hall acknowledges it.
--
-- A row is written in the same transaction as the state change it reports (a submission taken,
-- a parcel deposited), so a crash can never leave a change the hall will not hear about, nor a
-- message about a change that did not happen. A row is deleted only when the hall acknowledges
-- it; a request the hall rejects as invalid stays, parked with the reason, for a technician.
--
-- Delivery is in order per ordering_key (a submission's e-copies after the submission itself);
-- different keys are independent, so one parked submission does not hold up the others.
--
-- Times are UTC milliseconds since the epoch (they survive a restart, unlike a monotonic clock).

CREATE TABLE outbox (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order of delivery
    message_key         TEXT    NOT NULL UNIQUE CHECK (message_key <> ''),  -- Idempotency-Key
    kind                TEXT    NOT NULL CHECK (kind <> ''),  -- submission, ecopy, event, ...
    ordering_key        TEXT    NOT NULL CHECK (ordering_key <> ''),
    reference           TEXT    UNIQUE,  -- local name of what this message creates at the hall
    payload             TEXT    NOT NULL
                        CHECK (json_valid(payload) AND json_type(payload) = 'object'),
    files               TEXT    NOT NULL DEFAULT '[]'
                        CHECK (json_valid(files) AND json_type(files) = 'array'),
    created_at_ms       INTEGER NOT NULL CHECK (created_at_ms > 0),
    attempts            INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at_ms  INTEGER NOT NULL,
    last_error          TEXT    NOT NULL DEFAULT '',
    parked_reason       TEXT,  -- NULL = still being delivered
    parked_at_ms        INTEGER,
    CHECK ((parked_reason IS NULL) = (parked_at_ms IS NULL))
);

CREATE INDEX outbox_by_ordering_key ON outbox (ordering_key, seq);
CREATE INDEX outbox_parked ON outbox (seq) WHERE parked_reason IS NOT NULL;

-- What the hall called the things our messages created: later messages name a local reference
-- (the terminal's own submission id) and the sender puts the hall's id in their place.
CREATE TABLE outbox_references (
    reference           TEXT    PRIMARY KEY,
    hall_id             TEXT    NOT NULL CHECK (hall_id <> ''),
    hall_label          TEXT    NOT NULL DEFAULT '',  -- e.g. the tracking number
    acknowledged_at_ms  INTEGER NOT NULL
);
