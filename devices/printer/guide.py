"""From a `PrintableSheet` (a service guide) to the data its template sees, plus a sample.

Like receipt.py, this is the one place that knows both the port's attributes and the template's
placeholder names: a template author reads it to learn what a guide sheet can show.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.ports.printer import PrintableSheet

from .template import PaperWidth, ReceiptTemplate, load_template, render

GUIDE_TEMPLATE = "service_guide"


@dataclass(frozen=True)
class GuideSheet:
    """A concrete `PrintableSheet` for test prints and the CLI (the journey brings its own)."""

    title: str
    lines: tuple[str, ...]
    terminal_name: str
    hotline: str


def guide_data(guide: PrintableSheet) -> dict[str, object]:
    """Placeholders: title, terminal_name, hotline; `lines` (a list of strings) for `lines`."""
    return {
        "title": guide.title,
        "lines": list(guide.lines),
        "terminal_name": guide.terminal_name,
        "hotline": guide.hotline,
    }


def render_guide(
    guide: PrintableSheet, paper: PaperWidth, template: ReceiptTemplate | None = None
) -> bytes:
    chosen = template if template is not None else load_template(GUIDE_TEMPLATE)
    return render(chosen, guide_data(guide), paper)


def sample_guide() -> GuideSheet:
    """A realistic guide (a small shop's registration) shaped like the apply journey's sheets."""
    return GuideSheet(
        title="个体工商户设立登记",
        lines=(
            "【个体工商户设立登记】",
            "所需材料：",
            "· 经营者身份证（原件，刷卡读取）",
            "· 经营场所使用证明（纸质原件，投入格口）",
            "· 个体工商户设立登记申请书（拍照上传电子件）",
            "法定依据：《促进个体工商户发展条例》《市场主体登记管理条例》及其实施细则",
            "收费标准：免费",
            "承诺时限：3 个工作日",
            "办理流程：",
            "1. 刷身份证识别身份，选择事项并填写表单",
            "2. 拍照上传可用电子件的材料，纸质原件投入自助格口",
            "3. 领取受理回执，办结后凭短信取件码在本站自助取件",
        ),
        terminal_name="慈利县零阳街道24小时政务自助服务站",
        hotline="12345",
    )
