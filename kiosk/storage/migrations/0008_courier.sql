-- 0008: couriers and village agents — the PIN guard, seal bindings and the session log.
--
-- courier_pin_guard counts a card's consecutive wrong PINs on this terminal and, once they reach
-- the limit ([courier] pin_attempts), holds the card locked until locked_until_ms. It lives here,
-- not in memory, so restarting the terminal neither lifts a lock nor forgets the count. A right
-- PIN deletes the row. Only the card id is kept (the roster's pseudonymous number), never a PIN.
--
-- courier_seals binds the seal barcode on a materials bag to the parcel it was taken from, so the
-- centre can tell which submission a sealed bag belongs to. One seal per parcel; a seal read again
-- for the same parcel replaces the earlier reading (the courier rescanned a smudged label).
--
-- courier_sessions is the log of who signed in, how (badge or ID card), as what role, and how the
-- session ended (signed out, idle, ...). All *_ms values are UTC milliseconds since the epoch.

CREATE TABLE courier_pin_guard (
    card_id          TEXT    NOT NULL PRIMARY KEY CHECK (card_id <> ''),
    wrong_pins       INTEGER NOT NULL CHECK (wrong_pins >= 0),
    last_wrong_at_ms INTEGER NOT NULL CHECK (last_wrong_at_ms > 0),
    locked_until_ms  INTEGER CHECK (locked_until_ms IS NULL OR locked_until_ms > 0)
);

CREATE TABLE courier_seals (
    parcel_id        TEXT    NOT NULL PRIMARY KEY REFERENCES parcels (id),
    submission_id    TEXT    NOT NULL CHECK (submission_id <> ''),
    seal             TEXT    NOT NULL CHECK (seal <> '' AND length(seal) <= 128),
    courier_card_id  TEXT    NOT NULL CHECK (courier_card_id <> ''),
    bound_at_ms      INTEGER NOT NULL CHECK (bound_at_ms > 0)
);
CREATE INDEX courier_seals_by_seal ON courier_seals (seal);

CREATE TABLE courier_sessions (
    id               TEXT    NOT NULL PRIMARY KEY CHECK (id <> ''),
    card_id          TEXT    NOT NULL CHECK (card_id <> ''),
    role             TEXT    NOT NULL CHECK (role IN ('courier', 'village_agent')),
    via              TEXT    NOT NULL CHECK (via IN ('badge', 'id_card')),
    started_at_ms    INTEGER NOT NULL CHECK (started_at_ms > 0),
    ended_at_ms      INTEGER CHECK (ended_at_ms IS NULL OR ended_at_ms >= started_at_ms),
    end_reason       TEXT    CHECK (end_reason IS NULL OR end_reason <> ''),
    CHECK ((ended_at_ms IS NULL) = (end_reason IS NULL))
);
CREATE INDEX courier_sessions_by_card ON courier_sessions (card_id, started_at_ms);
