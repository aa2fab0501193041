-- 0007: citizen pickup — the terminal's own secrets and the wrong-code guard of the keypad.
--
-- terminal_secrets holds keys this terminal makes for itself (the HMAC key that signs pickup QR
-- codes, see docs/adr/0016). One row per named secret, created on first use, never sent anywhere.
--
-- pickup_wrong_codes records each typed code that matched no stored result (only the time, never
-- the digits), and pickup_keypad_locks each lock they caused (5 wrong within 60 s → the keypad is
-- locked for 5 minutes). Both live here, not in memory, so restarting the terminal does not lift
-- a lock or wipe the count. at_ms values are UTC milliseconds since the epoch.

CREATE TABLE terminal_secrets (
    name        TEXT NOT NULL PRIMARY KEY CHECK (name <> ''),
    secret      BLOB NOT NULL CHECK (typeof(secret) = 'blob' AND length(secret) >= 32),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE pickup_wrong_codes (
    id     INTEGER PRIMARY KEY,
    at_ms  INTEGER NOT NULL CHECK (at_ms > 0)
);
CREATE INDEX pickup_wrong_codes_at ON pickup_wrong_codes (at_ms);

CREATE TABLE pickup_keypad_locks (
    id               INTEGER PRIMARY KEY,
    locked_at_ms     INTEGER NOT NULL CHECK (locked_at_ms > 0),
    locked_until_ms  INTEGER NOT NULL CHECK (locked_until_ms > locked_at_ms),
    wrong_codes      INTEGER NOT NULL CHECK (wrong_codes >= 1)
);
