"""What every courier screen shares: the base screen, the header and notice from a CourierView,
the "I am still here" bar and the list of compartments of a run (styled in courier_widgets.kv).

A courier screen keeps the whole `CourierView` in one property and its kv reads from it
(`root.view.instruction`), so a new view redraws every bound text at once and the screen holds
no state of its own. Buttons ask `offers(intent, view)`: a button is live only for an intent the
flow accepts now (the flow raises on anything else, and the presenter drops it before that).
The header is the apply journey's (`ApplyHeader`, same place for help, language, large text); its
Back means "back to the menu" and its Cancel means "cancel sign-in" or "sign out".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import ListProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.apply import view_models as apply_vm
from kiosk.courier import view_models as vm

from .widgets import KioskButton

KV_FILE = "courier_widgets.kv"

SendIntent = Callable[[object], None]

# The apply header's two buttons, as the courier flow's intents (first one the view accepts).
HEADER_BACK: tuple[str, ...] = ("BackToMenu",)
HEADER_CANCEL: tuple[str, ...] = ("CancelSignIn", "SignOut")


def blank_view() -> vm.CourierView:
    """What a courier screen shows before its first view (never seen by a person)."""
    return vm.CourierView(
        step=vm.CourierStep.SIGNED_OUT,
        title="",
        courier_name="",
        instruction="",
        notice="",
        severity="info",
        pin_mask="",
        pin_ready=False,
        menu=(),
        rows=(),
        sizes=(),
        question=None,
        loaded_count=0,
        countdown=None,
        accepts=frozenset(),
        labels=(),
    )


def header_for(view: vm.CourierView) -> apply_vm.Header:
    back = next((name for name in HEADER_BACK if name in view.accepts), HEADER_BACK[0])
    cancel = next((name for name in HEADER_CANCEL if name in view.accepts), HEADER_CANCEL[-1])
    return apply_vm.Header(
        title=view.title,
        progress=(),
        back_label=view.label_for(back),
        cancel_label=view.label_for(cancel),
        can_go_back=back in view.accepts,
        can_cancel=cancel in view.accepts,
        applicant=view.courier_name,
    )


def notice_for(view: vm.CourierView) -> apply_vm.Notice | None:
    if not view.notice:
        return None
    # the banner knows info / warning / error; a success is good news, drawn as information
    severity: apply_vm.Severity = "info" if view.severity == "success" else view.severity
    return apply_vm.Notice(view.notice, severity)


def header_intent(intent: object, view: vm.CourierView) -> object | None:
    """The apply header's Back / Cancel as the courier intent the view offers (None: neither)."""
    if isinstance(intent, apply_vm.Back):
        names = HEADER_BACK
    elif isinstance(intent, apply_vm.Cancel):
        names = HEADER_CANCEL
    else:
        return intent
    name = next((n for n in names if n in view.accepts), None)
    return None if name is None else getattr(vm, name)()


class CourierButton(KioskButton):
    """A button that takes no room while the flow does not offer its intent."""


class CourierScreen(Screen):  # type: ignore[misc]
    """Base of the courier screens: one view in, intents out through `send`."""

    send = ObjectProperty(None, allownone=True)
    view = ObjectProperty(blank_view(), rebind=True)

    def render(self, view: vm.CourierView) -> None:
        self.view = view
        self.ids.header.render(header_for(view))
        self.ids.notice.render(notice_for(view))
        self.ids.still_here.view = view

    def clear_down(self) -> None:
        self.view = blank_view()

    # ---- used by the kv rules -------------------------------------------------------------------

    @staticmethod
    def offers(intent: str, view: vm.CourierView) -> bool:
        return intent in view.accepts

    @staticmethod
    def label(intent: str, view: vm.CourierView) -> str:
        return view.label_for(intent)

    def press(self, intent: object) -> None:
        if self.send is not None and type(intent).__name__ in self.view.accepts:
            self.send(intent)

    def press_named(self, name: str) -> None:
        """A button whose intent has no argument: `press_named('OpenAll')`."""
        self.press(getattr(vm, name)())

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send
        self.ids.still_here.send = send


class CourierDoorCard(BoxLayout):  # type: ignore[misc]
    """The door in focus: its label very large, its shelf under it; no room when none."""

    door = ObjectProperty(None, allownone=True)


class StillHereBar(BoxLayout):  # type: ignore[misc]
    """The idle warning of a courier session and the button that keeps it going."""

    view = ObjectProperty(blank_view(), rebind=True)
    send = ObjectProperty(None, allownone=True)

    def press(self) -> None:
        if self.send is not None and "StillHere" in self.view.accepts:
            self.send(vm.StillHere())


class RunRowList(BoxLayout):  # type: ignore[misc]
    """The compartments of a collect or return run: label, what happened, done or left."""

    rows = ListProperty([])

    def on_rows(self, _instance: object, rows: list[vm.RowView]) -> None:
        self.clear_widgets()
        for row in rows:
            self.add_widget(RunRowItem(row=row))


class RunRowItem(BoxLayout):  # type: ignore[misc]
    row = ObjectProperty(None)

    @staticmethod
    def mark(state: str) -> str:
        return {"done": "✓", "problem": "!"}.get(state, "…" if state != "waiting" else "·")
