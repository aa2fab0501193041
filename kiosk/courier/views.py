"""From the courier flow's state to its `CourierView`, in one language.

Kept apart from flow.py so the transitions read on their own; this module only reads the flow's
state (it is the flow's own view code, hence the private attributes) and never changes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.compartments import SIZES_SMALL_TO_LARGE
from kiosk.config import Language

from . import view_models as vm
from .texts import tr

if TYPE_CHECKING:
    from .flow import CourierFlow, _Row

_BUTTONS = {
    "SubmitPin": "courier.button.submit_pin",
    "CancelSignIn": "courier.button.cancel",
    "Dismiss": "courier.button.dismiss",
    "StartCollect": "courier.button.collect",
    "StartLoad": "courier.button.load",
    "StartReturns": "courier.button.returns",
    "ApplyForCitizen": "courier.button.apply",
    "SignOut": "courier.button.sign_out",
    "OpenAll": "courier.button.open_all",
    "CheckDoor": "courier.button.check_door",
    "AnswerYes": "courier.button.yes",
    "AnswerNo": "courier.button.no",
    "ReopenDoor": "courier.button.reopen",
    "CancelLoad": "courier.button.cancel_load",
    "BackToMenu": "courier.button.back",
    "StillHere": "courier.button.still_here",
    "KeyBack": "courier.key.back",
    "KeyClear": "courier.key.clear",
}
# What the column drawing shows for the door in focus, by the state of its row (or load phase).
_RUN_PICTURE: dict[str, vm.DoorPicture] = {
    "opening": "closed",
    "open": "open",
    "checking": "closed",
    "asking": "closed",
}
_LOAD_PICTURE: dict[str, vm.DoorPicture] = {
    "opening": "closed",
    "door_open": "open",
    "checking": "closed",
    "asking": "closed",
    "no_item_seen": "closed",
}


def render(flow: CourierFlow, language: Language) -> vm.CourierView:
    step = flow.step
    session = flow._session
    courier = session.courier if session is not None else flow._pending
    name = f"{courier.name} ({courier.card_id})" if courier is not None else ""
    instruction = ""
    menu: tuple[vm.MenuEntry, ...] = ()
    rows: tuple[vm.RowView, ...] = ()
    sizes: tuple[vm.SizeChoice, ...] = ()
    question: vm.Question | None = None
    door: vm.DoorFocus | None = None
    progress = ""
    heading = ""
    notice, severity = _notice(flow, language)
    title_key = f"courier.title.{step.value}"
    if step is vm.CourierStep.SIGNED_OUT:
        title_key = "courier.title.pin"
    elif step is vm.CourierStep.PIN:
        if flow._pin_phase == "enter" and courier is not None:
            instruction = tr("courier.pin.enter", language, name=courier.name)
        elif flow._pin_phase == "checking":
            instruction = tr("courier.pin.checking", language)
        else:
            instruction = tr("courier.pin.looking_up", language)
        heading = tr("courier.pin.hint", language)
    elif step is vm.CourierStep.REFUSED:
        refusal = flow._refusal
        assert refusal is not None
        until = ""
        if refusal.locked_until is not None:
            until = refusal.locked_until.astimezone().strftime("%H:%M")
        instruction = tr(f"courier.refused.{refusal.reason}", language, until=until)
        severity = "error"
    elif step is vm.CourierStep.MENU:
        if session is not None and session.courier.is_village_agent:
            title_key = "courier.title.menu_agent"
        menu = _menu(flow, language)
        if flow._work_error:
            instruction = tr("courier.menu.load_failed", language, reason=flow._work_error)
        elif flow._work is None:
            instruction = tr("courier.menu.loading", language)
        else:
            instruction = tr("courier.menu.hello", language, name=name)
    elif step in (vm.CourierStep.COLLECT, vm.CourierStep.RETURNS):
        run = flow._run
        assert run is not None
        rows = tuple(_row(row, language) for row in run.rows)
        instruction = _run_instruction(flow, language)
        door = _run_door(flow, language)
        if run.rows:
            finished = sum(1 for r in run.rows if r.state in ("done", "problem"))
            progress = tr(
                "courier.run.progress", language, done=finished, left=len(run.rows) - finished
            )
            heading = tr("courier.run.list_heading", language)
        asking = next((r for r in run.rows if r.state == "asking"), None)
        if asking is not None:
            question = vm.Question(
                tr("courier.run.ask_empty", language, label=asking.parcel.label),
                tr("courier.button.yes", language),
                tr("courier.button.no", language),
                asking.parcel.parcel_id,
            )
            instruction = instruction or question.text
    elif step is vm.CourierStep.LOAD:
        instruction, question = _load_instruction(flow, language)
        slot = flow._slot
        if slot is not None and flow._load_phase in _LOAD_PICTURE:
            door = vm.DoorFocus(
                slot.compartment,
                slot.label,
                _position(slot.column, slot.row, language),
                _LOAD_PICTURE[flow._load_phase],
            )
        if flow._loaded_count:
            progress = tr("courier.load.progress", language, count=flow._loaded_count)
        if flow._load_phase == "size":
            heading = tr("courier.load.size_heading", language)
            sizes = tuple(
                vm.SizeChoice(size, tr(f"courier.size.{size}", language), size == flow._size)
                for size in SIZES_SMALL_TO_LARGE
            )
    accepts = flow._accepted()
    countdown = flow._countdown()
    if countdown is not None:  # the coming sign-out outranks any other news
        notice, severity = tr("courier.idle.warning", language, seconds=countdown), "warning"
    return vm.CourierView(
        step=step,
        title=tr(title_key, language),
        courier_name=name if session is not None or flow._pin_phase == "enter" else "",
        instruction=instruction,
        notice=notice,
        severity=severity,
        pin_mask="●" * len(flow._pin),
        pin_ready="SubmitPin" in accepts,
        menu=menu,
        rows=rows,
        sizes=sizes,
        question=question,
        loaded_count=flow._loaded_count,
        countdown=countdown,
        accepts=accepts,
        labels=tuple((intent, tr(key, language)) for intent, key in _BUTTONS.items()),
        door=door,
        progress=progress,
        heading=heading,
    )


def _position(column: str, row: int, language: Language) -> str:
    if row <= 0:
        return ""
    return tr("courier.door.position", language, column=column, row=row)


def _run_door(flow: CourierFlow, language: Language) -> vm.DoorFocus | None:
    """The door the courier acts on now: the earliest opened that is still open, else the one
    being opened or checked, so the drawing follows the instruction sentence."""
    run = flow._run
    assert run is not None
    busy = [r for r in run.rows if r.state in _RUN_PICTURE]
    if not busy:
        return None
    order = {"open": 0, "asking": 1, "checking": 2, "opening": 3}
    row = min(busy, key=lambda r: (order[r.state], r.opened_seq))
    parcel = row.parcel
    return vm.DoorFocus(
        parcel.compartment,
        parcel.label,
        _position(parcel.column, parcel.row, language),
        _RUN_PICTURE[row.state],
    )


def _notice(flow: CourierFlow, language: Language) -> tuple[str, vm.Severity]:
    notice = flow._notice
    if notice is None:
        return "", "info"
    args = dict(notice.args)
    if "size" in args:
        args["size"] = tr(f"courier.size.{args['size']}", language)
    return tr(notice.key, language, **args), notice.severity


def _menu(flow: CourierFlow, language: Language) -> tuple[vm.MenuEntry, ...]:
    work = flow._work
    accepts = flow._accepted()
    entries = [
        vm.MenuEntry(
            "StartCollect",
            tr("courier.button.collect", language),
            None if work is None else len(work.materials),
            work is not None and bool(work.materials),
        ),
        vm.MenuEntry(
            "StartLoad",
            tr("courier.button.load", language),
            None if work is None else work.deliveries_expected,
            True,
        ),
        vm.MenuEntry(
            "StartReturns",
            tr("courier.button.returns", language),
            None if work is None else len(work.returns),
            work is not None and bool(work.returns),
        ),
    ]
    if "ApplyForCitizen" in accepts:
        entries.append(
            vm.MenuEntry("ApplyForCitizen", tr("courier.button.apply", language), None, True)
        )
    entries.append(vm.MenuEntry("SignOut", tr("courier.button.sign_out", language), None, True))
    return tuple(entries)


def _row(row: _Row, language: Language) -> vm.RowView:
    seal = row.seal or ""
    if row.state == "done":
        if row.result == "returned":
            detail = tr("courier.row.returned", language)
        elif seal:
            detail = tr("courier.row.collected", language, seal=seal)
        else:
            detail = tr("courier.row.collected_no_seal", language)
    elif row.state == "problem":
        key = {
            "jammed": "courier.row.jammed",
            "no_answer": "courier.row.no_answer",
        }.get(row.result, "courier.row.left_inside")
        detail = tr(key, language)
    elif row.state == "open" and seal:
        detail = tr("courier.row.open_sealed", language, seal=seal)
    else:
        detail = tr(f"courier.row.{row.state}", language)
    return vm.RowView(
        row.parcel.parcel_id, row.parcel.label, detail, row.state, row.parcel.compartment
    )


def _run_instruction(flow: CourierFlow, language: Language) -> str:
    run = flow._run
    assert run is not None
    if not run.rows:
        return tr("courier.run.nothing", language)
    if not run.started:
        key = "courier.collect.overview" if run.purpose == "collect" else "courier.returns.overview"
        return tr(key, language, count=len(run.rows))
    open_rows = sorted((r for r in run.rows if r.state == "open"), key=lambda r: r.opened_seq)
    if open_rows:
        if run.purpose == "collect":
            unsealed = next((r for r in open_rows if r.seal is None), None)
            if unsealed is not None:
                return tr("courier.run.open_seal", language, label=unsealed.parcel.label)
            return tr("courier.run.open_sealed", language, label=open_rows[0].parcel.label)
        return tr("courier.run.open_return", language, label=open_rows[0].parcel.label)
    return ""


def _load_instruction(flow: CourierFlow, language: Language) -> tuple[str, vm.Question | None]:
    phase = flow._load_phase
    slot = flow._slot
    label = slot.label if slot is not None else ""
    task = flow._task
    if phase == "scan":
        return tr("courier.load.scan", language), None
    if phase == "matching":
        return tr("courier.load.matching", language), None
    if phase == "size":
        assert task is not None
        description = task.description_zh if language == "zh-CN" else task.description_en
        return (
            tr(
                "courier.load.choose_size",
                language,
                description=description or task.tracking_number,
                tracking=task.tracking_number,
            ),
            None,
        )
    if phase == "reserving":
        return tr("courier.load.reserving", language), None
    if phase == "opening":
        return tr("courier.load.opening", language, label=label), None
    if phase == "door_open":
        return tr("courier.load.put_in", language, label=label), None
    if phase == "checking":
        return tr("courier.load.checking", language), None
    if phase == "asking":
        assert slot is not None
        question = vm.Question(
            tr("courier.load.ask_inside", language, label=label),
            tr("courier.button.yes", language),
            tr("courier.button.no", language),
            slot.reservation_id,
        )
        return tr("courier.load.ask_inside", language, label=label), question
    return tr("courier.load.no_item_seen", language, label=label), None
