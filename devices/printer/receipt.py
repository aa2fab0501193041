"""From the core's `SubmissionReceipt` to the data a template sees, plus the built-in sample.

The mapping is the only place that knows both the port's fields and the template's placeholder
names, so a template author reads this module to learn what is available.
"""

from __future__ import annotations

from datetime import date, datetime

from kiosk.ports.printer import HandedInMaterial, SubmissionReceipt

from .template import PaperWidth, ReceiptTemplate, load_template, render

SUBMISSION_TEMPLATE = "submission_receipt"


def submission_data(receipt: SubmissionReceipt) -> dict[str, object]:
    """Placeholders: terminal_name, terminal_id, tracking_no, applicant, submitted_at, items[name],
    materials[name, copies], compartment, promised_date, fee, hotline, follow_url, submitted_by
    (empty unless a village agent applied for the citizen)."""
    return {
        "terminal_name": receipt.terminal_name,
        "terminal_id": receipt.terminal_id,
        "tracking_no": receipt.tracking_no,
        "applicant": receipt.applicant,
        "submitted_at": receipt.submitted_at.strftime("%Y-%m-%d %H:%M"),
        "items": [{"name": name} for name in receipt.items],
        "materials": [{"name": m.name, "copies": m.copies} for m in receipt.materials],
        "compartment": receipt.compartment if receipt.compartment is not None else "",
        "promised_date": receipt.promised_date.isoformat(),
        "fee": receipt.fee,
        "hotline": receipt.hotline,
        "follow_url": receipt.follow_url,
        "submitted_by": receipt.submitted_by,
    }


def render_submission_receipt(
    receipt: SubmissionReceipt, paper: PaperWidth, template: ReceiptTemplate | None = None
) -> bytes:
    chosen = template if template is not None else load_template(SUBMISSION_TEMPLATE)
    return render(chosen, submission_data(receipt), paper)


def sample_submission_receipt() -> SubmissionReceipt:
    """A realistic, fixed submission (a small shop's licences) for test prints and the CLI."""
    tracking_no = "CL20250618000042"
    return SubmissionReceipt(
        terminal_name="慈利县零阳街道24小时政务自助服务站",
        terminal_id="demo-0001",
        tracking_no=tracking_no,
        submitted_at=datetime(2025, 6, 18, 21, 37),
        applicant="李*华  430821********2317",
        items=("个体工商户设立登记", "食品经营许可（仅销售预包装食品）"),
        materials=(
            HandedInMaterial("经营场所使用证明（原件）", 1),
            HandedInMaterial("食品安全管理制度文本", 1),
        ),
        compartment="A07",
        promised_date=date(2025, 6, 25),
        fee="免费",
        hotline="12345",
        follow_url=f"https://zwfw.example.gov.cn/track/{tracking_no}",
    )
