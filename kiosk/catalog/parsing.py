"""From the hall's catalog JSON to the core's values, refusing anything malformed.

Two shapes arrive here:

* the hall's `GET /api/v1/catalog` answer (and the rows `backend_client` caches from it): every
  item self-contained, materials as objects `{code, name, form, elicence_type?}`, each entry with
  the `version` that last changed it, plus `full` and `removed` for deltas;
* the hall's packaged data file (`service_hall/data/catalog.json`): a `materials` library, items
  naming materials as `[code, form]` pairs, no versions.

Every problem raises `CatalogError` naming the entry and the field path, e.g.
"Catalog item 'hh-move-in': form_fields[1].min is 'one', expected a number".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.i18n import LocalizedText

from .model import (
    CatalogError,
    Choice,
    Department,
    FieldType,
    FormField,
    Material,
    MaterialForm,
    ServiceItem,
    Topic,
)

MaterialLibrary = Mapping[str, Any]


@dataclass(frozen=True)
class CatalogDelta:
    """One `/catalog?since_version=N` answer: entries changed after N, and ids removed since."""

    version: int
    since_version: int
    full: bool
    departments: tuple[Department, ...] = ()
    items: tuple[ServiceItem, ...] = ()
    topics: tuple[Topic, ...] = ()
    removed_departments: tuple[str, ...] = ()
    removed_items: tuple[str, ...] = ()
    removed_topics: tuple[str, ...] = ()


class _Fields:
    """Typed access to one JSON object, with the path to it kept for error messages."""

    def __init__(self, data: object, entry: str, path: str = "") -> None:
        if not isinstance(data, Mapping):
            raise CatalogError(f"{entry}: {path or 'the entry'} is not a JSON object")
        self.data: Mapping[str, Any] = data
        self.entry = entry
        self.path = path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.entry}: {self.where(key)} {problem}")

    def raw(self, key: str) -> object:
        if key not in self.data:
            raise self.fail(key, "is missing")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"is {value!r}, expected a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        if self.data.get(key) is None:
            return None
        return self.text(key)

    def bilingual(self, key: str) -> LocalizedText:
        return bilingual(self.raw(key), self.entry, self.where(key))

    def integer(self, key: str, minimum: int = 0) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"is {value!r}, expected a whole number ≥ {minimum}")
        return value

    def optional_integer(self, key: str, minimum: int = 0) -> int | None:
        if self.data.get(key) is None:
            return None
        return self.integer(key, minimum)

    def optional_number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"is {value!r}, expected a number")
        return float(value)

    def optional_flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.fail(key, f"is {value!r}, expected true or false")
        return value

    def array(self, key: str, *, optional: bool = False) -> Sequence[Any]:
        value = self.data.get(key) if optional else self.raw(key)
        if value is None and optional:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, f"is {value!r}, expected a list")
        return value


def bilingual(value: object, entry: str, path: str) -> LocalizedText:
    if not isinstance(value, Mapping):
        raise CatalogError(f'{entry}: {path} is {value!r}, expected {{"zh": …, "en": …}}')
    texts: list[str] = []
    for language in ("zh", "en"):
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            raise CatalogError(
                f"{entry}: {path}.{language} is {text!r}, expected a non-empty string"
            )
        texts.append(text)
    return LocalizedText(zh=texts[0], en=texts[1])


def _entry_id(data: object, kind: str, index: int) -> str:
    if isinstance(data, Mapping) and isinstance(data.get("id"), str) and data["id"].strip():
        return str(data["id"])
    raise CatalogError(f"Catalog {kind} number {index + 1} has no usable 'id' ({data!r:.80})")


def parse_department(data: object, index: int = 0) -> Department:
    entry_id = _entry_id(data, "department", index)
    fields = _Fields(data, f"Catalog department '{entry_id}'")
    return Department(
        id=entry_id,
        name=fields.bilingual("name"),
        version=fields.optional_integer("version") or 0,
    )


def parse_topic(data: object, index: int = 0) -> Topic:
    entry_id = _entry_id(data, "topic", index)
    fields = _Fields(data, f"Catalog topic '{entry_id}'")
    item_ids = fields.array("items")
    if not item_ids or not all(isinstance(i, str) and i for i in item_ids):
        raise fields.fail("items", f"is {item_ids!r}, expected a non-empty list of item ids")
    if len(set(item_ids)) != len(item_ids):
        raise fields.fail("items", "names an item twice")
    return Topic(
        id=entry_id,
        name=fields.bilingual("name"),
        summary=fields.bilingual("summary"),
        item_ids=tuple(item_ids),
        version=fields.optional_integer("version") or 0,
    )


def parse_item(data: object, index: int = 0, library: MaterialLibrary | None = None) -> ServiceItem:
    entry_id = _entry_id(data, "item", index)
    entry = f"Catalog item '{entry_id}'"
    fields = _Fields(data, entry)
    materials = tuple(
        _material(raw, entry, f"materials[{n}]", library)
        for n, raw in enumerate(fields.array("materials"))
    )
    codes = [m.code for m in materials]
    if len(set(codes)) != len(codes):
        raise fields.fail("materials", "names the same material twice")
    form_fields = tuple(
        _form_field(raw, entry, f"form_fields[{n}]")
        for n, raw in enumerate(fields.array("form_fields", optional=True))
    )
    names = [f.name for f in form_fields]
    if len(set(names)) != len(names):
        raise fields.fail("form_fields", "has two fields with the same name")
    return ServiceItem(
        id=entry_id,
        department=fields.text("department"),
        name=fields.bilingual("name"),
        summary=fields.bilingual("summary"),
        legal_basis=fields.bilingual("legal_basis"),
        fee_fen=fields.integer("fee_fen"),
        promised_working_days=fields.integer("promised_working_days"),
        materials=materials,
        steps=tuple(
            bilingual(step, entry, f"steps[{n}]")
            for n, step in enumerate(fields.array("steps", optional=True))
        ),
        form_fields=form_fields,
        version=fields.optional_integer("version") or 0,
        pay_at_pickup=fields.optional_flag("pay_at_pickup"),
    )


def _material_form(value: object, entry: str, path: str) -> MaterialForm:
    try:
        return MaterialForm(str(value))
    except ValueError:
        allowed = ", ".join(form.value for form in MaterialForm)
        raise CatalogError(f"{entry}: {path} is {value!r}, expected one of {allowed}") from None


def _material(raw: object, entry: str, path: str, library: MaterialLibrary | None) -> Material:
    if isinstance(raw, list):  # the data file's [code, form] pair, resolved through the library
        if len(raw) != 2 or not isinstance(raw[0], str):
            raise CatalogError(f"{entry}: {path} is {raw!r}, expected [code, form]")
        code = raw[0]
        if library is None or code not in library:
            raise CatalogError(f"{entry}: {path} names material '{code}', not in the library")
        known = _Fields(library[code], entry, f"materials library '{code}'")
        return Material(
            code=code,
            name=bilingual(library[code], entry, f"materials library '{code}'"),
            form=_material_form(raw[1], entry, f"{path}[1]"),
            elicence_type=known.optional_text("elicence_type"),
            pages=known.optional_integer("pages", minimum=1),
        )
    fields = _Fields(raw, entry, path)
    return Material(
        code=fields.text("code"),
        name=fields.bilingual("name"),
        form=_material_form(fields.raw("form"), entry, fields.where("form")),
        elicence_type=fields.optional_text("elicence_type"),
        pages=fields.optional_integer("pages", minimum=1),
    )


def _form_field(raw: object, entry: str, path: str) -> FormField:
    fields = _Fields(raw, entry, path)
    name = fields.text("name")
    fields.path = f"{path}({name})"
    kind_raw = fields.raw("type")
    try:
        kind = FieldType(str(kind_raw))
    except ValueError:
        allowed = ", ".join(t.value for t in FieldType)
        raise fields.fail("type", f"is {kind_raw!r}, expected one of {allowed}") from None
    required = fields.optional_flag("required") or False
    choices: tuple[Choice, ...] = ()
    if kind == FieldType.CHOICE:
        raw_choices = fields.array("choices")
        parsed = []
        for n, choice in enumerate(raw_choices):
            choice_fields = _Fields(choice, entry, fields.where(f"choices[{n}]"))
            parsed.append(Choice(choice_fields.text("value"), choice_fields.bilingual("label")))
        choices = tuple(parsed)
        values = [c.value for c in choices]
        if not choices or len(set(values)) != len(values):
            raise fields.fail("choices", "must list at least one choice, each value once")
    minimum = fields.optional_number("min")
    maximum = fields.optional_number("max")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise fields.fail("min", f"({minimum:g}) is above max ({maximum:g})")
    return FormField(
        name=name,
        type=kind,
        label=fields.bilingual("label"),
        required=required,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        max_length=fields.optional_integer("max_length", minimum=1),
    )


def parse_catalog_answer(document: object) -> CatalogDelta:
    """The hall's `/catalog` answer, full (`since_version` 0) or a delta."""
    fields = _Fields(document, "The hall's catalog answer")
    removed = _Fields(fields.data.get("removed") or {}, "The hall's catalog answer", "removed")
    return CatalogDelta(
        version=fields.integer("version"),
        since_version=fields.optional_integer("since_version") or 0,
        full=bool(fields.optional_flag("full")),
        departments=tuple(
            parse_department(d, n) for n, d in enumerate(fields.array("departments", optional=True))
        ),
        items=tuple(parse_item(d, n) for n, d in enumerate(fields.array("items", optional=True))),
        topics=tuple(
            parse_topic(d, n) for n, d in enumerate(fields.array("topics", optional=True))
        ),
        removed_departments=_ids(removed, "departments"),
        removed_items=_ids(removed, "items"),
        removed_topics=_ids(removed, "topics"),
    )


def _ids(fields: _Fields, key: str) -> tuple[str, ...]:
    values = fields.array(key, optional=True)
    if not all(isinstance(v, str) for v in values):
        raise fields.fail(key, "must list ids as strings")
    return tuple(values)


def parse_catalog_file(document: object) -> CatalogDelta:
    """The hall's packaged data file, as a full answer at version 0 (the file carries none)."""
    fields = _Fields(document, "The catalog file")
    library = fields.data.get("materials")
    if not isinstance(library, Mapping):
        raise fields.fail("materials", "is missing or not an object of material codes")
    return CatalogDelta(
        version=fields.optional_integer("version") or 0,
        since_version=0,
        full=True,
        departments=tuple(
            parse_department(d, n) for n, d in enumerate(fields.array("departments"))
        ),
        items=tuple(parse_item(d, n, library) for n, d in enumerate(fields.array("items"))),
        topics=tuple(
            parse_topic(d, n) for n, d in enumerate(fields.array("topics", optional=True))
        ),
    )
