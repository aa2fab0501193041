-- 0009: fleet monitoring on the terminal side (docs/fleet-protocol.md, kiosk/fleet/store.py).

-- Alert changes and log lines for the fleet broker, in order; a row is deleted once the broker
-- acknowledged it, so what happened while the broker was unreachable is delivered after reconnect.
CREATE TABLE fleet_outbound (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    topic   TEXT    NOT NULL CHECK (topic <> ''),
    payload BLOB    NOT NULL,
    retain  INTEGER NOT NULL CHECK (retain IN (0, 1))
);

-- The alerts last published as active (retained on the broker), so one that ended while the
-- terminal was off is still cleared.
CREATE TABLE fleet_active_alerts (
    alert_id TEXT PRIMARY KEY CHECK (alert_id <> ''),
    payload  BLOB NOT NULL
);

-- Every signed command the terminal accepted for execution, by id: a redelivered command returns
-- the stored outcome and never acts twice. Pruned after a week (commands live at most a day).
CREATE TABLE fleet_command_ledger (
    command_id     TEXT    PRIMARY KEY CHECK (command_id <> ''),
    name           TEXT    NOT NULL,
    issuer         TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN
                       ('IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED')),
    detail         TEXT    NOT NULL DEFAULT '',
    result         TEXT    CHECK (result IS NULL OR json_valid(result)),
    received_at_ms INTEGER NOT NULL CHECK (received_at_ms > 0),
    finished_at_ms INTEGER
);
CREATE INDEX fleet_command_ledger_received ON fleet_command_ledger (received_at_ms);

-- Small named documents: the remote configuration (desired/reported, with its version).
CREATE TABLE fleet_documents (
    name TEXT PRIMARY KEY CHECK (name <> ''),
    data TEXT NOT NULL CHECK (json_valid(data))
);
