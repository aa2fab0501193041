"""Receipt templates to ESC/POS: exact bytes (golden), wrapping, placeholders, template errors."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printer.errors import TemplateError
from devices.printer.receipt import render_submission_receipt, sample_submission_receipt
from devices.printer.template import (
    PAPER_58MM,
    PAPER_80MM,
    code128_payload,
    encode_line,
    fill,
    load_template,
    parse_template,
    render,
    text_width,
    wrap,
)
from kiosk.ports.printer import HandedInMaterial, SubmissionReceipt

GOLDEN_TEMPLATE = """
name = "golden"
[[blocks]]
kind = "text"
text = "{title}"
align = "center"
bold = true
size = 2
[[blocks]]
kind = "field"
label = "编号"
value = "{no}"
[[blocks]]
kind = "list"
source = "items"
text = "{n}. {name}"
[[blocks]]
kind = "rule"
char = "="
[[blocks]]
kind = "text"
text = "{note}"
when = "note"
[[blocks]]
kind = "barcode"
data = "{no}"
height = 50
[[blocks]]
kind = "qr"
data = "{url}"
size = 4
ecc = "L"
[[blocks]]
kind = "feed"
lines = 2
[[blocks]]
kind = "cut"
"""

# Written from the ESC/POS reference, not from our output.
GOLDEN_BYTES = bytes.fromhex(
    "1b40"  # ESC @ initialise
    "1b6101"
    "1b4501"
    "1d2111"  # centre, bold, double width+height (GS !)
    "1c26"
    "bbd8d6b4"
    "1c2e"
    "0a"  # FS & 回执 (GB18030) FS . LF
    "1b6100"
    "1b4500"
    "1d2100"  # left, not bold, normal size
    "1c26"
    "b1e0bac5a3ba"
    "414231323334353"
    "6"
    "1c2e"
    "0a"  # 编号：AB123456
    "2020312e20546178"
    "0a" + "3d" * 32 + "0a"  # "  1. Tax"  # a rule of '=' across 32 columns
    "1b6101"  # centre the barcode
    "1d6832"
    "1d7703"
    "1d6600"
    "1d4802"  # height 50, module 3, HRI font A, HRI below
    "1d6b49"
    "09"
    "7b42"
    "4142"
    "7b43"
    "0c2238"  # CODE128 {B AB {C 12 34 56
    "1d286b040031413200"  # QR model 2
    "1d286b0300314304"  # module size 4
    "1d286b0300314530"  # error correction L
    "1d286b0d00315030"
    "687474703a2f2f782f31"  # store "http://x/1"
    "1d286b0300315130"  # print the symbol
    "1b6402"  # feed 2 lines
    "1b6406"
    "1d5600"  # escpos cut(): feed 6, full cut
)

DATA = {
    "title": "回执",
    "no": "AB123456",
    "items": [{"name": "Tax"}],
    "note": "",
    "url": "http://x/1",
}


def test_every_block_kind_renders_to_the_golden_bytes() -> None:
    template = parse_template(GOLDEN_TEMPLATE, "golden.toml")
    assert render(template, DATA, PAPER_58MM) == GOLDEN_BYTES


def test_chinese_goes_in_chinese_mode_as_gb18030_and_ascii_stays_plain() -> None:
    assert encode_line("Tel 12345") == b"Tel 12345\n"
    assert encode_line("咨询 12345") == b"\x1c\x26\xd7\xc9\xd1\xaf 12345\x1c\x2e\n"
    assert encode_line("𠀀") == b"\x1c\x26" + "𠀀".encode("gb18030") + b"\x1c\x2e\n"  # 4-byte


def test_code128_uses_code_set_c_for_digit_runs() -> None:
    assert code128_payload("CL20250618000042") == (
        b"{BCL{C" + bytes([20, 25, 6, 18, 0, 0, 42]),
        11 * (1 + 2 + 1 + 7 + 1) + 13,
    )
    assert code128_payload("123")[0] == b"{B123"
    assert code128_payload("12345")[0] == b"{B1{C" + bytes([23, 45])
    assert code128_payload("a{b")[0] == b"{Ba{{b"
    with pytest.raises(TemplateError):
        code128_payload("中文")


def test_the_standard_receipt_is_small_native_and_deterministic() -> None:
    receipt = sample_submission_receipt()
    job = render_submission_receipt(receipt, PAPER_80MM)
    assert job == render_submission_receipt(receipt, PAPER_80MM)
    assert job.startswith(b"\x1b@")
    assert job.endswith(b"\x1bd\x06\x1dV\x00")
    assert len(job) <= 2048
    url = receipt.follow_url.encode()
    assert b"\x1d(k" + bytes([len(url) + 3, 0]) + b"1P0" + url in job  # native QR, not raster
    assert b"\x1dv0" not in job  # no raster image anywhere
    assert b"\x1dkI\r{BCL{C\x14\x19\x06\x12\x00\x00*" in job
    assert b"\x1c&" + "受理回执".encode("gb18030") + b"\x1c." in job
    assert b"\x1bt" not in job  # escpos' code-page switching never used
    assert "李*华".encode("gb18030") in job


def test_a_58mm_receipt_keeps_every_line_within_32_columns() -> None:
    job = render_submission_receipt(sample_submission_receipt(), PAPER_58MM)
    for segment in job.split(b"\x1c&")[1:]:
        text = segment.split(b"\x1c.")[0].decode("gb18030")
        assert text_width(text) <= 32


def test_control_characters_in_data_cannot_become_commands() -> None:
    receipt = SubmissionReceipt(
        terminal_name="站\x1b@",
        terminal_id="t1",
        tracking_no="T1",
        submitted_at=datetime(2025, 1, 2, 3, 4),
        applicant="王*\x1dV\x00",
        items=("事项",),
        materials=(HandedInMaterial("材料", 2),),
        compartment=None,
        promised_date=date(2025, 1, 9),
        fee="免费",
        hotline="12345",
        follow_url="https://example.org/t/T1",
    )
    job = render_submission_receipt(receipt, PAPER_80MM)
    assert job.count(b"\x1b@") == 1
    assert job.count(b"\x1dV") == 1
    assert "材料存放".encode("gb18030") not in job  # `when = "compartment"` skipped it


def test_fill_rejects_missing_keys_and_attribute_access() -> None:
    assert fill("{a} and {b:>3}", {"a": 1, "b": 2}, "t") == "1 and   2"
    with pytest.raises(TemplateError, match="has no 'missing'"):
        fill("{missing}", {}, "t")
    with pytest.raises(TemplateError, match="plain name"):
        fill("{a.__class__}", {"a": 1}, "t")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 1\n[[blocks]]\nkind = 'poem'\n", "kind 'poem'"),
        ("[[blocks]]\nkind = 'text'\ncolour = 'red'\n", "unknown keys"),
        ("[[blocks]]\nkind = 'qr'\nsize = 40\n", "1 to 16"),
        ("[[blocks]]\nkind = 'list'\n", "needs `source`"),
        ("nothing = true\n", "no \\[\\[blocks\\]\\]"),
        ("[[blocks]\n", "not valid TOML"),
    ],
)
def test_bad_templates_fail_at_load_with_a_sentence(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template(text, "bad.toml")


def test_the_shipped_template_loads_from_the_package() -> None:
    assert load_template("submission_receipt").name == "submission_receipt"
    with pytest.raises(TemplateError, match="no receipt template"):
        load_template("nope")


@given(st.text(max_size=120), st.integers(4, 48), st.integers(0, 10))
def test_wrapped_lines_fit_and_keep_every_visible_character(
    text: str, width: int, indent: int
) -> None:
    lines = wrap(text, width, indent)
    effective = max(width, indent + 2)
    assert all(text_width(line) <= effective for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
