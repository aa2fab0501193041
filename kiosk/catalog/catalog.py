"""The whole catalog as one immutable value, with the lookups the screens need.

A `Catalog` is checked when it is built — every item's department exists, every topic's items
exist, every topic's questions merge into one form — so code that holds one never meets a
dangling id. Applying the hall's delta returns a new `Catalog` (or raises and leaves the old one
in use), which is what lets the terminal keep serving from its last good copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from .form_spec import merge_form
from .model import CatalogError, Department, FormSpec, ServiceItem, Topic
from .parsing import CatalogDelta, parse_department, parse_item, parse_topic

if TYPE_CHECKING:
    from .search import SearchIndex

EntryKind = Literal["department", "item", "topic"]


class _CachedEntry(Protocol):
    """The fields of `kiosk.ports.hall.CatalogEntry` this module reads."""

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def data(self) -> Mapping[str, object]: ...


class CatalogSource(Protocol):
    """What `Catalog.from_cache` reads: satisfied by the hall port's `CatalogCache`."""

    def version(self) -> int: ...

    def entries(self, kind: EntryKind) -> Iterable[_CachedEntry]: ...


@dataclass(frozen=True)
class Catalog:
    """Departments, items and topics in display order; build with `Catalog.build`."""

    version: int
    departments: tuple[Department, ...]
    items: tuple[ServiceItem, ...]
    topics: tuple[Topic, ...]
    _items_by_id: Mapping[str, ServiceItem] = field(init=False, repr=False, compare=False)
    _topic_forms: Mapping[str, FormSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _unique("department", (d.id for d in self.departments))
        _unique("item", (i.id for i in self.items))
        _unique("topic", (t.id for t in self.topics))
        items = {item.id: item for item in self.items}
        department_ids = {d.id for d in self.departments}
        for item in self.items:
            if item.department not in department_ids:
                raise CatalogError(
                    f"Catalog item '{item.id}': department '{item.department}' is not in the "
                    "catalog."
                )
        forms: dict[str, FormSpec] = {}
        for topic in self.topics:
            missing = [i for i in topic.item_ids if i not in items]
            if missing:
                raise CatalogError(
                    f"Catalog topic '{topic.id}': items {', '.join(missing)} are not in the "
                    "catalog."
                )
            forms[topic.id] = merge_form([items[i] for i in topic.item_ids], topic.id)
        object.__setattr__(self, "_items_by_id", MappingProxyType(items))
        object.__setattr__(self, "_topic_forms", MappingProxyType(forms))

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> Catalog:
        """What the terminal holds before its first sync with the hall."""
        return cls(0, (), (), ())

    @classmethod
    def from_delta(cls, delta: CatalogDelta) -> Catalog:
        """A catalog from a full answer (or the data file)."""
        return cls.empty().apply(delta)

    @classmethod
    def from_cache(cls, source: CatalogSource) -> Catalog:
        """The catalog from the terminal's cached copy (backend_client keeps it, sorted by id)."""
        return cls(
            version=source.version(),
            departments=tuple(
                parse_department({**e.data, "version": e.version}, n)
                for n, e in enumerate(source.entries("department"))
            ),
            items=tuple(
                parse_item({**e.data, "version": e.version}, n)
                for n, e in enumerate(source.entries("item"))
            ),
            topics=tuple(
                parse_topic({**e.data, "version": e.version}, n)
                for n, e in enumerate(source.entries("topic"))
            ),
        )

    def apply(self, delta: CatalogDelta) -> Catalog:
        """The catalog after the hall's answer; raises `CatalogError` and changes nothing if the
        answer does not fit (a delta from another version, or one that leaves dangling ids)."""
        if delta.full:
            return Catalog(delta.version, delta.departments, delta.items, delta.topics)
        if delta.since_version != self.version:
            raise CatalogError(
                f"The hall sent catalog changes since version {delta.since_version}, but this "
                f"terminal holds version {self.version}; ask for since_version={self.version}."
            )
        return Catalog(
            version=delta.version,
            departments=_merge(self.departments, delta.departments, delta.removed_departments),
            items=_merge(self.items, delta.items, delta.removed_items),
            topics=_merge(self.topics, delta.topics, delta.removed_topics),
        )

    # -- lookups ------------------------------------------------------------------------------

    def item(self, item_id: str) -> ServiceItem | None:
        return self._items_by_id.get(item_id)

    def require_item(self, item_id: str) -> ServiceItem:
        item = self._items_by_id.get(item_id)
        if item is None:
            raise CatalogError(
                f"Service item '{item_id}' is not in catalog version {self.version}; it was "
                "withdrawn by the hall — choose the item again."
            )
        return item

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def items_of_department(self, department_id: str) -> tuple[ServiceItem, ...]:
        return tuple(item for item in self.items if item.department == department_id)

    def items_of_topic(self, topic_id: str) -> tuple[ServiceItem, ...]:
        topic = self.topic(topic_id)
        if topic is None:
            return ()
        return tuple(self._items_by_id[i] for i in topic.item_ids)

    def topics_with_item(self, item_id: str) -> tuple[Topic, ...]:
        """Life events an item belongs to ("also part of: a newborn, one trip")."""
        return tuple(t for t in self.topics if item_id in t.item_ids)

    def form_for_item(self, item_id: str) -> FormSpec:
        item = self.require_item(item_id)
        return merge_form([item], item.id)

    def form_for_topic(self, topic_id: str) -> FormSpec:
        form = self._topic_forms.get(topic_id)
        if form is None:
            raise CatalogError(f"Topic '{topic_id}' is not in catalog version {self.version}.")
        return form

    @cached_property
    def search_index(self) -> SearchIndex:
        """Built on first use, once per catalog value (pinyin of every name is not free)."""
        from .search import SearchIndex

        return SearchIndex(self)


def _unique(kind: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for entry_id in ids:
        if entry_id in seen:
            raise CatalogError(f"Catalog {kind} '{entry_id}' appears twice.")
        seen.add(entry_id)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_Entry = TypeVar("_Entry", bound=_Identified)


def _merge(
    current: tuple[_Entry, ...], changed: tuple[_Entry, ...], removed: tuple[str, ...]
) -> tuple[_Entry, ...]:
    """Changed entries replace theirs in place; new ones go to the end; removed ones go."""
    replacements = {entry.id: entry for entry in changed}
    gone = set(removed)
    kept = [replacements.pop(e.id, e) for e in current if e.id not in gone]
    return (*kept, *(e for e in changed if e.id in replacements and e.id not in gone))
