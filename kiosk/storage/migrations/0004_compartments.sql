-- 0004: the compartments of the terminal, what sits in them, and who holds which one.
--
-- compartments mirrors the columns' compartment maps (synced at start-up) plus what the terminal
-- knows about each one: its state, the last door and item-sensor readings, and a note for staff.
-- A compartment that leaves the map keeps its row (in_map = 0): its parcels' history points at it,
-- and one that still holds a parcel must stay visible until a courier or technician empties it.
--
-- The invariants that matter most are enforced here, not only in Python, so a bug in a workflow
-- fails loudly instead of losing a parcel:
--   * never two stored parcels in one compartment (partial UNIQUE index);
--   * a parcel is in exactly one place (one compartment column, which never changes);
--   * a compartment holding a stored parcel is never free or reserved (triggers);
--   * at most one active reservation per compartment, and only on a reserved compartment.
-- Vocabulary (states, kinds, statuses) is small and stable, so it is CHECKed here; the audit trail
-- (0001) is the place for open-ended vocabulary.
--
-- Times are UTC milliseconds since the epoch (they survive a restart, unlike a monotonic clock).

CREATE TABLE compartments (
    number          INTEGER PRIMARY KEY CHECK (number > 0),  -- printed on the door, unique here
    column_name     TEXT    NOT NULL CHECK (column_name <> ''),
    size            TEXT    NOT NULL CHECK (size IN ('S', 'M', 'L')),
    row             INTEGER NOT NULL CHECK (row > 0),  -- 1 = top row of the column
    col             INTEGER NOT NULL CHECK (col > 0),  -- 1 = left cell of the row
    in_map          INTEGER NOT NULL DEFAULT 1 CHECK (in_map IN (0, 1)),
    state           TEXT    NOT NULL DEFAULT 'free'
                    CHECK (state IN ('free', 'reserved', 'occupied', 'out_of_service')),
    service_note    TEXT    NOT NULL DEFAULT '',  -- why it is out of service (empty otherwise)
    door            TEXT    NOT NULL DEFAULT 'unknown' CHECK (door IN ('open', 'closed', 'unknown')),
    item_present    INTEGER CHECK (item_present IN (0, 1)),  -- NULL: no sensor, or not read yet
    attention       TEXT    NOT NULL DEFAULT '',  -- something staff must look at (empty = none)
    updated_at_ms   INTEGER NOT NULL CHECK (updated_at_ms > 0),
    CHECK ((state = 'out_of_service') = (service_note <> ''))
);

CREATE TABLE parcels (
    id                   TEXT    PRIMARY KEY CHECK (id <> ''),
    kind                 TEXT    NOT NULL CHECK (kind IN ('materials', 'result')),
    compartment          INTEGER NOT NULL REFERENCES compartments (number),
    status               TEXT    NOT NULL DEFAULT 'stored'
                         CHECK (status IN ('stored', 'collected', 'picked_up', 'returned')),
    submission_id        TEXT    NOT NULL CHECK (submission_id <> ''),  -- the local reference
    tracking_number      TEXT    NOT NULL DEFAULT '',
    -- results only: "scrypt$N$r$p$<salt b64>$<hash b64>", never the code itself
    pickup_code_hash     TEXT,
    -- results only: hex SHA-256 of the upper-case ID number, as the hall sends it (card pickup)
    applicant_id_sha256  TEXT,
    expires_at_ms        INTEGER,  -- results only: after this the courier takes it back
    stored_at_ms         INTEGER NOT NULL CHECK (stored_at_ms > 0),
    removed_at_ms        INTEGER,
    CHECK ((status = 'stored') = (removed_at_ms IS NULL)),
    CHECK (kind = 'result' OR (pickup_code_hash IS NULL AND applicant_id_sha256 IS NULL
                               AND expires_at_ms IS NULL)),
    CHECK (kind = 'materials' OR (pickup_code_hash IS NOT NULL AND expires_at_ms IS NOT NULL)),
    CHECK (status IN ('stored', 'collected') OR kind = 'result'),
    CHECK (status <> 'collected' OR kind = 'materials')
);

CREATE UNIQUE INDEX parcels_one_stored_per_compartment
    ON parcels (compartment) WHERE status = 'stored';
CREATE INDEX parcels_by_submission ON parcels (submission_id);
CREATE INDEX parcels_stored_by_applicant
    ON parcels (applicant_id_sha256) WHERE status = 'stored' AND applicant_id_sha256 IS NOT NULL;

CREATE TABLE compartment_reservations (
    id               TEXT    PRIMARY KEY CHECK (id <> ''),
    compartment      INTEGER NOT NULL REFERENCES compartments (number),
    purpose          TEXT    NOT NULL CHECK (purpose IN ('deposit_materials', 'load_result')),
    holder           TEXT    NOT NULL CHECK (holder <> ''),  -- session id or courier card id
    status           TEXT    NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'fulfilled', 'released', 'expired', 'jammed')),
    door_opened      INTEGER NOT NULL DEFAULT 0 CHECK (door_opened IN (0, 1)),
    created_at_ms    INTEGER NOT NULL CHECK (created_at_ms > 0),
    expires_at_ms    INTEGER NOT NULL,
    ended_at_ms      INTEGER,
    -- deferred: a deposit ends the reservation before the parcel row exists (see triggers)
    parcel_id        TEXT    REFERENCES parcels (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((status = 'active') = (ended_at_ms IS NULL)),
    CHECK ((status = 'fulfilled') = (parcel_id IS NOT NULL))
);

CREATE UNIQUE INDEX reservations_one_active_per_compartment
    ON compartment_reservations (compartment) WHERE status = 'active';
CREATE INDEX reservations_active_by_expiry
    ON compartment_reservations (expires_at_ms) WHERE status = 'active';

-- A parcel never moves: taking it out and putting it elsewhere is two parcels in the records.
CREATE TRIGGER parcels_never_move
BEFORE UPDATE OF compartment ON parcels
WHEN NEW.compartment <> OLD.compartment
BEGIN
    SELECT RAISE(ABORT, 'a parcel stays in the compartment it was stored in');
END;

-- A parcel is stored only into a compartment already marked as holding it.
CREATE TRIGGER parcels_stored_into_occupied
BEFORE INSERT ON parcels
WHEN NEW.status = 'stored' AND NOT EXISTS (
    SELECT 1 FROM compartments
    WHERE number = NEW.compartment AND state IN ('occupied', 'out_of_service')
)
BEGIN
    SELECT RAISE(ABORT, 'a parcel can only be stored in a compartment marked occupied');
END;

-- A removed parcel cannot come back: a result brought again is a new parcel.
CREATE TRIGGER parcels_removed_for_good
BEFORE UPDATE OF status ON parcels
WHEN OLD.status <> 'stored' AND NEW.status <> OLD.status
BEGIN
    SELECT RAISE(ABORT, 'a parcel taken out of its compartment cannot be stored again');
END;

CREATE TRIGGER compartments_not_free_while_holding
BEFORE UPDATE OF state ON compartments
WHEN NEW.state IN ('free', 'reserved') AND EXISTS (
    SELECT 1 FROM parcels WHERE compartment = NEW.number AND status = 'stored'
)
BEGIN
    SELECT RAISE(ABORT, 'a compartment holding a parcel cannot be free or reserved');
END;

CREATE TRIGGER compartments_reserved_while_held
BEFORE UPDATE OF state ON compartments
WHEN NEW.state <> 'reserved' AND EXISTS (
    SELECT 1 FROM compartment_reservations WHERE compartment = NEW.number AND status = 'active'
)
BEGIN
    SELECT RAISE(ABORT, 'end the active reservation before changing the compartment state');
END;

CREATE TRIGGER reservations_only_on_reserved
BEFORE INSERT ON compartment_reservations
WHEN NEW.status = 'active' AND NOT EXISTS (
    SELECT 1 FROM compartments WHERE number = NEW.compartment AND state = 'reserved'
)
BEGIN
    SELECT RAISE(ABORT, 'a reservation needs its compartment marked reserved first');
END;
