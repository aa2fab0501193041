"""The identify, choose and guide screens and the apply presenter, in a real off-screen window.

Kivy allows one window per process, so each test runs this same file as a script in a subprocess
(`python test_choose_screens.py OUT WIDTH HEIGHT`): it builds the three screens through the
presenter, shows hand-made view-models in Chinese, English and large text, leaves screenshots,
touches widgets where they are drawn and prints what the presenter forwarded as one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from kiosk.apply.view_models import (
    ApplyStep,
    ApplyView,
    ChoiceEntry,
    ChooseView,
    Countdown,
    GuideView,
    Header,
    IdentifyView,
    MaterialLine,
    Notice,
    ProgressStep,
    TabView,
    Voice,
)
from kiosk.config import Language
from tests.support.ui_process import UiProcess

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S = 150
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LARGE_TEXT_SCALE = 1.35
# A finger rests this long, like a real tap.
HOLD_S = 0.15
# KNOWN_GAP: a synthetic touch on a row of a list long enough to scroll never reaches the row (the
# ScrollView keeps it); so rows are tapped only in lists that fit. Real touches are not affected
# as far as we know, but this is not verified here.

# ---- hand-made view-models (the texts are the flow's own, copied so the test stands alone) ----

ZH: dict[str, str] = {
    "back": "上一步", "cancel": "取消办理", "identify": "请刷身份证或社保卡",
    "choose": "选择办理事项", "guide": "办事指南", "applicant": "张*明  4308**********1234",
    "instruction": "请将第二代身份证或社保卡平放在下方读卡区，听到提示音后即可。",
    "browse": "不刷卡，先看看办事指南",
    "unreadable": "读不出这张证件。请平放在读卡区不要移动；如果多次失败，证件可能已损坏，"
    "请到政务服务中心窗口办理。",
    "offline": "读卡器暂时无法使用。您可以先查看办事指南；需要申请请拨打热线或到政务服务中心办理。",
    "most_used": "常办事项", "departments": "按部门", "topics": "一件事", "search": "搜索",
    "search_hint": "输入拼音首字母（如 HK）或关键词", "use_card": "刷卡办理",
    "results": "“HK”的搜索结果", "empty": "没有找到相关事项，请换个词试试，或按部门查找。",
    "more_time": "我还需要时间", "countdown": "{s} 秒后将取消本次办理",
    "card_back": "请把证件放回读卡区，继续办理。",
    "print": "打印指南", "start": "立即申请", "printed": "已打印，请在出纸口取走。",
}  # fmt: skip
EN: dict[str, str] = {
    "back": "Back", "cancel": "Cancel", "identify": "Place your card", "choose": "Choose a service",
    "guide": "Service guide", "applicant": "Zhang*ming  4308**********1234",
    "instruction": "Lay your ID card or social-security card flat on the reader below until you"
    " hear the beep.",
    "browse": "Look at guides without a card",
    "unreadable": "This card could not be read. Lay it flat and keep it still; if it keeps failing"
    " the card may be damaged — please go to a service centre counter.",
    "offline": "The card reader is not working right now. You can still read the guides; to apply,"
    " call the hotline or visit the service centre.",
    "most_used": "Most used", "departments": "By department", "topics": "Life events",
    "search": "Search", "search_hint": "Type pinyin initials (e.g. HK) or a word",
    "use_card": "Use my card", "results": "Results for “HK”",
    "empty": "Nothing found. Try another word, or look by department.",
    "more_time": "I need more time", "countdown": "This application will be cancelled in {s} s",
    "card_back": "Please put your card back on the reader to carry on.",
    "print": "Print this guide", "start": "Apply now",
    "printed": "Printed — please take it from the slot.",
}  # fmt: skip
PROGRESS = {
    "zh-CN": ("刷证", "选事项", "填表", "材料", "提交", "投递", "回执"),
    "en": ("Card", "Choose", "Form", "Copies", "Submit", "Hand in", "Receipt"),
}
ALL_INTENTS = frozenset({
    "BrowseWithoutCard", "IdentifyToApply", "ShowTab", "ChooseDepartment", "ChooseItem",
    "ChooseTopic", "Search", "PrintGuide", "StartApplication", "ExtendTime", "Back", "Cancel",
})  # fmt: skip


def words(language: Language) -> dict[str, str]:
    return ZH if language == "zh-CN" else EN


def header(language: Language, title_key: str, current: int, applicant: bool) -> Header:
    w = words(language)
    labels = PROGRESS[language]
    return Header(
        title=w[title_key],
        progress=tuple(
            ProgressStep(label, "done" if i < current else "current" if i == current else "todo")
            for i, label in enumerate(labels)
        ),
        back_label=w["back"],
        cancel_label=w["cancel"],
        can_go_back=current > 0,
        can_cancel=True,
        applicant=w["applicant"] if applicant else "",
    )


def apply_view(
    step: ApplyStep,
    language: Language,
    head: Header,
    body: Any,
    *,
    serial: int = 1,
    countdown: Countdown | None = None,
    overlay: Notice | None = None,
    accepts: frozenset[str] = ALL_INTENTS,
) -> ApplyView:
    return ApplyView(
        step=step,
        language=language,
        header=head,
        body=body,
        voice=Voice(key=f"apply.voice.{step.value}", text=head.title, language=language),
        voice_serial=serial,
        countdown=countdown,
        overlay=overlay,
        accepts=accepts,
    )


def identify_view(language: Language, animation: str = "place_card", serial: int = 1) -> ApplyView:
    w = words(language)
    notice = None
    if animation == "unreadable":
        notice = Notice(w["unreadable"], "warning")
    elif animation == "reader_offline":
        notice = Notice(w["offline"], "error")
    body = IdentifyView(
        instruction=w["instruction"],
        animation=animation,  # type: ignore[arg-type]
        reader_available=animation != "reader_offline",
        browse_label=w["browse"],
        can_browse=True,
        purpose="start",
        notice=notice,
    )
    return apply_view(ApplyStep.IDENTIFY, language, header(language, "identify", 0, False), body,
                      serial=serial)  # fmt: skip


def _entries(language: Language, tab: str) -> tuple[ChoiceEntry, ...]:
    zh = language == "zh-CN"
    if tab == "departments":
        names = [
            ("公安局", "Public Security Bureau", 6), ("人力资源和社会保障局", "Human Resources and"
             " Social Security Bureau", 9), ("民政局", "Civil Affairs Bureau", 4),
            ("市场监督管理局", "Market Regulation Administration", 7),
            ("不动产登记中心", "Real Estate Registration Centre", 3),
        ]  # fmt: skip
        return tuple(
            ChoiceEntry("department", f"dept-{i}", zh_name if zh else en_name,
                        f"{count} 个事项" if zh else f"{count} services", "", "")
            for i, (zh_name, en_name, count) in enumerate(names)
        )  # fmt: skip
    if tab == "topics":
        return (
            ChoiceEntry("topic", "newborn", "新生儿出生一件事" if zh else "A baby is born",
                        "出生医学证明、户口登记、医保参保" if zh else
                        "Birth certificate, household registration, medical insurance",
                        "免费" if zh else "Free", "5 个工作日" if zh else "5 working days"),
            ChoiceEntry("topic", "retire", "退休一件事" if zh else "Retiring",
                        "养老金申领、医保转移" if zh else
                        "Pension claim, medical insurance transfer",
                        "免费" if zh else "Free", "10 个工作日" if zh else "10 working days"),
        )  # fmt: skip
    rows = [
        ("hukou-move", "户口迁移登记", "Household registration transfer", "公安局",
         "Public Security Bureau", "免费", "Free", 5),
        ("id-renew", "居民身份证换领", "Renew a resident ID card", "公安局",
         "Public Security Bureau", "¥20.00", "¥20.00", 20),
        ("business-licence", "个体工商户设立登记", "Register a sole proprietorship",
         "市场监督管理局", "Market Regulation Administration", "免费", "Free", 3),
        ("pension", "城乡居民养老保险参保登记",
         "Join the rural and urban residents' pension scheme",
         "人力资源和社会保障局", "Human Resources and Social Security Bureau", "免费", "Free", 1),
        ("marriage-cert", "婚姻登记记录证明", "Certificate of marriage registration record",
         "民政局", "Civil Affairs Bureau", "免费", "Free", 2),
        ("property", "不动产权证书补发", "Replace a lost property certificate",
         "不动产登记中心", "Real Estate Registration Centre", "¥80.00", "¥80.00", 15),
    ]  # fmt: skip
    if tab == "search":
        rows = rows[:1]
    return tuple(
        ChoiceEntry("item", item_id, zh_t if zh else en_t, zh_d if zh else en_d,
                    zh_f if zh else en_f, f"{days} 个工作日" if zh else f"{days} working days")
        for item_id, zh_t, en_t, zh_d, en_d, zh_f, en_f, days in rows
    )  # fmt: skip


def choose_view(language: Language, tab: str = "most_used", query: str = "") -> ApplyView:
    w = words(language)
    entries = _entries(language, tab)
    heading = w["results"] if tab == "search" and query else w[tab]
    body = ChooseView(
        tabs=tuple(
            TabView(name, w[name], name == tab)
            for name in ("most_used", "departments", "topics", "search")
        ),
        heading=heading,
        entries=entries if tab != "search" or query else (),
        empty_text=w["empty"],
        search_query=query,
        search_hint=w["search_hint"],
        keyboard="pinyin" if tab == "search" else "none",
        department_id="",
        identify_label=w["use_card"],
    )
    return apply_view(ApplyStep.CHOOSE, language, header(language, "choose", 1, False), body)


def guide_view(language: Language, *, topic: bool = False, printed: bool = False) -> ApplyView:
    w = words(language)
    zh = language == "zh-CN"
    paper = "纸质原件，投入柜格" if zh else "Paper original, into the locker"
    photo = "现场拍照" if zh else "Photographed here"
    elic = "电子证照" if zh else "E-licence"
    materials = (
        MaterialLine("id-card", "居民身份证" if zh else "Resident ID card", "e_copy", photo,
                     "已从您的身份证读取，无需拍照" if zh else
                     "Read from your ID card — no photo needed"),
        MaterialLine("hukou-book", "居民户口簿" if zh else "Household register booklet",
                     "paper_original", paper, ""),
        MaterialLine("move-cert", "准予迁入证明" if zh else "Permit to move in", "paper_original",
                     paper, ""),
        MaterialLine("housing", "房屋产权证明或租赁合同" if zh else
                     "Proof of housing: title deed or lease",
                     "e_copy", photo, ""),
        MaterialLine("marriage", "结婚证" if zh else "Marriage certificate", "e_licence", elic,
                     "已有电子证照，可直接调用" if zh else
                     "On file as an e-licence — no paper needed"),
    )  # fmt: skip
    steps = (
        ("刷证并填写申请表", "Identify with your card and fill in the form"),
        ("拍摄电子材料，纸质原件投入柜格",
         "Photograph the copies; put the paper originals in the locker"),
        ("公安局户政窗口审核", "The household registration office reviews it"),
        ("办结后短信通知，凭取件码在本机领取",
         "An SMS tells you when to collect it here with your code"),
    )  # fmt: skip
    body = GuideView(
        kind="topic" if topic else "item",
        id="newborn" if topic else "hukou-move",
        title=("新生儿出生一件事" if zh else "A baby is born") if topic else
        ("户口迁移登记" if zh else "Household registration transfer"),
        summary="在本市范围内迁移户口，本人或户主可申请。" if zh else
        "Move your household registration within the city; you or the head of household may apply.",
        items=("出生医学证明", "户口登记", "医保参保") if topic and zh else
        ("Birth certificate", "Household registration", "Medical insurance") if topic else
        ("户口迁移登记",),
        materials_heading="所需材料" if zh else "What you need",
        materials=materials,
        legal_basis_heading="办理依据" if zh else "Legal basis",
        legal_basis=("《中华人民共和国户口登记条例》第十条" if zh else
                     "Regulations on Household Registration of the PRC, article 10",),
        fee_heading="收费" if zh else "Fee",
        fee_text="免费" if zh else "Free",
        days_heading="承诺时限" if zh else "Promised time",
        days_text="5 个工作日" if zh else "5 working days",
        steps_heading="办理流程" if zh else "Steps",
        steps=tuple(zh_s if zh else en_s for zh_s, en_s in steps),
        print_label=w["print"],
        can_print=True,
        start_label=w["start"],
        notice=Notice(w["printed"], "info") if printed else None,
    )  # fmt: skip
    return apply_view(ApplyStep.GUIDE, language, header(language, "guide", 1, True), body)


def with_countdown(view: ApplyView, seconds: int) -> ApplyView:
    w = words(view.language)
    return ApplyView(
        step=view.step, language=view.language, header=view.header, body=view.body,
        voice=view.voice, voice_serial=view.voice_serial,
        countdown=Countdown(seconds, w["countdown"].format(s=seconds), w["more_time"]),
        overlay=Notice(w["card_back"], "warning"), accepts=view.accepts,
    )  # fmt: skip


# What each window size leaves as screenshots: (large text, language, pictures).
_MAIN = ("identify", "choose", "choose-search", "guide", "alert")
FULL_PLAN: tuple[tuple[bool, Language, tuple[str, ...]], ...] = (
    (False, "zh-CN", (*_MAIN, "identify-unreadable", "identify-reader_offline",
                      "choose-departments", "guide-end", "guide-topic")),
    (False, "en", _MAIN),
    (True, "zh-CN", _MAIN),
    (True, "en", (*_MAIN, "guide-end")),
)  # fmt: skip
SMALL_PLAN: tuple[tuple[bool, Language, tuple[str, ...]], ...] = (
    (True, "zh-CN", ("identify", "choose-search", "guide")),
    (True, "en", ("identify-unreadable", "choose", "alert")),
)
DOC_PICTURES = (
    "identify-zh", "identify-en-large", "identify-unreadable-zh", "identify-reader_offline-zh",
    "choose-zh", "choose-search-en-large", "guide-zh", "guide-en-large", "alert-zh-large",
)  # fmt: skip
DOC_WIDTH_PX = 540


def plan_size(plan: tuple[tuple[bool, Language, tuple[str, ...]], ...]) -> int:
    return sum(len(pictures) for _large, _language, pictures in plan)


def write_docs(shots: Path, docs: Path) -> None:
    """Downscaled screenshots for the README: `python <this file> OUT 1080 1920 write-docs`."""
    from PIL import Image

    docs.mkdir(parents=True, exist_ok=True)
    for name in DOC_PICTURES:
        with Image.open(shots / f"{name}.png") as image:
            height = round(image.height * DOC_WIDTH_PX / image.width)
            small = image.convert("RGB").resize((DOC_WIDTH_PX, height), Image.Resampling.LANCZOS)
            # 256 colours are plenty for flat UI and keep each picture well under 150 KB
            small.quantize(256, dither=Image.Dither.NONE).save(docs / f"{name}.png", optimize=True)


# ---- the probe (runs in the subprocess) --------------------------------------------------------

Script = Generator[Callable[[], bool] | int, None, None]


def probe(out: Path, width: int, height: int, shots: str) -> dict[str, Any]:
    """`shots`: "all", "docs" (the README's pictures) or "none"; every picture is drawn anyway."""
    os.environ.update({
        "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1", "KIVY_NO_FILELOG": "1",
        "KIVY_HOME": str(out / "kivy"), "KCFG_KIVY_LOG_LEVEL": "warning",
        "KCFG_GRAPHICS_WIDTH": str(width), "KCFG_GRAPHICS_HEIGHT": str(height),
        "KCFG_GRAPHICS_RESIZABLE": "0", "KCFG_INPUT_MOUSE": "mouse,disable_multitouch",
    })  # fmt: skip
    import time

    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.metrics import mm
    from kivy.properties import BooleanProperty, NumericProperty
    from kivy.uix.screenmanager import NoTransition, ScreenManager
    from kivy.uix.scrollview import ScrollView

    from bootstrap.journeys.runner import FingerTouch
    from screens import widgets
    from screens.app import load_kv, use_font_everywhere
    from screens.apply_presenter import ApplyPresenter, build_step_screens

    result: dict[str, Any] = {"window": [], "shots": [], "checks": {}, "spoken": [], "error": ""}
    sent: list[Any] = []

    class HarnessApp(App):  # type: ignore[misc]
        layout_unit = NumericProperty(1.0)
        type_unit = NumericProperty(1.0)
        touch_target = NumericProperty(60.0)
        large_text = BooleanProperty(False)

        def build(self) -> ScreenManager:
            use_font_everywhere(FONT)
            load_kv(widgets.KV_FILE)
            manager = ScreenManager(transition=NoTransition())
            steps = (ApplyStep.IDENTIFY, ApplyStep.CHOOSE, ApplyStep.GUIDE)
            self.presenter = ApplyPresenter(
                manager, sent.append, lambda voice: result["spoken"].append(voice.key),
                step_screens=build_step_screens(steps),
            )  # fmt: skip
            Window.bind(size=self.units)
            self.bind(large_text=self.units)
            self.units()
            return manager

        def units(self, *_args: object) -> None:
            self.layout_unit = min(Window.width / 1080, Window.height / 1350)
            self.type_unit = self.layout_unit * (LARGE_TEXT_SCALE if self.large_text else 1.0)
            self.touch_target = max(float(mm(15)), 120 * self.layout_unit)

        def on_start(self) -> None:
            self.script = run(self)
            self.waiting: Callable[[], bool] | int = 2
            self.deadline = time.monotonic() + 20
            Clock.schedule_interval(self.step, 0)

        def step(self, _dt: float) -> bool:
            try:
                if isinstance(self.waiting, int):
                    if self.waiting > 0:
                        self.waiting -= 1
                        return True
                elif not self.waiting():
                    if time.monotonic() > self.deadline:
                        raise AssertionError("a condition did not come true within 20 s")
                    return True
                self.waiting = next(self.script)
                self.deadline = time.monotonic() + 20
                return True
            except StopIteration:
                self.stop()
                return False
            except Exception as err:  # noqa: BLE001  # any failure goes back as JSON, then stop
                result["error"] = f"{type(err).__name__}: {err}"
                self.stop()
                return False

    def shown(view: ApplyView) -> Script:
        app = App.get_running_app()
        app.presenter.show(view)
        yield lambda: app.presenter.current_view is view
        yield 3  # one frame to lay out, one to draw, one spare for nested minimum heights

    def shot(name: str) -> None:
        if shots == "none" or (shots == "docs" and name not in DOC_PICTURES):
            return
        target = out / f"{name}.png"
        written = Path(Window.screenshot(name=str(target)))
        written.rename(target)
        result["shots"].append(target.name)

    def tap(path: str) -> Script:
        app = App.get_running_app()
        widget = widget_at(app, path)
        assert widget is not None, f"no widget {path}"
        assert widget.opacity > 0, f"{path} is hidden"
        assert not widget.disabled, f"{path} is disabled"
        scroller = widget.parent
        while scroller is not None and not isinstance(scroller, ScrollView):
            scroller = None if scroller.parent is scroller else scroller.parent  # the window
        if scroller is not None and scroller.viewport_size[1] > scroller.height:
            # scroll it into sight first, as a person would
            scroller.scroll_to(widget, padding=0, animate=False)
            yield 3
        x, y = widget.to_window(*widget.center)
        assert 0 <= x < Window.width, f"{path} is off screen"
        assert 0 <= y < Window.height, f"{path} is off screen"
        finger = FingerTouch(x, y)
        finger.press()
        held_until = time.monotonic() + HOLD_S
        yield lambda: time.monotonic() >= held_until
        finger.lift()
        yield 1

    def widget_at(app: Any, path: str) -> Any:
        first, *rest = path.split("/")
        node = app.root.get_screen(first) if app.root.has_screen(first) else None
        if first == "alert":
            node = app.presenter._alert
        for part in rest:
            if node is None:
                return None
            if part.startswith("#"):
                node = node.children[::-1][int(part[1:])]
            else:
                node = node.ids.get(part)
        return node

    def expect(name: str, tapped: Script, wanted: object) -> Script:
        before = len(sent)
        yield from tapped
        yield lambda: len(sent) > before or wanted is None
        yield 1
        got = [repr(intent) for intent in sent[before:]]
        result["checks"][name] = got
        if wanted is not None:
            assert got == [repr(wanted)], f"{name}: sent {got}, expected {wanted!r}"
        else:
            assert not got, f"{name}: sent {got}, expected nothing"

    def show_picture(app: Any, picture: str, language: Language) -> Script:
        if picture.startswith("identify"):
            animation = picture.removeprefix("identify-") if "-" in picture else "place_card"
            yield from shown(identify_view(language, animation))
            card = app.presenter.screen_for(ApplyStep.IDENTIFY).ids.animation
            yield lambda: card.animating
            card.stop()  # a still of the card resting on the reader
            card.seek(2.0)
            yield 2
            card.start()
        elif picture.startswith("choose"):
            tab = picture.removeprefix("choose-") if "-" in picture else "most_used"
            yield from shown(choose_view(language, tab, "HK" if tab == "search" else ""))
        elif picture == "guide-topic":
            yield from shown(guide_view(language, topic=True, printed=True))
        elif picture.startswith("guide"):
            yield from shown(guide_view(language))
            if picture == "guide-end":
                app.presenter.screen_for(ApplyStep.GUIDE).ids.scroller.scroll_y = 0
                yield 3
        elif picture == "alert":
            yield from shown(with_countdown(choose_view(language), 12))
            yield from shown(with_countdown(choose_view(language), 8))

    def run(app: Any) -> Script:
        from kiosk.apply import view_models as vm

        result["window"] = list(Window.size)
        plan = FULL_PLAN if width >= 1000 else SMALL_PLAN
        for large, language, pictures in plan:
            app.large_text = large
            lang = "zh" if language == "zh-CN" else "en"
            suffix = "-large" if large else ""
            for picture in pictures:
                yield from show_picture(app, picture, language)
                shot(f"{picture}-{lang}{suffix}")

        # touches, in large text (the tightest layout) and English
        app.large_text = True
        yield from shown(identify_view("en", serial=7))
        yield from expect("browse", tap("identify/browse_button"), vm.BrowseWithoutCard())
        yield from expect("cancel", tap("identify/header/cancel_button"), vm.Cancel())
        yield from shown(choose_view("en"))
        yield from expect("tab", tap("choose/tabs/#2"), vm.ShowTab("topics"))

        yield from expect("back", tap("choose/header/back_button"), vm.Back())
        yield from expect("use_card", tap("choose/identify_button"), vm.IdentifyToApply())
        if width >= 1000:  # see KNOWN_GAP: the list must not scroll for a synthetic tap
            yield from shown(choose_view("en", "departments"))
            department = vm.ChooseDepartment("dept-0")
            yield from expect("department", tap("choose/rows/#0"), department)
        yield from shown(choose_view("en", "topics"))
        yield from expect("topic", tap("choose/rows/#1"), vm.ChooseTopic("retire"))
        yield from shown(choose_view("en", "search", ""))
        keyboard = widget_at(app, "choose/keyboard")
        key_h = next(k for k in keyboard.walk() if getattr(k, "code", "") == "H")
        before = len(sent)
        x, y = key_h.to_window(*key_h.center)
        finger = FingerTouch(x, y)
        finger.press()
        yield 1
        finger.lift()
        yield lambda: len(sent) > before
        result["checks"]["search_key"] = [repr(i) for i in sent[before:]]
        assert sent[before:] == [vm.Search("H")], sent[before:]
        yield from shown(choose_view("en", "search", "HK"))
        assert keyboard.text == "HK", keyboard.text
        if width >= 1000:  # KNOWN_GAP: on 768x1024 the one result row is half under the keys
            yield from expect("row", tap("choose/rows/#0"), vm.ChooseItem("hukou-move"))
        yield from shown(guide_view("en"))
        yield from expect("print", tap("guide/print_button"), vm.PrintGuide())
        yield from expect("start", tap("guide/start_button"), vm.StartApplication())
        # a touch the view no longer offers is dropped by the presenter (double tap)
        refusing = apply_view(ApplyStep.GUIDE, "en", guide_view("en").header,
                              guide_view("en").body, accepts=frozenset({"Back"}))  # fmt: skip
        yield from shown(refusing)
        yield from expect("stale_start", tap("guide/start_button"), None)
        yield from shown(with_countdown(choose_view("en"), 9))
        yield lambda: app.presenter._alert.parent is not None
        yield 2
        yield from expect("extend", tap("alert/countdown/extend_button"), vm.ExtendTime())
        yield from shown(choose_view("en"))
        yield lambda: app.presenter._alert.parent is None
        result["checks"]["alert_closed"] = True

    HarnessApp().run()
    return result


# ---- the tests ---------------------------------------------------------------------------------


def _run_probe(out: Path, width: int, height: int, shots: str) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    probe = UiProcess(__file__, out, width, height, shots, cwd=out, timeout_s=PROCESS_TIMEOUT_S)
    result = probe.report()
    assert not result["error"], (result["error"], probe.stderr[-3000:])
    return result


@pytest.mark.timeout(PROCESS_TIMEOUT_S + 10)
@pytest.mark.parametrize(("width", "height"), [(1080, 1920), (768, 1024)])
def test_screens_render_and_forward_touches(tmp_path: Path, width: int, height: int) -> None:
    result = _run_probe(tmp_path, width, height, shots="docs" if width >= 1000 else "all")
    assert result["window"] == [width, height]
    checks = result["checks"]
    assert checks["browse"] == ["BrowseWithoutCard()"]
    assert checks["tab"] == ["ShowTab(tab='topics')"]
    if width >= 1000:
        assert checks["row"] == ["ChooseItem(item_id='hukou-move')"]
        assert checks["department"] == ["ChooseDepartment(department_id='dept-0')"]
    assert checks["topic"] == ["ChooseTopic(topic_id='retire')"]
    assert checks["search_key"] == ["Search(query='H')"]
    assert checks["print"] == ["PrintGuide()"]
    assert checks["start"] == ["StartApplication()"]
    assert checks["stale_start"] == []
    assert checks["extend"] == ["ExtendTime()"]
    assert checks["back"] == ["Back()"]
    assert checks["cancel"] == ["Cancel()"]
    assert checks["alert_closed"] is True
    # the prompt is spoken when the serial changes, not on every render of the same step
    assert result["spoken"][0] == "apply.voice.identify"
    assert result["spoken"].count("apply.voice.identify") == 2  # serial 1, then serial 7
    for name in result["shots"]:
        shot = tmp_path / name
        assert shot.stat().st_size > 10_000, name
    if width >= 1000:
        assert sorted(result["shots"]) == sorted(f"{name}.png" for name in DOC_PICTURES)
    else:
        assert len(result["shots"]) == plan_size(SMALL_PLAN)


if __name__ == "__main__":
    out_dir, mode = Path(sys.argv[1]), sys.argv[4]
    outcome = probe(out_dir, int(sys.argv[2]), int(sys.argv[3]), mode.removeprefix("write-"))
    if mode == "write-docs" and not outcome["error"]:
        write_docs(out_dir, ROOT / "docs" / "screens")
    print(json.dumps(outcome, ensure_ascii=False))
