"""The submission store on a real SQLite file: one commit for the record and its outbox messages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_apply_flow_fakes import ZHANG

from kiosk.apply.effects import CapturedPage, SubmissionDraft
from kiosk.apply.ports import Reservation
from kiosk.apply.store import SubmissionStore, SubmissionStoreError
from kiosk.outbox import MessageKind, Outbox
from kiosk.storage import Database, StorageError

BOX = Reservation("r-3", 3, "A", "S", 2, 1, has_item_sensor=True)
NOW = datetime(2025, 6, 6, 13, 30, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> Database:
    return Database.open(tmp_path / "terminal.sqlite3")


def draft(pages: tuple[CapturedPage, ...] = (), reference: str = "ref-1") -> SubmissionDraft:
    return SubmissionDraft(
        reference=reference,
        item_ids=("hh-move-in",),
        topic_id=None,
        applicant=ZHANG,
        phone="13800138000",
        forms={"hh-move-in": {"persons": 3, "move_reason": "work"}},
        elicence_ids=("el-1",),
        pages=pages,
        paper_materials=("relocation-permit",),
        fee_fen=0,
        payment_choice="free",
        promised_date=date(2025, 6, 13),
        created_at=NOW,
    )


def test_commit_writes_the_record_the_submission_and_its_ecopies_together(
    database: Database, tmp_path: Path
) -> None:
    jpeg = tmp_path / "housing-1.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0 fake jpeg")
    outbox = Outbox(database, clock=lambda: NOW)
    store = SubmissionStore(database, outbox, clock=lambda: NOW)
    store.commit(draft((CapturedPage("housing-proof", 1, str(jpeg)),)))
    stored = store.get("ref-1")
    assert stored is not None
    assert (stored.status, stored.applicant_masked, stored.ecopy_count) == (
        "submitted",
        ZHANG.masked,
        1,
    )
    messages = outbox.messages()
    assert [m.kind for m in messages] == [MessageKind.SUBMISSION, MessageKind.ECOPY]
    body = messages[0].payload
    assert body["applicant"]["id_number"] == ZHANG.id_number
    assert body["forms"] == {"hh-move-in": {"persons": 3, "move_reason": "work"}}
    assert messages[1].payload["material_code"] == "housing-proof"
    assert len(messages[1].payload["sha256"]) == 64
    assert messages[1].files == (str(jpeg),)


def test_a_failed_commit_leaves_nothing_behind(database: Database, tmp_path: Path) -> None:
    outbox = Outbox(database, clock=lambda: NOW)
    store = SubmissionStore(database, outbox, clock=lambda: NOW)
    with pytest.raises(SubmissionStoreError, match="cannot be read"):
        store.commit(draft((CapturedPage("photo", 1, str(tmp_path / "missing.jpg")),)))
    store.commit(draft())
    with pytest.raises(StorageError):  # the same reference twice: the row is refused
        store.commit(draft())
    assert [m.kind for m in outbox.messages()] == [MessageKind.SUBMISSION]


def test_deposit_commits_with_the_compartment_change_and_the_hall_event(
    database: Database,
) -> None:
    outbox = Outbox(database, clock=lambda: NOW)
    store = SubmissionStore(database, outbox, clock=lambda: NOW)
    store.commit(draft())
    inside_calls: list[bool] = []

    def confirm_compartment() -> None:
        inside_calls.append(database.path.exists())

    store.record_deposit("ref-1", BOX, verified_by_sensor=True, inside=confirm_compartment)
    stored = store.get("ref-1")
    assert stored is not None
    assert (stored.status, stored.compartment, stored.compartment_label) == ("deposited", 3, "A03")
    assert inside_calls == [True]
    event = outbox.messages()[-1]
    assert event.kind == MessageKind.EVENT
    assert event.ordering_key == "ref-1"  # delivered after the submission itself
    assert event.payload["type"] == "deposited"
    assert event.payload["compartment"] == "A03"
    with pytest.raises(SubmissionStoreError, match="not waiting for a deposit"):
        store.record_deposit("ref-1", BOX, verified_by_sensor=True)


def test_deposit_rolls_back_when_the_compartment_service_fails(database: Database) -> None:
    outbox = Outbox(database, clock=lambda: NOW)
    store = SubmissionStore(database, outbox, clock=lambda: NOW)
    store.commit(draft())

    def refuse() -> None:
        raise RuntimeError("compartment already occupied")

    with pytest.raises(RuntimeError):
        store.record_deposit("ref-1", BOX, verified_by_sensor=False, inside=refuse)
    stored = store.get("ref-1")
    assert stored is not None
    assert stored.status == "submitted"
    assert [m.kind for m in outbox.messages()] == [MessageKind.SUBMISSION]
