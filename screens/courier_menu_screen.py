"""The courier's menu: what is waiting here, counted, one big button per task.

The counts come with the view (the terminal's own database and the hall's last task list); a
task with nothing to do is greyed rather than hidden, so the courier sees "0" and knows it is
not a fault. "Apply for a citizen" is there only for village agents.
"""

from __future__ import annotations

from kiosk.courier import view_models as vm

from .courier_widgets import CourierScreen

KV_FILE = "courier_menu_screen.kv"
NAME = "courier_menu"


class CourierMenuScreen(CourierScreen):
    @staticmethod
    def entry(intent: str, view: vm.CourierView) -> vm.MenuEntry | None:
        return next((e for e in view.menu if e.intent == intent), None)

    def entry_text(self, intent: str, view: vm.CourierView) -> str:
        found = self.entry(intent, view)
        if found is None:
            return ""
        if found.count is None:
            return found.label
        return f"{found.label}  ({found.count})"

    def entry_shown(self, intent: str, view: vm.CourierView) -> bool:
        return self.entry(intent, view) is not None

    def entry_enabled(self, intent: str, view: vm.CourierView) -> bool:
        found = self.entry(intent, view)
        return found is not None and found.enabled and intent in view.accepts
