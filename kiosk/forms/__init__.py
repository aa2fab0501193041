"""The one form of an application: validation with bilingual messages, card pre-fill, keypads.

The questions come from the catalog (`kiosk.catalog.FormSpec`, merged across a topic's items);
this package holds what the citizen answers (`FormState`) and judges it (`check_value`).
"""

from .keypads import Keypad, keypad_for
from .prefill import PREFILL_NAMES, prefill_values
from .state import FormError, FormState, FormValue
from .validation import (
    Checked,
    FieldProblem,
    check_value,
    date_window,
    id_check_character,
    missing_problem,
)

__all__ = [
    "PREFILL_NAMES",
    "Checked",
    "FieldProblem",
    "FormError",
    "FormState",
    "FormValue",
    "Keypad",
    "check_value",
    "date_window",
    "id_check_character",
    "keypad_for",
    "missing_problem",
    "prefill_values",
]
