"""The "most used" list: local counts of submissions, and a sensible order before there are any.

A use is recorded when a submission is taken (not when a guide is merely looked at), inside the
caller's transaction, so the count and the submission commit together. Until counts exist — a
new terminal — the list follows an order given by the terminal's settings, then the life-event
topics' items (what most people come for), then the rest of the catalog in its order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from kiosk.storage import Reader, Transaction

from .catalog import Catalog
from .model import ServiceItem

DEFAULT_MOST_USED_COUNT: Final = 8


@dataclass(frozen=True)
class UsageCount:
    kind: Literal["item", "topic"]
    id: str
    uses: int
    last_used_at_ms: int


def record_submission(
    tx: Transaction, item_ids: Iterable[str], at_ms: int, topic_id: str | None = None
) -> None:
    """Count one use of each item (and of the topic, if the citizen chose a life event)."""
    rows: list[tuple[str, str, int]] = [
        ("item", item_id, at_ms) for item_id in dict.fromkeys(item_ids)
    ]
    if topic_id is not None:
        rows.append(("topic", topic_id, at_ms))
    if not rows:
        return
    tx.execute_many(
        "INSERT INTO catalog_usage (kind, id, uses, last_used_at_ms) VALUES (?, ?, 1, ?) "
        "ON CONFLICT (kind, id) DO UPDATE SET uses = uses + 1, "
        "last_used_at_ms = max(last_used_at_ms, excluded.last_used_at_ms)",
        rows,
    )


def read_usage(reader: Reader) -> tuple[UsageCount, ...]:
    """All counts, most used first (ties: most recently used first)."""
    rows = reader.fetch_all(
        "SELECT kind, id, uses, last_used_at_ms FROM catalog_usage "
        "ORDER BY uses DESC, last_used_at_ms DESC, kind, id"
    )
    return tuple(
        UsageCount(
            kind="topic" if row["kind"] == "topic" else "item",
            id=str(row["id"]),
            uses=int(row["uses"]),
            last_used_at_ms=int(row["last_used_at_ms"]),
        )
        for row in rows
    )


def most_used(
    catalog: Catalog,
    usage: Sequence[UsageCount],
    *,
    count: int = DEFAULT_MOST_USED_COUNT,
    preferred: Sequence[str] = (),
) -> tuple[ServiceItem, ...]:
    """Up to `count` items: counted ones first, then `preferred` ids, topics' items, the rest.

    Pure, so the choose screen's presenter can call it with counts read once per session.
    """
    chosen: dict[str, ServiceItem] = {}

    def take(item_ids: Iterable[str]) -> None:
        for item_id in item_ids:
            if len(chosen) >= count:
                return
            item = catalog.item(item_id)
            if item is not None:
                chosen.setdefault(item.id, item)

    take(
        u.id
        for u in sorted(usage, key=lambda u: (-u.uses, -u.last_used_at_ms, u.id))
        if u.kind == "item"
    )
    take(preferred)
    take(item_id for topic in catalog.topics for item_id in topic.item_ids)
    take(item.id for item in catalog.items)
    return tuple(chosen.values())
