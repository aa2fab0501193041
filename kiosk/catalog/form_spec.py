"""One form for several items: how a topic's questions are merged.

Rules (checked when a catalog is loaded, so a bad topic never reaches a citizen):

* Fields with the same name are the same question, asked once. The merged question is required
  if any item requires it; a number takes the narrowest bounds of all items (no overlap is an
  error); text takes the smallest `max_length`; the label is the first item's.
* Same name but a different type (a date in one item, text in another) cannot be one question:
  `CatalogError` naming the topic, the field and both items.
* Same name, type `choice`, but different choice lists: these are different questions that
  happen to share a name (a passport's "kind" offers "replacement", a Hong Kong permit's does
  not). They stay apart, keyed `"<item id>.<name>"` and labelled with their item; merging them
  would let a citizen pick an answer that one item's desk must refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .model import CatalogError, FieldType, FormField, FormSlot, FormSpec, ServiceItem


def merge_form(items: Sequence[ServiceItem], owner: str) -> FormSpec:
    """The form asked once for `items`; `owner` names the topic (or item) in error messages."""
    order: list[str] = []
    by_name: dict[str, list[tuple[ServiceItem, FormField]]] = {}
    for item in items:
        for form_field in item.form_fields:
            if form_field.name not in by_name:
                order.append(form_field.name)
                by_name[form_field.name] = []
            by_name[form_field.name].append((item, form_field))
    slots: list[FormSlot] = []
    for name in order:
        slots.extend(_slots_for(name, by_name[name], owner))
    return FormSpec(tuple(slots))


def _slots_for(
    name: str, askers: list[tuple[ServiceItem, FormField]], owner: str
) -> list[FormSlot]:
    first_item, first = askers[0]
    for item, other in askers[1:]:
        if other.type != first.type:
            raise CatalogError(
                f"Catalog topic '{owner}': field '{name}' is a {first.type.value} in item "
                f"'{first_item.id}' but a {other.type.value} in item '{item.id}'; one form "
                "cannot ask both — the hall must rename one of them."
            )
    if first.type == FieldType.CHOICE and any(
        other.choices != first.choices for _, other in askers[1:]
    ):
        return [
            FormSlot(f"{item.id}.{name}", form_field, (item.id,), item.name)
            for item, form_field in askers
        ]
    merged = first
    for item, other in askers[1:]:
        merged = _narrow(merged, other, owner, item.id)
    return [FormSlot(name, merged, tuple(item.id for item, _ in askers))]


def _narrow(merged: FormField, other: FormField, owner: str, item_id: str) -> FormField:
    minimum = _narrower(merged.minimum, other.minimum, larger=True)
    maximum = _narrower(merged.maximum, other.maximum, larger=False)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise CatalogError(
            f"Catalog topic '{owner}': number field '{merged.name}' of item '{item_id}' allows "
            f"no value that the other items also allow ({minimum:g} > {maximum:g})."
        )
    max_length = (
        merged.max_length
        if other.max_length is None
        else other.max_length
        if merged.max_length is None
        else min(merged.max_length, other.max_length)
    )
    return replace(
        merged,
        required=merged.required or other.required,
        minimum=minimum,
        maximum=maximum,
        max_length=max_length,
    )


def _narrower(a: float | None, b: float | None, *, larger: bool) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if larger else min(a, b)
