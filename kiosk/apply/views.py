"""From the flow's state to the view-model of its current step, in one language.

Kept apart from flow.py so the transitions read on their own; this module only reads the flow's
state (it is the flow's own view code, hence the private attributes) and never changes it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from kiosk.config import Language
from kiosk.i18n import LocalizedText

from . import view_models as vm
from .ports import ItemSpec, SearchHit, TopicSpec
from .receipt import agent_sentence, money_text
from .texts import tr

if TYPE_CHECKING:
    from .flow import ApplyFlow, _FormField, _Material

_PROGRESS = (
    (vm.ApplyStep.IDENTIFY, "apply.progress.identify"),
    (vm.ApplyStep.CHOOSE, "apply.progress.choose"),
    (vm.ApplyStep.FORM, "apply.progress.form"),
    (vm.ApplyStep.MATERIALS, "apply.progress.materials"),
    (vm.ApplyStep.REVIEW, "apply.progress.review"),
    (vm.ApplyStep.HAND_IN, "apply.progress.hand_in"),
    (vm.ApplyStep.RECEIPT, "apply.progress.receipt"),
)
# Steps without their own progress label light up their neighbour.
_PROGRESS_OF = {
    vm.ApplyStep.GUIDE: vm.ApplyStep.CHOOSE,
    vm.ApplyStep.PAYMENT: vm.ApplyStep.REVIEW,
    vm.ApplyStep.FINISH: vm.ApplyStep.RECEIPT,
}
Animation = Literal["place_card", "reading", "unreadable", "reader_offline"]
CaptureStatus = Literal["to_capture", "captured", "elicence_offered", "elicence_used", "from_card"]
_KEYPADS: dict[str, vm.Keypad] = {
    "choice": "none",
    "date": "date",
    "number": "digits",
    "phone": "phone",
    "id_number": "id_number",
    "text": "pinyin",
}


def render(flow: ApplyFlow, language: Language) -> vm.ApplyView:
    t = _Translator(language)
    body = _body(flow, t)
    countdown = _countdown(flow, t)
    overlay = None
    if flow._card_back_deadline is not None:
        overlay = vm.Notice(t("apply.card_back.overlay"), "warning")
    return vm.ApplyView(
        step=flow.step,
        language=language,
        header=_header(flow, t),
        body=body,
        voice=vm.Voice(flow._voice_key, t(flow._voice_key, **flow._voice_args), language),
        voice_serial=flow._voice_serial,
        countdown=countdown,
        overlay=overlay,
        accepts=flow._accepted(),
    )


class _Translator:
    def __init__(self, language: Language) -> None:
        self.language = language

    def __call__(self, key: str, **args: object) -> str:
        return tr(key, self.language, **args)

    def text(self, value: LocalizedText) -> str:
        return value.in_language(self.language)


def _header(flow: ApplyFlow, t: _Translator) -> vm.Header:
    current = _PROGRESS_OF.get(flow.step, flow.step)
    order = [step for step, _ in _PROGRESS]
    position = order.index(current)
    progress = tuple(
        vm.ProgressStep(
            t(key),
            "done" if index < position else "current" if index == position else "todo",
        )
        for index, (_, key) in enumerate(_PROGRESS)
    )
    accepted = flow._accepted()
    return vm.Header(
        title=t(f"apply.title.{flow.step.value}"),
        progress=progress,
        back_label=t("apply.button.back"),
        cancel_label=t("apply.button.cancel"),
        can_go_back="Back" in accepted,
        can_cancel="Cancel" in accepted,
        applicant=flow._identity.masked if flow._identity is not None else "",
    )


def _countdown(flow: ApplyFlow, t: _Translator) -> vm.Countdown | None:
    countdown = flow._countdown()
    if countdown is None:
        return None
    seconds = max(1, math.ceil(countdown[0]))
    return vm.Countdown(
        seconds_left=seconds,
        text=t(f"apply.countdown.{countdown[1]}", seconds=seconds),
        extend_label=t("apply.button.more_time"),
        can_extend=flow._countdown_extendable(),
    )


# ---- identify -------------------------------------------------------------------------------


def _identify(flow: ApplyFlow, t: _Translator) -> vm.IdentifyView:
    reader_ok = flow._reader_ok()
    notice = None
    animation: Animation = "place_card"
    if not reader_ok:
        animation = "reader_offline"
        notice = vm.Notice(t("apply.identify.reader_offline"), "error")
    elif flow._identify_problem == "apply.identify.unreadable":
        animation = "unreadable"
        notice = vm.Notice(t("apply.identify.unreadable"), "warning")
    elif flow._identify_problem == "apply.identify.removed_early":
        notice = vm.Notice(t("apply.identify.removed_early"), "warning")
    purpose = flow._identify_purpose
    # a village agent is at the screen, not the citizen: ask for the citizen's card
    wording = "agent" if flow._agent is not None else purpose
    return vm.IdentifyView(
        instruction=t(f"apply.identify.instruction.{wording}"),
        animation=animation,
        reader_available=reader_ok,
        browse_label=t("apply.identify.browse"),
        can_browse=True,
        purpose=purpose,
        notice=notice,
    )


# ---- choose ---------------------------------------------------------------------------------


def _fee_text(fee_fen: int, t: _Translator) -> str:
    return money_text(fee_fen) if fee_fen else t("apply.fee.free")


def _item_entry(item: ItemSpec, flow: ApplyFlow, t: _Translator) -> vm.ChoiceEntry:
    department = flow._catalog.department(item.department_id)
    return vm.ChoiceEntry(
        kind="item",
        id=item.id,
        title=t.text(item.name),
        subtitle=t.text(department.name) if department else "",
        fee_text=_fee_text(item.fee_fen, t),
        days_text=t("apply.days", days=item.promised_working_days),
    )


def _topic_entry(topic: TopicSpec, flow: ApplyFlow, t: _Translator) -> vm.ChoiceEntry:
    items = [flow._catalog.item(item_id) for item_id in topic.item_ids]
    known = [item for item in items if item is not None]
    return vm.ChoiceEntry(
        kind="topic",
        id=topic.id,
        title=t.text(topic.name),
        subtitle=t.text(topic.summary),
        fee_text=_fee_text(sum(item.fee_fen for item in known), t),
        days_text=t("apply.days", days=max((i.promised_working_days for i in known), default=0)),
    )


def _hit_entry(hit: SearchHit, flow: ApplyFlow, t: _Translator) -> vm.ChoiceEntry:
    if isinstance(hit, TopicSpec):
        return _topic_entry(hit, flow, t)
    return _item_entry(hit, flow, t)


def _choose(flow: ApplyFlow, t: _Translator) -> vm.ChooseView:
    catalog = flow._catalog
    tab = flow._tab
    entries: tuple[vm.ChoiceEntry, ...]
    if tab == "search":
        query = flow._query
        hits = catalog.search(query, flow.settings.search_limit) if query else ()
        entries = tuple(_hit_entry(hit, flow, t) for hit in hits)
        heading = t("apply.choose.results", query=query) if query else t("apply.choose.search")
        empty = t("apply.choose.no_results") if query else t("apply.choose.search_hint")
    elif tab == "departments" and flow._department_id:
        department = catalog.department(flow._department_id)
        heading = t.text(department.name) if department else ""
        entries = tuple(_item_entry(i, flow, t) for i in catalog.items_of(flow._department_id))
        empty = t("apply.choose.empty")
    elif tab == "departments":
        heading = t("apply.choose.tab.departments")
        entries = tuple(
            vm.ChoiceEntry(
                kind="department",
                id=d.id,
                title=t.text(d.name),
                subtitle=t("apply.choose.item_count", count=len(catalog.items_of(d.id))),
                fee_text="",
                days_text="",
            )
            for d in catalog.departments()
        )
        empty = t("apply.choose.empty")
    elif tab == "topics":
        heading = t("apply.choose.tab.topics")
        entries = tuple(_topic_entry(topic, flow, t) for topic in catalog.topics())
        empty = t("apply.choose.empty")
    else:
        heading = t("apply.choose.tab.most_used")
        entries = tuple(
            _item_entry(i, flow, t) for i in catalog.most_used(flow.settings.most_used_count)
        )
        empty = t("apply.choose.empty")
    notice = None
    if flow._identity is None and flow._identify_problem == "apply.identify.unreadable":
        notice = vm.Notice(t("apply.identify.unreadable"), "warning")
    return vm.ChooseView(
        tabs=tuple(
            vm.TabView(name, t(f"apply.choose.tab.{name}"), name == tab)
            for name in ("most_used", "departments", "topics", "search")
        ),
        heading=heading,
        entries=entries,
        empty_text=empty,
        search_query=flow._query,
        search_hint=t("apply.choose.search_hint"),
        keyboard="pinyin" if tab == "search" else "none",
        department_id=flow._department_id,
        identify_label=t("apply.choose.use_card") if flow._identity is None else "",
        notice=notice,
    )


# ---- guide ----------------------------------------------------------------------------------


def _material_note(flow: ApplyFlow, code: str, form: str, t: _Translator) -> str:
    identity = flow._identity
    if code == "id-card" and identity is not None and identity.source == "id_card":
        return t("apply.material.note.from_card")
    if form == "e_licence" and flow._elicences is not None:
        for material in flow._materials or ():
            if material.spec.code == code and material.elicence is not None:
                return t("apply.material.note.elicence_on_file")
        if any(
            m.elicence_type in flow._elicences
            for item in flow._items
            for m in item.materials
            if m.code == code
        ):
            return t("apply.material.note.elicence_on_file")
    return ""


def _guide(flow: ApplyFlow, t: _Translator) -> vm.GuideView:
    items = flow._items
    topic = flow._topic
    seen: set[str] = set()
    materials: list[vm.MaterialLine] = []
    for item in items:
        for spec in item.materials:
            if spec.code in seen:
                continue
            seen.add(spec.code)
            materials.append(
                vm.MaterialLine(
                    code=spec.code,
                    name=t.text(spec.name),
                    form=spec.form,
                    form_text=t(f"apply.material.form.{spec.form}"),
                    note=_material_note(flow, spec.code, spec.form, t),
                )
            )
    fee = sum(item.fee_fen for item in items)
    fee_text = _fee_text(fee, t)
    bases = [t.text(item.fee_basis) for item in items if item.fee_basis and item.fee_fen]
    if bases:
        fee_text = (
            f"{fee_text}（{'；'.join(bases)}）"
            if t.language == "zh-CN"
            else (f"{fee_text} ({'; '.join(bases)})")
        )
    notice = None
    if flow._guide_notice is not None:
        notice = vm.Notice(t(flow._guide_notice[0]), flow._guide_notice[1])
    elif flow._identity is None and not flow._reader_ok():
        notice = vm.Notice(t("apply.identify.reader_offline"), "error")
    steps = tuple(t.text(step) for item in items for step in item.steps)
    return vm.GuideView(
        kind="topic" if topic else "item",
        id=topic.id if topic else items[0].id,
        title=t.text(topic.name if topic else items[0].name),
        summary=t.text(topic.summary if topic else items[0].summary),
        items=tuple(t.text(item.name) for item in items),
        materials_heading=t("apply.guide.materials"),
        materials=tuple(materials),
        legal_basis_heading=t("apply.guide.legal_basis"),
        legal_basis=tuple(t.text(item.legal_basis) for item in items),
        fee_heading=t("apply.guide.fee"),
        fee_text=fee_text,
        days_heading=t("apply.guide.days"),
        days_text=t("apply.days", days=max(item.promised_working_days for item in items)),
        steps_heading=t("apply.guide.steps"),
        steps=steps,
        print_label=t("apply.guide.print"),
        can_print="PrintGuide" in flow._accepted(),
        start_label=t("apply.guide.start" if flow._identity else "apply.guide.start_with_card"),
        notice=notice,
    )


# ---- form -----------------------------------------------------------------------------------


def _field_view(flow: ApplyFlow, form_field: _FormField, t: _Translator) -> vm.FieldView:
    spec = form_field.spec
    value = flow._values.get(form_field.key, "")
    error = flow._field_error(form_field)
    label = t.text(spec.label)
    if len(form_field.item_ids) == 1 and len(flow._items) > 1 and "." in form_field.key:
        item = next(i for i in flow._items if i.id == form_field.item_ids[0])
        label = (
            f"{label}（{t.text(item.name)}）"
            if t.language == "zh-CN"
            else (f"{label} ({t.text(item.name)})")
        )
    display = ""
    if value:
        display = t.text(flow._forms.display(spec, value))
    note = ""
    from_hall = flow.phone_from_hall if form_field.key == "applicant.phone" else None
    if from_hall is not None:
        display = from_hall.masked  # on a public screen: the citizen recognises it, others don't
        note = t(f"apply.form.phone_on_file.{_phone_source(from_hall.source)}")
    return vm.FieldView(
        key=form_field.key,
        label=label,
        kind=spec.kind,
        keypad=_KEYPADS[spec.kind],
        value=value,
        display_value=display,
        required=spec.required,
        prefilled=form_field.key in flow._prefilled,
        error=t.text(error) if error is not None else "",
        choices=tuple(
            vm.ChoiceOption(choice.value, t.text(choice.label), choice.value == value)
            for choice in spec.choices
        ),
        min_value=spec.min_value,
        max_value=spec.max_value,
        max_length=spec.max_length,
        note=note,
    )


def _phone_source(source: str) -> str:
    return source if source in ("registry", "earlier_submission") else "registry"


def _form(flow: ApplyFlow, t: _Translator) -> vm.FormView:
    problems = flow._form_problems()
    title = t.text(flow._topic.name if flow._topic else flow._items[0].name)
    return vm.FormView(
        title=title,
        intro=t("apply.form.intro"),
        fields=tuple(_field_view(flow, form_field, t) for form_field in flow._fields),
        continue_label=t("apply.button.continue"),
        can_continue=problems == 0,
        errors_left=problems,
    )


# ---- materials ------------------------------------------------------------------------------


def _material_view(flow: ApplyFlow, material: _Material, t: _Translator) -> vm.MaterialCaptureView:
    status: CaptureStatus = "to_capture" if material.status == "paper" else material.status
    # ("paper" here: the camera is down and the page goes in on paper with the originals)
    pages = material.spec.pages
    status_text = {
        "to_capture": t(
            "apply.materials.status.to_capture", taken=len(material.pages), pages=pages
        ),
        "captured": t("apply.materials.status.captured", pages=pages),
        "elicence_offered": t("apply.materials.status.elicence_offered"),
        "elicence_used": t("apply.materials.status.elicence_used"),
        "from_card": t("apply.material.note.from_card"),
    }[status]
    offered = status in ("elicence_offered", "elicence_used")
    return vm.MaterialCaptureView(
        code=material.spec.code,
        name=t.text(material.spec.name),
        status=status,
        status_text=status_text,
        pages_expected=pages,
        pages_captured=len(material.pages),
        thumbnails=tuple(
            vm.Thumbnail(number, material.pages[number].jpeg_path)
            for number in sorted(material.pages)
        ),
        current=flow._capture_code == material.spec.code,
        use_elicence_label=t("apply.materials.use_elicence") if offered else "",
        capture_instead_label=t("apply.materials.capture_instead") if offered else "",
    )


def _materials(flow: ApplyFlow, t: _Translator) -> vm.MaterialsView:
    shown = [m for m in flow._materials if m.status != "paper" or m.spec.form != "paper_original"]
    left = flow._pages_still_expected()
    camera_ok = flow._camera_ok()
    current = next((m for m in flow._materials if m.spec.code == flow._capture_code), None)
    if not camera_ok and left:
        instruction = t("apply.materials.camera_down")
    elif current is not None:
        instruction = t(
            "apply.materials.instruction",
            page=len(current.pages) + 1,
            pages=current.spec.pages,
            name=t.text(current.spec.name),
        )
    elif any(m.status == "elicence_offered" for m in flow._materials):
        instruction = t("apply.materials.confirm_elicences")
    else:
        instruction = t("apply.materials.all_done")
    notice = None
    if not camera_ok and left:
        notice = vm.Notice(t("apply.materials.camera_down"), "warning")
    accepted = flow._accepted()
    return vm.MaterialsView(
        materials=tuple(_material_view(flow, m, t) for m in shown),
        instruction=instruction,
        pages_still_expected=left,
        pages_still_expected_text=t("apply.materials.left", left=left) if left else "",
        camera_available=camera_ok,
        show_preview=current is not None and camera_ok,
        capture_label=t("apply.materials.capture"),
        retake_label=t("apply.materials.retake"),
        continue_label=t("apply.button.continue"),
        can_capture="CapturePage" in accepted,
        can_continue=left == 0 or not camera_ok,
        notice=notice,
    )


# ---- review and payment ---------------------------------------------------------------------


def _review(flow: ApplyFlow, t: _Translator) -> vm.ReviewView:
    lines: list[vm.SummaryLine] = [
        vm.SummaryLine(t("apply.receipt.items"), "；".join(t.text(i.name) for i in flow._items)),
    ]
    if flow._identity is not None:
        lines.append(vm.SummaryLine(t("apply.receipt.applicant"), flow._identity.masked))
    if flow._agent is not None:
        agent = agent_sentence(flow._agent, t.language)
        lines.append(vm.SummaryLine(t("apply.receipt.agent"), agent))
    for form_field in flow._fields:
        value = flow._values.get(form_field.key, "")
        if value:
            lines.append(
                vm.SummaryLine(
                    t.text(form_field.spec.label),
                    t.text(flow._forms.display(form_field.spec, value)),
                )
            )
    paper = [t.text(m.spec.name) for m in flow._materials if m.status == "paper"]
    if paper:
        lines.append(vm.SummaryLine(t("apply.review.paper"), "；".join(paper)))
    copies = sum(len(m.pages) for m in flow._materials)
    licences = sum(1 for m in flow._materials if m.status == "elicence_used")
    if copies or licences:
        lines.append(
            vm.SummaryLine(
                t("apply.receipt.electronic"),
                t("apply.receipt.electronic_value", ecopies=copies, elicences=licences),
            )
        )
    fee = flow._fee()
    bases = [t.text(item.fee_basis) for item in flow._items if item.fee_basis and item.fee_fen]
    notice = None
    if flow._review_notice is not None:
        notice = vm.Notice(t(flow._review_notice[0]), flow._review_notice[1])
    choice = flow._effective_choice()
    accepted = flow._accepted()
    return vm.ReviewView(
        lines=tuple(lines),
        has_fee=fee > 0,
        fee_text=_fee_text(fee, t),
        fee_basis="；".join(bases),
        pay_now_label=t("apply.review.pay_now"),
        pay_at_pickup_label=t("apply.review.pay_at_pickup"),
        can_pay_at_pickup=flow._pay_at_pickup_allowed(),
        payment_choice="none" if choice == "free" else choice,
        submit_label=t("apply.review.submit"),
        can_submit="Submit" in accepted,
        notice=notice,
    )


def _payment(flow: ApplyFlow, t: _Translator) -> vm.PaymentView:
    status = flow._payment_status
    accepted = flow._accepted()
    return vm.PaymentView(
        amount_text=money_text(flow._fee()),
        status=status,
        qr_payload=flow._order.qr_payload if flow._order and status == "showing_qr" else "",
        instruction=t(f"apply.payment.{status}"),
        pay_at_pickup_label=t("apply.review.pay_at_pickup"),
        can_pay_at_pickup="PayAtPickup" in accepted,
        continue_label=t("apply.button.continue"),
        can_continue="Continue" in accepted,
        countdown=_countdown(flow, t),
    )


# ---- hand in --------------------------------------------------------------------------------


def _hand_in(flow: ApplyFlow, t: _Translator) -> vm.HandInView:
    reservation = flow._reservation
    phase = flow._phase
    number = reservation.compartment if reservation else None
    label = reservation.label if reservation else ""  # "A02": what the door and the screen say
    position = ""
    if reservation is not None:
        side = t("apply.hand_in.left" if reservation.col == 1 else "apply.hand_in.right")
        position = t(
            "apply.hand_in.position", column=reservation.column, row=reservation.row, side=side
        )
    reminder = None
    if flow._reminders and phase in ("door_open", "taking_back") and number is not None:
        key = "apply.voice.staff_alerted" if flow._staff_alerted else "apply.voice.close_door"
        reminder = vm.Notice(t(key, number=label), "warning")
    notice = None
    if flow._hand_in_notice is not None:
        key, severity, args = flow._hand_in_notice
        notice = vm.Notice(t(key, **args), severity)
    accepted = flow._accepted()
    return vm.HandInView(
        phase=phase,
        compartment_number=number,
        compartment_label=reservation.label if reservation else "",
        position_text=position,
        column=reservation.column if reservation else "",
        row=reservation.row if reservation else 0,
        col=reservation.col if reservation else 0,
        materials=tuple(t.text(m.spec.name) for m in flow._paper),
        instruction=t(f"apply.hand_in.phase.{phase}", number=label),
        reminder=reminder,
        staff_alerted=flow._staff_alerted,
        confirm_label=t("apply.hand_in.confirm"),
        reopen_label=t("apply.hand_in.reopen"),
        cancel_label=t("apply.hand_in.cancel"),
        can_confirm="ConfirmHandIn" in accepted,
        can_reopen="ReopenDoor" in accepted,
        can_cancel="CancelHandIn" in accepted,
        continue_label=t("apply.button.continue"),
        can_continue="Continue" in accepted,
        notice=notice,
    )


# ---- receipt and finish ---------------------------------------------------------------------


def _receipt(flow: ApplyFlow, t: _Translator) -> vm.ReceiptView:
    content = flow._receipt_in(t.language)
    status = flow._receipt_status
    sms = ""
    if flow._sms_sent and flow._identity is not None:
        phone = flow._values.get("applicant.phone", "")
        sms = t("apply.receipt.sms_sent", phone=phone[:3] + "****" + phone[-4:])
    accepted = flow._accepted()
    notice = None
    if content is not None and content.note:
        notice = vm.Notice(content.note, "warning")
    return vm.ReceiptView(
        tracking_number=content.printable.tracking_no if content else "",
        lines=tuple(vm.SummaryLine(line.label, line.value) for line in content.lines)
        if content
        else (),
        follow_qr_payload=content.printable.follow_url if content else "",
        status=status,
        status_text=t(f"apply.receipt.status.{status}"),
        sms_text=sms,
        print_again_label=t("apply.receipt.print_again"),
        can_print_again="PrintReceipt" in accepted,
        done_label=t("apply.button.done"),
        countdown=_countdown(flow, t),
        notice=notice,
    )


def _finish(flow: ApplyFlow, t: _Translator) -> vm.FinishView:
    return vm.FinishView(
        thank_you=t("apply.finish.thank_you"),
        next_steps=t("apply.finish.next_steps"),
        take_card_reminder=t("apply.finish.take_card") if flow._card_present else "",
        done_label=t("apply.button.done"),
        countdown=_countdown(flow, t),
    )


def _body(flow: ApplyFlow, t: _Translator) -> vm.StepView:
    step = flow.step
    if step is vm.ApplyStep.IDENTIFY:
        return _identify(flow, t)
    if step is vm.ApplyStep.CHOOSE:
        return _choose(flow, t)
    if step is vm.ApplyStep.GUIDE:
        return _guide(flow, t)
    if step is vm.ApplyStep.FORM:
        return _form(flow, t)
    if step is vm.ApplyStep.MATERIALS:
        return _materials(flow, t)
    if step is vm.ApplyStep.REVIEW:
        return _review(flow, t)
    if step is vm.ApplyStep.PAYMENT:
        return _payment(flow, t)
    if step is vm.ApplyStep.HAND_IN:
        return _hand_in(flow, t)
    if step is vm.ApplyStep.RECEIPT:
        return _receipt(flow, t)
    return _finish(flow, t)
