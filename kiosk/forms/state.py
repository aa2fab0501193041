"""The state of the one form a citizen fills: a value that each keypad entry replaces.

Immutable, so the screen's presenter can hold the previous state, compare, and redraw only the
field that changed; and so the idle clear-down only has to drop one reference.

Errors are shown as the citizen goes: a typed value is checked at once; a required field left
empty is only flagged when they press "next" (`check_all`), not while they have not reached it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from kiosk.catalog import FormSlot, FormSpec
from kiosk.ports.identity import Identity

from .keypads import Keypad, keypad_for
from .prefill import prefill_values
from .validation import Checked, FieldProblem, check_value, is_blank, missing_problem

FormValue = str | int | float


class FormError(LookupError):
    """The program asked the form for something it does not have (a bug, not a citizen's typo)."""


@dataclass(frozen=True)
class FormState:
    form: FormSpec
    today: date  # the terminal's local date when the form was opened; dates are checked against it
    values: Mapping[str, str] = field(default_factory=dict)  # what the field shows, as typed
    checked: Mapping[str, FormValue] = field(default_factory=dict)  # valid values, normalised
    errors: Mapping[str, FieldProblem] = field(default_factory=dict)
    prefilled: frozenset[str] = frozenset()  # keys still holding the card's value

    @classmethod
    def start(cls, form: FormSpec, today: date, identity: Identity | None = None) -> FormState:
        """An empty form, pre-filled from the card when the citizen identified."""
        state = cls(form, today)
        if identity is None:
            return state
        filled = prefill_values(form, identity, today)
        for key, value in filled.items():
            state = state.with_value(key, value)
        return replace(state, prefilled=frozenset(filled))

    # -- changes ------------------------------------------------------------------------------

    def with_value(self, key: str, raw: str) -> FormState:
        """The form after the citizen entered `raw` into field `key` (blank clears it)."""
        slot = self._slot(key)
        values = {**self.values, key: raw}
        checked = {k: v for k, v in self.checked.items() if k != key}
        errors = {k: v for k, v in self.errors.items() if k != key}
        prefilled = self.prefilled
        if self.values.get(key) != raw:
            prefilled = prefilled - {key}
        if is_blank(raw):
            del values[key]
        else:
            result = check_value(slot.field, raw, self.today)
            if isinstance(result, Checked):
                checked[key] = result.value
            else:
                errors[key] = result
        return replace(self, values=values, checked=checked, errors=errors, prefilled=prefilled)

    def cleared(self, key: str) -> FormState:
        return self.with_value(key, "")

    def check_all(self) -> FormState:
        """Flag every required field still empty (the citizen pressed "next")."""
        errors = dict(self.errors)
        for slot in self.form.slots:
            if slot.field.required and slot.key not in self.values:
                errors[slot.key] = missing_problem(slot.field)
        return replace(self, errors=errors)

    # -- questions the screen asks ------------------------------------------------------------

    @property
    def missing(self) -> tuple[str, ...]:
        """Required fields without a valid value, in form order."""
        return tuple(
            s.key for s in self.form.slots if s.field.required and s.key not in self.checked
        )

    @property
    def is_complete(self) -> bool:
        return not self.errors and not self.missing

    def keypad(self, key: str) -> Keypad:
        return keypad_for(self._slot(key).field)

    def is_prefilled(self, key: str) -> bool:
        return key in self.prefilled

    def forms_by_item(self) -> dict[str, dict[str, FormValue]]:
        """The answers as the hall's submission wants them: item id → field name → value.

        A shared question goes to every item that asks it; an empty optional field is left out.
        """
        if not self.is_complete:
            raise FormError(
                f"The form is not complete (missing {list(self.missing)}, errors "
                f"{sorted(self.errors)}); submit only when `is_complete` is true."
            )
        forms: dict[str, dict[str, FormValue]] = {}
        for slot in self.form.slots:
            for item_id in slot.item_ids:
                answers = forms.setdefault(item_id, {})
                if slot.key in self.checked:
                    answers[slot.field.name] = self.checked[slot.key]
        return forms

    def _slot(self, key: str) -> FormSlot:
        slot = self.form.slot(key)
        if slot is None:
            raise FormError(f"The form has no field '{key}'; fields are {list(self.form.keys)}.")
        return slot
