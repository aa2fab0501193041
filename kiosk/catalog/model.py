"""The service catalog as the core's vocabulary: frozen values, parsed once, trusted afterwards.

The hall publishes the catalog as JSON (docs/hall-api.md). Screens, forms, the materials plan and
search all read these values instead of the JSON, so a malformed entry is refused in one place
(`kiosk.catalog.parsing`) with a sentence naming the item and the field, rather than surfacing as
a `KeyError` on the guide screen in front of a citizen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from kiosk.i18n import LocalizedText


class CatalogError(ValueError):
    """The catalog cannot be used as published; the message names the entry and the field."""


class MaterialForm(StrEnum):
    """How an item accepts a material."""

    PAPER_ORIGINAL = "paper_original"  # handed in at a locker compartment
    E_COPY = "e_copy"  # photographed by the terminal's camera
    E_LICENCE = "e_licence"  # pulled from the hall's e-licence register for this citizen


class FieldType(StrEnum):
    CHOICE = "choice"
    DATE = "date"
    NUMBER = "number"
    PHONE = "phone"
    ID_NUMBER = "id_number"
    TEXT = "text"


# The hall's own default when a text field names no max_length (service_hall/validation.py).
DEFAULT_TEXT_MAX_LENGTH: Final = 500


@dataclass(frozen=True)
class Department:
    id: str
    name: LocalizedText
    version: int = 0


@dataclass(frozen=True)
class Material:
    """A document an item asks for, in the form this item accepts it.

    `pages` is how many photographs make one e-copy of it (see `kiosk.materials.pages_for`);
    None means the catalog did not say.
    """

    code: str
    name: LocalizedText
    form: MaterialForm
    elicence_type: str | None = None
    pages: int | None = None


@dataclass(frozen=True)
class Choice:
    value: str
    label: LocalizedText


@dataclass(frozen=True)
class FormField:
    """One typed question of an item's form; bounds are None where the catalog gives none."""

    name: str
    type: FieldType
    label: LocalizedText
    required: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None

    @property
    def text_limit(self) -> int:
        return self.max_length if self.max_length is not None else DEFAULT_TEXT_MAX_LENGTH

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    @property
    def whole_numbers_only(self) -> bool:
        """Numbers whose bounds are whole take whole numbers: counts, yuan, square metres.

        A catalog that wants decimals says so with a fractional bound (e.g. max 99.5).
        """
        bounds = (self.minimum, self.maximum)
        return all(bound is None or float(bound).is_integer() for bound in bounds)


@dataclass(frozen=True)
class ServiceItem:
    id: str
    department: str
    name: LocalizedText
    summary: LocalizedText
    legal_basis: LocalizedText
    fee_fen: int
    promised_working_days: int
    materials: tuple[Material, ...]
    steps: tuple[LocalizedText, ...]
    form_fields: tuple[FormField, ...]
    version: int = 0
    # The catalog's explicit word on paying when the result is collected; None = not stated,
    # and `kiosk.materials.pay_at_pickup_allowed` decides from the item's steps.
    pay_at_pickup: bool | None = None

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.form_fields if f.name == name), None)


@dataclass(frozen=True)
class Topic:
    """A life event ("one trip"): several items the citizen submits once, with one form."""

    id: str
    name: LocalizedText
    summary: LocalizedText
    item_ids: tuple[str, ...]
    version: int = 0


@dataclass(frozen=True)
class FormSlot:
    """One question on the screen, feeding the same-named field of one or more items.

    `key` is what the form state is keyed by: the field name when the question is shared, or
    `"<item id>.<field name>"` when two items of a topic ask a same-named question with different
    choices (e.g. a passport's "kind" offers "replacement", a permit's does not) — those are two
    questions, each labelled with its item.
    """

    key: str
    field: FormField
    item_ids: tuple[str, ...]
    item_name: LocalizedText | None = None  # set only on a question split per item


@dataclass(frozen=True)
class FormSpec:
    """The one form of an item or of a topic: its questions in the order they are asked."""

    slots: tuple[FormSlot, ...]

    def slot(self, key: str) -> FormSlot | None:
        return next((s for s in self.slots if s.key == key), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.slots)
