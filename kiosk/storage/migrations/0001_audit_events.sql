-- 0001: the append-only audit trail of the terminal.
--
-- Every door opening, courier sign-in, remote command and reconciliation leaves one row here.
-- A door opening is two rows: the intent (outcome 'pending'), committed before the lock board is
-- commanded, and the outcome ('opened', 'already_open', 'jammed' or 'unknown'), committed after,
-- pointing at its intent through intent_id. An intent with no outcome row after a restart is
-- exactly the set that must be reconciled against the board's status.
--
-- Vocabulary (actor kinds, actions, outcomes) is checked by the Python API, not by CHECK
-- constraints: extending it must never require rebuilding a table that forbids UPDATE and DELETE.
--
-- at_ms is UTC milliseconds since the epoch: it sorts, it has no time zone to get wrong, and a
-- clock that jumps does not reorder the trail because "newest first" means highest id.

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: ids are the order of events
    at_ms      INTEGER NOT NULL CHECK (at_ms > 0),
    actor_kind TEXT    NOT NULL CHECK (actor_kind <> ''),  -- citizen, courier, technician, ...
    actor_id   TEXT    NOT NULL,  -- pseudonymous: staff number, session id; never an ID number
    action     TEXT    NOT NULL CHECK (action <> ''),      -- e.g. door.open, courier.sign_in
    subject    TEXT    NOT NULL CHECK (subject <> ''),     -- e.g. compartment:0/7
    reason     TEXT    NOT NULL,  -- why: deposit materials of submission ..., pickup, ...
    outcome    TEXT    NOT NULL CHECK (outcome <> ''),
    intent_id  INTEGER REFERENCES audit_events (id),
    details    TEXT    NOT NULL DEFAULT '{}'
               CHECK (json_valid(details) AND json_type(details) = 'object'),
    CHECK (intent_id IS NULL OR outcome <> 'pending')
);

CREATE INDEX audit_events_by_subject ON audit_events (subject, id);
CREATE INDEX audit_events_by_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_by_time ON audit_events (at_ms);
CREATE INDEX audit_events_pending ON audit_events (id) WHERE outcome = 'pending';
CREATE UNIQUE INDEX audit_events_one_outcome_per_intent
    ON audit_events (intent_id) WHERE intent_id IS NOT NULL;

CREATE TRIGGER audit_events_no_update
BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: a recorded event cannot be changed');
END;

CREATE TRIGGER audit_events_no_delete
BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: a recorded event cannot be deleted');
END;

-- INSERT OR REPLACE with an existing id would delete the old row without firing the DELETE
-- trigger (recursive_triggers is off), so an insert may never reuse an id.
CREATE TRIGGER audit_events_no_replace
BEFORE INSERT ON audit_events
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: an existing event cannot be replaced');
END;

-- An outcome must answer a pending intent about the same subject.
CREATE TRIGGER audit_events_outcome_matches_intent
BEFORE INSERT ON audit_events
WHEN NEW.intent_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM audit_events
    WHERE id = NEW.intent_id AND outcome = 'pending' AND subject = NEW.subject
)
BEGIN
    SELECT RAISE(ABORT, 'an outcome must refer to a pending intent about the same subject');
END;
