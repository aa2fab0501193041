"""What the receipt and the printed guide say, built from the committed submission.

The printer port takes a `SubmissionReceipt` (kiosk/ports/printer.py) and owns the layout; this
module decides the *content*: the masked applicant, which materials went where, the fee status,
and — when the papers did not go into the locker — the sentence telling the citizen to bring them
to the centre. The same content is shown on screen and, when the printer is out of paper, sent as
an SMS, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from kiosk.config import Language
from kiosk.ports.identity import Identity
from kiosk.ports.printer import HandedInMaterial, SubmissionReceipt

from .effects import ApplyingAgent, PrintableGuide
from .ports import ItemSpec, MaterialSpec, Reservation, TopicSpec
from .texts import tr

if TYPE_CHECKING:
    from .flow import TerminalFacts


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    value: str


@dataclass(frozen=True)
class ReceiptContent:
    printable: SubmissionReceipt
    note: str  # e.g. "bring the papers to the centre"; empty when the papers are in the locker
    lines: tuple[ReceiptLine, ...]  # for the on-screen receipt (in the printed language)
    sms_text: str


def agent_sentence(agent: ApplyingAgent, language: Language) -> str:
    """The agent line, e.g. "代办员 李主任 (C-0002) 代为提交": one wording on review and receipt."""
    return tr("apply.agent.submitted_by", language, name=agent.name, card_id=agent.card_id)


def money_text(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def build_receipt(
    *,
    terminal: TerminalFacts,
    tracking_no: str,
    submitted_at: datetime,
    applicant: Identity,
    items: tuple[ItemSpec, ...],
    paper: tuple[MaterialSpec, ...],
    hand_in_result: Literal["none", "deposited", "no_compartment", "taken_back", "unconfirmed"],
    reservation: Reservation | None,
    promised_date: date,
    fee_text: str,
    ecopies: int,
    elicences: int,
    language: Language,
    agent: ApplyingAgent | None = None,
) -> ReceiptContent:
    item_names = tuple(item.name.in_language(language) for item in items)
    deposited = hand_in_result == "deposited" and reservation is not None
    materials = (
        tuple(HandedInMaterial(spec.name.in_language(language)) for spec in paper)
        if deposited
        else ()
    )
    note = ""
    if paper and hand_in_result == "unconfirmed" and reservation is not None:
        # Perhaps in the compartment, perhaps not: neither "handed in" nor "bring them".
        note = tr(
            "apply.receipt.ask_staff", language, label=reservation.label, hotline=terminal.hotline
        )
    elif paper and not deposited:
        note = tr(
            "apply.receipt.bring_papers",
            language,
            materials="、".join(spec.name.in_language(language) for spec in paper)
            if language == "zh-CN"
            else ", ".join(spec.name.in_language(language) for spec in paper),
        )
    follow_url = terminal.follow_url.format(tracking_no=tracking_no)
    printable = SubmissionReceipt(
        terminal_name=terminal.name.in_language(language),
        terminal_id=terminal.terminal_id,
        tracking_no=tracking_no,
        submitted_at=submitted_at,
        applicant=applicant.masked,
        items=item_names,
        materials=materials,
        compartment=reservation.label if deposited and reservation else None,
        promised_date=promised_date,
        fee=fee_text,
        hotline=terminal.hotline,
        follow_url=follow_url,
        submitted_by=agent_sentence(agent, language) if agent is not None else "",
    )

    def line(key: str, value: str) -> ReceiptLine:
        return ReceiptLine(tr(key, language), value)

    lines = [
        line("apply.receipt.tracking", tracking_no),
        line("apply.receipt.applicant", applicant.masked),
        line(
            "apply.receipt.items",
            "；".join(item_names) if language == "zh-CN" else "; ".join(item_names),
        ),
    ]
    if agent is not None:
        lines.insert(2, line("apply.receipt.agent", agent_sentence(agent, language)))
    if deposited and reservation is not None:
        line_value = tr(
            "apply.receipt.in_compartment",
            language,
            materials=len(materials),
            label=reservation.label,
        )
        lines.append(line("apply.receipt.materials", line_value))
    if ecopies or elicences:
        lines.append(
            line(
                "apply.receipt.electronic",
                tr(
                    "apply.receipt.electronic_value", language, ecopies=ecopies, elicences=elicences
                ),
            )
        )
    lines.append(line("apply.receipt.promised", promised_date.isoformat()))
    lines.append(line("apply.receipt.fee", fee_text))
    lines.append(line("apply.receipt.hotline", terminal.hotline))
    if note:
        lines.append(line("apply.receipt.note", note))
    sms_text = tr(
        "apply.receipt.sms",
        language,
        tracking_no=tracking_no,
        items="、".join(item_names),
        promised=promised_date.isoformat(),
        hotline=terminal.hotline,
    )
    if note:
        sms_text += " " + note
    return ReceiptContent(printable, note, tuple(lines), sms_text)


def guide_sheet(
    items: tuple[ItemSpec, ...],
    topic: TopicSpec | None,
    terminal: TerminalFacts,
    language: Language,
) -> PrintableGuide:
    """The guide as plain lines for the receipt printer (the citizen takes it home)."""
    lines: list[str] = []
    for item in items:
        lines.append(f"【{item.name.in_language(language)}】")
        lines.append(tr("apply.guide.materials", language))
        for material in item.materials:
            form = tr(f"apply.material.form.{material.form}", language)
            lines.append(f"· {material.name.in_language(language)}（{form}）")
        lines.append(
            f"{tr('apply.guide.legal_basis', language)}：{item.legal_basis.in_language(language)}"
        )
        fee = money_text(item.fee_fen) if item.fee_fen else tr("apply.fee.free", language)
        lines.append(f"{tr('apply.guide.fee', language)}：{fee}")
        lines.append(
            f"{tr('apply.guide.days', language)}："
            + tr("apply.days", language, days=item.promised_working_days)
        )
        lines.append(tr("apply.guide.steps", language))
        lines.extend(
            f"{number}. {step.in_language(language)}"
            for number, step in enumerate(item.steps, start=1)
        )
    title = (topic.name if topic else items[0].name).in_language(language)
    return PrintableGuide(
        title=title,
        lines=tuple(lines),
        terminal_name=terminal.name.in_language(language),
        hotline=terminal.hotline,
    )
