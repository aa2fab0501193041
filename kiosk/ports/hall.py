"""The service hall as the core sees it: cached catalog and roster, tasks, and connectivity.

The core never waits on the network: everything here answers from the terminal's own database
(the caches backend_client keeps fresh), and what changes arrives as events through `EventSink`.
Messages *to* the hall go through `kiosk.outbox`, inside the core's own transactions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from .health import HealthState


@dataclass(frozen=True)
class HallHealth:
    """Connectivity to the hall, for the status bar and remote monitoring.

    `state` is ok | degraded | offline, or fault when the hall refuses this terminal's token
    (sending is paused until a technician fixes it; nothing is lost). `reason` is a sentence a
    technician can act on; the outbox figures say how much is waiting and for how long.
    """

    state: HealthState
    reason: str
    outbox_size: int
    outbox_parked: int
    outbox_oldest_age_s: float
    last_contact: datetime | None  # last time the hall answered at all


# ---- catalog ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    """One department, service item or topic, as the hall published it (bilingual JSON)."""

    kind: Literal["department", "item", "topic"]
    id: str
    version: int
    data: Mapping[str, Any]


class CatalogCache(Protocol):
    def version(self) -> int:
        """The catalog version held locally (0 before the first sync)."""

    def entries(self, kind: Literal["department", "item", "topic"]) -> Sequence[CatalogEntry]:
        """Sorted by id."""

    def entry(self, kind: Literal["department", "item", "topic"], id: str) -> CatalogEntry | None:
        """One entry, or None when this terminal does not know it."""


# ---- courier roster -----------------------------------------------------------------------


@dataclass(frozen=True)
class RosterCourier:
    card_id: str
    name: str
    role: Literal["courier", "village_agent"]
    pin_hash: str  # the hall's hash; checking a PIN against it is the courier workflow's job
    # hex SHA-256 of the upper-case ID number, so the courier's own ID card signs them in;
    # None when the hall has no ID number for them (badge only)
    id_number_sha256: str | None = None


@dataclass(frozen=True)
class Roster:
    """A roster whose Ed25519 signature was verified before it was cached."""

    kiosk_id: str
    version: int
    issued_at: datetime
    expires_at: datetime
    key_id: str
    couriers: Sequence[RosterCourier]

    def courier(self, card_id: str) -> RosterCourier | None:
        return next((c for c in self.couriers if c.card_id == card_id), None)

    def courier_by_id_hash(self, id_number_sha256: str) -> RosterCourier | None:
        wanted = id_number_sha256.lower()
        return next((c for c in self.couriers if c.id_number_sha256 == wanted), None)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class RosterCache(Protocol):
    def current(self) -> Roster | None:
        """The last verified roster (possibly expired: the caller decides), or None."""


# ---- tasks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionTask:
    """Materials deposited here that a courier should take to the centre."""

    submission_id: str
    tracking_number: str
    compartment: str | None
    deposited_at: str | None
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryTask:
    """A result on its way to (or waiting in) this terminal."""

    task_id: str
    submission_id: str
    tracking_number: str
    status: str  # pending (on its way) | loaded (in a compartment)
    description_zh: str
    description_en: str
    outcome: str  # approved | rejected
    applicant_id_number_sha256: str
    compartment: str | None
    pickup_deadline: str | None


@dataclass(frozen=True)
class HallTasks:
    collections: tuple[CollectionTask, ...]
    deliveries: tuple[DeliveryTask, ...]
    returns_due: tuple[DeliveryTask, ...]
    fetched_at: datetime | None  # None = never fetched


class TaskFeed(Protocol):
    def latest(self) -> HallTasks:
        """The last task list fetched (kept across restarts); empty before the first poll."""


class HallGateway(Protocol):
    """The running connection to the hall, as far as the core needs to steer it."""

    def health(self) -> HallHealth: ...

    def wake(self) -> None:
        """Something was enqueued or released: try to deliver now rather than at the next tick."""


# ---- events (past tense) ------------------------------------------------------------------


@dataclass(frozen=True)
class HallConnectivityChanged:
    health: HallHealth


@dataclass(frozen=True)
class OutboxParked:
    """The hall rejected a message as invalid; it is kept for a technician, not retried."""

    key: str
    kind: str
    ordering_key: str
    reason: str


@dataclass(frozen=True)
class SubmissionAcknowledged:
    """The hall holds the submission the terminal knows as `reference`."""

    reference: str
    hall_id: str
    tracking_number: str


@dataclass(frozen=True)
class CatalogUpdated:
    version: int


@dataclass(frozen=True)
class RosterUpdated:
    version: int
    couriers: int


@dataclass(frozen=True)
class HallTasksChanged:
    tasks: HallTasks
