-- 0006: the applications citizens submitted at this terminal (the apply journey).
--
-- One row per submission, written in the same transaction as the outbox messages that carry it
-- to the hall, so "submitted" on the screen always means "the hall will get it". No personal data
-- beyond the masked applicant: the full name and ID number travel only in the outbox message,
-- which is deleted once the hall acknowledges it.

CREATE TABLE submissions (
    reference         TEXT    PRIMARY KEY CHECK (reference <> ''),  -- the terminal's own id
    status            TEXT    NOT NULL CHECK (status IN ('submitted', 'deposited')),
    item_ids          TEXT    NOT NULL
                      CHECK (json_valid(item_ids) AND json_type(item_ids) = 'array'),
    topic_id          TEXT,
    applicant_masked  TEXT    NOT NULL CHECK (applicant_masked <> ''),
    paper_materials   TEXT    NOT NULL DEFAULT '[]'
                      CHECK (json_valid(paper_materials) AND json_type(paper_materials) = 'array'),
    ecopy_count       INTEGER NOT NULL DEFAULT 0 CHECK (ecopy_count >= 0),
    elicence_count    INTEGER NOT NULL DEFAULT 0 CHECK (elicence_count >= 0),
    fee_fen           INTEGER NOT NULL DEFAULT 0 CHECK (fee_fen >= 0),
    payment_choice    TEXT    NOT NULL CHECK (payment_choice IN ('free', 'pay_now', 'pay_at_pickup')),
    promised_date     TEXT    NOT NULL,  -- YYYY-MM-DD
    submitted_at_ms   INTEGER NOT NULL CHECK (submitted_at_ms > 0),
    compartment       INTEGER,           -- the number on the door, once deposited
    compartment_label TEXT,              -- e.g. "A03"
    deposited_at_ms   INTEGER,
    deposit_verified  INTEGER CHECK (deposit_verified IN (0, 1)),  -- 1 = the item sensor saw it
    CHECK ((status = 'deposited') = (compartment IS NOT NULL AND deposited_at_ms IS NOT NULL))
);

CREATE INDEX submissions_by_time ON submissions (submitted_at_ms);
