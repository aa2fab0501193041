"""The catalog as shipped data, and its versioning so kiosks download only what changed.

Each department, item and topic carries the catalog version that last changed it. An import
compares content hashes: an unchanged catalog does not move the version, a changed one moves it
by exactly one, and entries that disappear stay as tombstones so kiosks learn to drop them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import CatalogEntry, HallState

KINDS = ("department", "item", "topic")


def packaged_catalog() -> dict[str, Any]:
    text = resources.files("service_hall").joinpath("data/catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def expand(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Resolve material codes so every item is self-contained for the kiosk."""
    library = data["materials"]
    items = []
    for raw in data["items"]:
        item = dict(raw)
        materials = []
        for code, form in raw["materials"]:
            entry = library[code]
            material: dict[str, Any] = {
                "code": code,
                "name": {"zh": entry["zh"], "en": entry["en"]},
                "form": form,
            }
            if entry.get("elicence_type"):
                material["elicence_type"] = entry["elicence_type"]
            if entry.get("pages"):
                material["pages"] = entry["pages"]
            materials.append(material)
        item["materials"] = materials
        items.append(item)
    return {"department": data["departments"], "item": items, "topic": data["topics"]}


def _hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def import_catalog(session: Session, data: dict[str, Any], state: HallState) -> int:
    """Bring the stored catalog in line with `data`; returns the (possibly new) version."""
    expanded = expand(data)
    _check_references(expanded)
    existing = {(e.kind, e.id): e for e in session.scalars(select(CatalogEntry))}
    new_version = state.catalog_version + 1
    changed = False
    seen: set[tuple[str, str]] = set()
    for kind in KINDS:
        for content in expanded[kind]:
            key = (kind, content["id"])
            seen.add(key)
            digest = _hash(content)
            row = existing.get(key)
            if row is None:
                session.add(
                    CatalogEntry(
                        kind=kind,
                        id=content["id"],
                        content=content,
                        content_hash=digest,
                        version=new_version,
                    )
                )
                changed = True
            elif row.content_hash != digest or row.removed:
                row.content, row.content_hash = content, digest
                row.version, row.removed = new_version, False
                changed = True
    for key, row in existing.items():
        if key not in seen and not row.removed:
            row.removed, row.version = True, new_version
            changed = True
    if changed:
        state.catalog_version = new_version
    return state.catalog_version


def _check_references(expanded: dict[str, list[dict[str, Any]]]) -> None:
    departments = {d["id"] for d in expanded["department"]}
    items = {i["id"] for i in expanded["item"]}
    for item in expanded["item"]:
        if item["department"] not in departments:
            raise ValueError(f"catalog item {item['id']} names unknown department")
    for topic in expanded["topic"]:
        missing = set(topic["items"]) - items
        if missing:
            raise ValueError(f"catalog topic {topic['id']} names unknown items {sorted(missing)}")


def catalog_changes(session: Session, since: int, version: int) -> dict[str, Any]:
    rows = session.scalars(
        select(CatalogEntry).where(CatalogEntry.version > since).order_by(CatalogEntry.id)
    )
    body: dict[str, Any] = {
        "version": version,
        "since_version": since,
        "full": since == 0,
        "departments": [],
        "items": [],
        "topics": [],
        "removed": {"departments": [], "items": [], "topics": []},
    }
    plural = {"department": "departments", "item": "items", "topic": "topics"}
    for row in rows:
        if row.removed:
            if since > 0:
                body["removed"][plural[row.kind]].append(row.id)
        else:
            body[plural[row.kind]].append({**row.content, "version": row.version})
    return body


def live_entry(session: Session, kind: str, entry_id: str) -> dict[str, Any] | None:
    row = session.get(CatalogEntry, (kind, entry_id))
    if row is None or row.removed:
        return None
    return row.content


def utc_text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"
