"""Local copies of the catalog, the signed courier roster and the task list, in the terminal's DB.

They implement the core's `CatalogCache`, `RosterCache` and `TaskFeed` ports, answer from SQLite
only (the hall may be down for days), and are replaced in one transaction when a sync succeeds.

The roster opens compartments, so it is trusted only after its Ed25519 signature checks out
against the hall's key: the key configured for this terminal, or else the one seen at the first
successful sync (trust on first use), which is then pinned. A roster signed by another key, for
another kiosk, or older than the one held is refused and the held one stays.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.ports.hall import (
    CatalogEntry,
    CollectionTask,
    DeliveryTask,
    HallTasks,
    Roster,
    RosterCourier,
)
from kiosk.storage import Database, Reader, Transaction

from .errors import HallProtocolError, RosterNotTrusted

EntryKind = Literal["department", "item", "topic"]
_PLURAL: dict[EntryKind, str] = {"department": "departments", "item": "items", "topic": "topics"}

DOC_CATALOG_VERSION = "catalog_version"
DOC_HALL_KEY = "hall_public_key"
DOC_ROSTER = "roster"
DOC_TASKS = "tasks"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def parse_hall_time(text: str) -> datetime:
    """The hall writes UTC as '2025-03-01T08:00:00Z'."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise HallProtocolError(f"The hall sent a time that is not ISO 8601: {text!r}.") from err
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def canonical_json(value: Any) -> bytes:
    """The bytes the hall signs (docs/hall-api.md): sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class _Documents:
    """Small named JSON documents in hall_cache_documents."""

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._clock = clock

    def read(self, name: str, reader: Reader | None = None) -> Any:
        if reader is not None:
            value = reader.fetch_value(
                "SELECT data FROM hall_cache_documents WHERE name = ?", (name,)
            )
        else:
            with self._database.snapshot() as snap:
                value = snap.fetch_value(
                    "SELECT data FROM hall_cache_documents WHERE name = ?", (name,)
                )
        return None if value is None else json.loads(str(value))

    def write(self, tx: Transaction, name: str, data: Any) -> None:
        tx.execute(
            "INSERT INTO hall_cache_documents (name, data, updated_at_ms) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET data = excluded.data, "
            "updated_at_ms = excluded.updated_at_ms",
            (name, json.dumps(data, ensure_ascii=False), int(self._clock().timestamp() * 1000)),
        )


class SqliteCatalogCache:
    """Implements `CatalogCache`; `apply()` takes the hall's /catalog answer."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = _utc_now) -> None:
        self._database = database
        self._documents = _Documents(database, clock)

    def version(self) -> int:
        value = self._documents.read(DOC_CATALOG_VERSION)
        return int(value) if isinstance(value, int) else 0

    def entries(self, kind: EntryKind) -> Sequence[CatalogEntry]:
        with self._database.snapshot() as reader:
            rows = reader.fetch_all(
                "SELECT id, version, data FROM hall_catalog_entries WHERE kind = ? ORDER BY id",
                (kind,),
            )
        return [_entry(kind, row[0], row[1], row[2]) for row in rows]

    def entry(self, kind: EntryKind, id: str) -> CatalogEntry | None:
        with self._database.snapshot() as reader:
            row = reader.fetch_one(
                "SELECT id, version, data FROM hall_catalog_entries WHERE kind = ? AND id = ?",
                (kind, id),
            )
        return None if row is None else _entry(kind, row[0], row[1], row[2])

    def apply(self, changes: Mapping[str, Any]) -> int:
        """Store a /catalog answer in one commit; a full answer replaces everything held."""
        try:
            version = int(changes["version"])
            full = bool(changes["full"])
            removed = changes["removed"]
            upserts = [
                (kind, str(entry["id"]), int(entry["version"]), entry)
                for kind, plural in _PLURAL.items()
                for entry in changes[plural]
            ]
            removals = [(kind, str(i)) for kind, plural in _PLURAL.items() for i in removed[plural]]
        except (KeyError, TypeError, ValueError) as err:
            raise HallProtocolError(
                f"The hall's catalog answer lacks or mangles a field ({err!r}); the cached "
                "catalog is kept — check that hall and terminal versions match."
            ) from err
        with self._database.transaction() as tx:
            if full:
                tx.execute("DELETE FROM hall_catalog_entries")
            tx.execute_many(
                "INSERT INTO hall_catalog_entries (kind, id, version, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, "
                "data = excluded.data",
                [
                    (kind, entry_id, entry_version, json.dumps(entry, ensure_ascii=False))
                    for kind, entry_id, entry_version, entry in upserts
                ],
            )
            tx.execute_many("DELETE FROM hall_catalog_entries WHERE kind = ? AND id = ?", removals)
            self._documents.write(tx, DOC_CATALOG_VERSION, version)
        return version


def _entry(kind: EntryKind, entry_id: object, version: object, data: object) -> CatalogEntry:
    return CatalogEntry(
        kind=kind,
        id=str(entry_id),
        version=int(cast(int, version)),
        data=MappingProxyType(json.loads(str(data))),
    )


class SqliteRosterCache:
    """Implements `RosterCache`; `store()` verifies a signed roster before keeping it."""

    def __init__(
        self,
        database: Database,
        *,
        pinned_public_key_b64: str = "",
        kiosk_id: str = "",
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._database = database
        self._documents = _Documents(database, clock)
        self._pinned = pinned_public_key_b64
        self._kiosk_id = kiosk_id

    def hall_key(self) -> str:
        """The key rosters must be signed with: configured, else pinned at first use, else ''."""
        if self._pinned:
            return self._pinned
        stored = self._documents.read(DOC_HALL_KEY)
        return str(stored) if isinstance(stored, str) else ""

    def pin_hall_key(self, public_key_b64: str) -> None:
        """Trust on first use: only when no key is configured or pinned yet."""
        if self.hall_key():
            return
        _public_key(public_key_b64)  # refuse garbage before pinning it
        with self._database.transaction() as tx:
            self._documents.write(tx, DOC_HALL_KEY, public_key_b64)

    def current(self) -> Roster | None:
        stored = self._documents.read(DOC_ROSTER)
        if not isinstance(stored, dict):
            return None
        return _roster(stored["roster"])

    def store(self, signed: Mapping[str, Any]) -> Roster:
        """Verify and keep a /roster answer; on `RosterNotTrusted` the old one stays."""
        key_b64 = self.hall_key()
        if not key_b64:
            raise RosterNotTrusted(
                "No hall public key is known yet, so the courier roster cannot be verified; "
                "set [hall] public_key or let the terminal reach the hall once."
            )
        try:
            document = signed["roster"]
            signature = base64.b64decode(str(signed["signature"]), validate=True)
        except (KeyError, TypeError, binascii.Error) as err:
            raise RosterNotTrusted(
                "The hall's roster answer has no readable signature; it was not cached."
            ) from err
        if signed.get("algorithm") != "Ed25519":
            raise RosterNotTrusted(
                f"The roster is signed with {signed.get('algorithm')!r}, not Ed25519; not cached."
            )
        try:
            _public_key(key_b64).verify(signature, canonical_json(document))
        except InvalidSignature as err:
            raise RosterNotTrusted(
                "The courier roster's signature does not match the hall's key; it was not "
                "cached (the hall's key changed, or something between altered the roster)."
            ) from err
        roster = _roster(document)
        if self._kiosk_id and roster.kiosk_id != self._kiosk_id:
            raise RosterNotTrusted(
                f"The roster is for kiosk {roster.kiosk_id}, not this terminal "
                f"({self._kiosk_id}); check [hall] token."
            )
        held = self.current()
        if held is not None and roster.version < held.version:
            raise RosterNotTrusted(
                f"The hall sent roster version {roster.version}, older than the cached "
                f"{held.version}; the newer cached roster is kept."
            )
        with self._database.transaction() as tx:
            self._documents.write(tx, DOC_ROSTER, dict(signed))
        return roster


def _public_key(public_key_b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
    except (ValueError, binascii.Error) as err:
        raise RosterNotTrusted(
            "The hall public key is not a base64 raw Ed25519 key (32 bytes); copy it again "
            "from the hall's /api/v1/public-key."
        ) from err


def _roster(document: Mapping[str, Any]) -> Roster:
    try:
        return Roster(
            kiosk_id=str(document["kiosk_id"]),
            version=int(document["version"]),
            issued_at=parse_hall_time(str(document["issued_at"])),
            expires_at=parse_hall_time(str(document["expires_at"])),
            key_id=str(document["key_id"]),
            couriers=tuple(
                RosterCourier(
                    card_id=str(c["card_id"]),
                    name=str(c["name"]),
                    role=c["role"],
                    pin_hash=str(c["pin_hash"]),
                    id_number_sha256=_optional_hex(c.get("id_number_sha256")),
                )
                for c in document["couriers"]
            ),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise RosterNotTrusted(f"The roster lacks or mangles a field ({err!r}).") from err


def _optional_hex(value: object) -> str | None:
    """Rosters from before the hall sent ID hashes have none: those couriers use their badge."""
    if value is None or value == "":
        return None
    return str(value).lower()


class SqliteTaskFeed:
    """Implements `TaskFeed`: the last /tasks answer, kept across restarts."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = _utc_now) -> None:
        self._documents = _Documents(database, clock)
        self._database = database
        self._clock = clock

    def latest(self) -> HallTasks:
        stored = self._documents.read(DOC_TASKS)
        if not isinstance(stored, dict):
            return HallTasks((), (), (), None)
        return _tasks(stored["tasks"], parse_hall_time(str(stored["fetched_at"])))

    def store(self, answer: Mapping[str, Any]) -> tuple[HallTasks, bool]:
        """Keep a /tasks answer; also say whether it differs from the one held."""
        fetched_at = self._clock()
        tasks = _tasks(answer, fetched_at)
        previous = self._documents.read(DOC_TASKS)
        changed = not isinstance(previous, dict) or previous.get("tasks") != dict(answer)
        with self._database.transaction() as tx:
            self._documents.write(
                tx,
                DOC_TASKS,
                {"tasks": dict(answer), "fetched_at": fetched_at.isoformat()},
            )
        return tasks, changed


def _tasks(answer: Mapping[str, Any], fetched_at: datetime) -> HallTasks:
    try:
        return HallTasks(
            collections=tuple(
                CollectionTask(
                    submission_id=str(c["submission_id"]),
                    tracking_number=str(c["tracking_number"]),
                    compartment=c.get("compartment"),
                    deposited_at=c.get("deposited_at"),
                    item_ids=tuple(str(i) for i in c.get("item_ids", ())),
                )
                for c in answer["collections"]
            ),
            deliveries=tuple(_delivery(d) for d in answer["deliveries"]),
            returns_due=tuple(_delivery(d) for d in answer["returns_due"]),
            fetched_at=fetched_at,
        )
    except (KeyError, TypeError) as err:
        raise HallProtocolError(
            f"The hall's task list lacks or mangles a field ({err!r})."
        ) from err


def _delivery(d: Mapping[str, Any]) -> DeliveryTask:
    description = d.get("description") or {}
    return DeliveryTask(
        task_id=str(d["task_id"]),
        submission_id=str(d["submission_id"]),
        tracking_number=str(d["tracking_number"]),
        status=str(d["status"]),
        description_zh=str(description.get("zh", "")),
        description_en=str(description.get("en", "")),
        outcome=str(d["outcome"]),
        applicant_id_number_sha256=str(d["applicant_id_number_sha256"]),
        compartment=d.get("compartment"),
        pickup_deadline=d.get("pickup_deadline"),
    )
