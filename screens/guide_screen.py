"""Step 3: the service guide — what to bring and how it is given, basis, fee, days, steps.

The materials are grouped by how each one is given (paper original into the locker, photographed
here, e-licence pulled from the hall) under a picture of that way, because "which papers do I
need to bring?" is the question a citizen comes with. The page scrolls; the two actions (print
this guide, apply now) stay fixed at the bottom so they are never scrolled away.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kivy.properties import BooleanProperty, ColorProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.apply.view_models import ApplyView, GuideView, MaterialLine, PrintGuide, StartApplication

from . import palette
from .apply_chrome import drop_intent

KV_FILE = "guide_screen.kv"
NAME = "guide"

# Paper first: it is what the citizen must carry to the terminal.
FORM_ORDER = ("paper_original", "e_copy", "e_licence")


def group_materials(
    materials: tuple[MaterialLine, ...],
) -> list[tuple[str, str, list[MaterialLine]]]:
    """(form, form_text, lines) in FORM_ORDER, keeping the catalog's order inside each group."""
    groups: list[tuple[str, str, list[MaterialLine]]] = []
    for form in FORM_ORDER:
        lines = [line for line in materials if line.form == form]
        if lines:
            groups.append((form, lines[0].form_text, lines))
    return groups


class MaterialIcon(BoxLayout):  # type: ignore[misc]
    """Paper into a locker, a camera, or a cloud with a tick: drawn, so it scales crisply."""

    form = StringProperty("paper_original")


class MaterialGroup(BoxLayout):  # type: ignore[misc]
    form = StringProperty("paper_original")
    form_text = StringProperty("")


class MaterialRow(BoxLayout):  # type: ignore[misc]
    name = StringProperty("")
    note = StringProperty("")


class NumberedLine(BoxLayout):  # type: ignore[misc]
    """A step with its number in a circle, or a bullet when `number` is empty."""

    number = StringProperty("")
    text = StringProperty("")


class SectionHeading(BoxLayout):  # type: ignore[misc]
    text = StringProperty("")


class GuideScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    print_label = StringProperty("")
    can_print = BooleanProperty(False)
    start_label = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._content_of: GuideView | None = None

    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, GuideView), f"guide screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(body.notice)
        self.print_label = body.print_label
        self.can_print = body.can_print
        self.start_label = body.start_label
        # The notice and the buttons change often (printing…, printed); the page itself rarely.
        content = dataclasses.replace(body, notice=None, can_print=False)
        if content != self._content_of:
            self._content_of = content
            self._build_page(body)

    def clear_down(self) -> None:
        self._content_of = None
        self.ids.page.clear_widgets()

    def press_print(self) -> None:
        if self.can_print:
            self.send(PrintGuide())

    def press_start(self) -> None:
        self.send(StartApplication())

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send

    # -- the page -----------------------------------------------------------------------------
    def _build_page(self, guide: GuideView) -> None:
        page = self.ids.page
        page.clear_widgets()
        page.add_widget(GuideTitle(title=guide.title, summary=guide.summary))
        if guide.kind == "topic" and len(guide.items) > 1:
            item_list = ItemList()
            item_list.lines = list(guide.items)
            page.add_widget(item_list)
        page.add_widget(FactsRow(
            fee_heading=guide.fee_heading,
            fee_text=guide.fee_text,
            days_heading=guide.days_heading,
            days_text=guide.days_text,
        ))  # fmt: skip
        page.add_widget(SectionHeading(text=guide.materials_heading))
        for form, form_text, lines in group_materials(guide.materials):
            group = MaterialGroup(form=form, form_text=form_text)
            for line in lines:
                group.ids.lines.add_widget(MaterialRow(name=line.name, note=line.note))
            page.add_widget(group)
        if guide.steps:
            page.add_widget(SectionHeading(text=guide.steps_heading))
            for number, step in enumerate(guide.steps, start=1):
                page.add_widget(NumberedLine(number=str(number), text=step))
        basis = [line for line in guide.legal_basis if line]
        if basis:
            page.add_widget(SectionHeading(text=guide.legal_basis_heading))
            for law in dict.fromkeys(basis):  # a topic's items often share one basis
                page.add_widget(NumberedLine(number="", text=law))
        self.ids.scroller.scroll_y = 1


class GuideTitle(BoxLayout):  # type: ignore[misc]
    title = StringProperty("")
    summary = StringProperty("")


class ItemList(BoxLayout):  # type: ignore[misc]
    lines = ObjectProperty([])

    def on_lines(self, _instance: object, lines: list[str]) -> None:
        self.clear_widgets()
        for line in lines:
            self.add_widget(NumberedLine(number="", text=line))


class FactCard(BoxLayout):  # type: ignore[misc]
    heading = StringProperty("")
    value = StringProperty("")
    accent = ColorProperty(palette.APPLY)


class FactsRow(BoxLayout):  # type: ignore[misc]
    fee_heading = StringProperty("")
    fee_text = StringProperty("")
    days_heading = StringProperty("")
    days_text = StringProperty("")
