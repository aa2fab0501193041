"""An emulated ESC/POS receipt printer: answers DLE EOT status, records jobs, renders each to a PNG.

It speaks raw TCP like a network printer on port 9100, so the driver reaches it as `tcp://…`
(escpos Network) or `socket://…` (pyserial), and it can sit behind a pty like a serial printer. The
line faults (silence, unplug, …) come from `SerialStubServer`; this module is the printer itself.

Interpreting the bytes — rather than recording them — is what makes the stub worth having: the PNG
of each job shows what a citizen would hold (Chinese in FS & mode through a CJK font, bold, sizes,
alignment, the CODE128 drawn with python-barcode, the QR from the GS ( k data drawn with qrcode),
so a layout change is reviewed by looking at a picture, and a wrong byte shows as a wrong picture.

Controls: paper_near_end, paper_out, cover_open (each with {"on": bool}, default true), paper_ok,
status, jobs, clear_jobs; plus the line faults (silence, unplug, replug, corrupt_next, noise,
split).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import barcode
import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.exceptions import DataOverflowError

from devices.printer.status import (
    encode_offline_cause,
    encode_paper_sensor,
    encode_printer_status,
)

from .serial_stub import SerialStubServer

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
MONO_FACE_INDEX = 1  # "WenQuanYi Micro Hei Mono" inside the collection
DOTS_PER_MM = 8  # 203 dpi, as nearly every receipt printer

ESC, FS, GS, DLE = 0x1B, 0x1C, 0x1D, 0x10
_QR_ECC = {
    48: qrcode.constants.ERROR_CORRECT_L,
    49: qrcode.constants.ERROR_CORRECT_M,
    50: qrcode.constants.ERROR_CORRECT_Q,
    51: qrcode.constants.ERROR_CORRECT_H,
}
# Commands that are a fixed number of bytes long and need no action here.
_ESC_FIXED = {
    b"G": 3,
    b"V": 3,
    b"{": 3,
    b"R": 3,
    b" ": 3,
    b"M": 3,
    b"t": 3,
    b"c": 4,
    b"$": 4,
    b"\\": 4,
    b"p": 5,
    b"=": 3,
    b"r": 3,
    b"U": 3,
    b"%": 3,
    b"i": 2,
    b"m": 2,
    b"L": 2,
    b"S": 2,
    b"T": 3,
}
_GS_FIXED = {
    b"B": 3,
    b"b": 3,
    b"a": 3,
    b"r": 3,
    b"I": 3,
    b"L": 4,
    b"W": 4,
    b"P": 4,
    b"$": 4,
    b"\\": 4,
    b"^": 5,
    b"T": 3,
    b":": 2,
}
_FS_FIXED = {b"-": 3, b"C": 3, b"S": 4, b"W": 3, b"p": 4}


# -- what a job is made of ----------------------------------------------------------------------
@dataclass(frozen=True)
class TextStyle:
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1
    font_b: bool = False


@dataclass(frozen=True)
class TextRun:
    text: str
    style: TextStyle


@dataclass(frozen=True)
class PrintedLine:
    runs: tuple[TextRun, ...]
    align: int
    spacing: int  # dots from this line's top to the next line's top at size 1

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True)
class Feed:
    dots: int


@dataclass(frozen=True)
class PrintedBarcode:
    text: str  # the decoded content (code-set switches resolved)
    module_dots: int
    height: int
    hri_below: bool
    align: int


@dataclass(frozen=True)
class PrintedQr:
    data: bytes
    module_dots: int
    ecc: int
    align: int


@dataclass(frozen=True)
class Cut:
    partial: bool


Element = PrintedLine | Feed | PrintedBarcode | PrintedQr | Cut


@dataclass
class PrintJob:
    """One cut-off receipt: its bytes, what was printed, and the PNG it was rendered to."""

    number: int
    data: bytes
    elements: list[Element]
    png_path: str | None = None

    def text_lines(self) -> list[str]:
        return [e.text for e in self.elements if isinstance(e, PrintedLine)]

    def barcodes(self) -> list[str]:
        return [e.text for e in self.elements if isinstance(e, PrintedBarcode)]

    def qr_codes(self) -> list[bytes]:
        return [e.data for e in self.elements if isinstance(e, PrintedQr)]

    def summary(self) -> dict[str, object]:
        return {
            "number": self.number,
            "bytes": len(self.data),
            "png": self.png_path,
            "lines": self.text_lines(),
            "barcodes": self.barcodes(),
            "qr": [qr.decode("utf-8", "replace") for qr in self.qr_codes()],
        }


# -- the interpreter ----------------------------------------------------------------------------
@dataclass
class _Modes:
    align: int = 0
    bold: bool = False
    underline: bool = False
    font_b: bool = False
    esc_double_w: bool = False
    esc_double_h: bool = False
    kanji_double_w: bool = False
    kanji_double_h: bool = False
    gs_width: int = 1
    gs_height: int = 1
    chinese: bool = False
    line_spacing: int = 30
    barcode_height: int = 162
    barcode_width: int = 3
    hri_position: int = 0
    qr_module: int = 3
    qr_ecc: int = 48
    qr_data: bytes = b""

    def style(self, kanji: bool) -> TextStyle:
        double_w = self.kanji_double_w if kanji else self.esc_double_w
        double_h = self.kanji_double_h if kanji else self.esc_double_h
        return TextStyle(
            bold=self.bold,
            underline=self.underline,
            width=self.gs_width * (2 if double_w else 1),
            height=self.gs_height * (2 if double_h else 1),
            font_b=self.font_b,
        )


class EscposInterpreter:
    """Incremental: feed bytes as they arrive; real-time status requests are answered at once.

    A command cut across two reads waits for the rest. Unknown commands are skipped by their
    usual length so one odd byte does not derail the rest of the job.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._modes = _Modes()
        self._elements: list[Element] = []
        self._runs: list[TextRun] = []
        self._pending = bytearray()
        self._pending_key: tuple[TextStyle, bool] | None = None
        self._job_bytes = bytearray()
        self.status_requests: list[int] = []

    def feed(self, data: bytes) -> tuple[list[int], list[tuple[bytes, list[Element]]]]:
        """Returns the DLE EOT numbers asked for, and the jobs completed by a cut."""
        self._buffer += data
        asked: list[int] = []
        jobs: list[tuple[bytes, list[Element]]] = []
        while self._buffer:
            used = self._step(asked)
            if used == 0:
                break  # an incomplete command: wait for more bytes
            chunk = bytes(self._buffer[:used])
            del self._buffer[:used]
            if not (chunk[:2] == b"\x10\x04" and len(chunk) == 3):
                self._job_bytes += chunk
            if self._elements and isinstance(self._elements[-1], Cut):
                jobs.append((bytes(self._job_bytes), self._elements))
                self._elements = []
                self._job_bytes = bytearray()
        return asked, jobs

    def pending_job(self) -> tuple[bytes, list[Element]] | None:
        """What has been printed since the last cut (a job that ended without one)."""
        self._flush_line(force=False)
        if not self._elements and not self._job_bytes:
            return None
        job = (bytes(self._job_bytes), self._elements)
        self._elements, self._job_bytes = [], bytearray()
        return job

    # One command (or one text byte); returns how many bytes it used, 0 when incomplete.
    def _step(self, asked: list[int]) -> int:
        buf = self._buffer
        first = buf[0]
        if first == 0x0A:
            self._flush_line(force=True)
            return 1
        if first == DLE:
            if len(buf) < 3:
                return 0
            if buf[1] == 0x04:
                asked.append(buf[2])
            return 3 if buf[1] in (0x04, 0x05) else 1
        if first == ESC:
            return self._esc()
        if first == FS:
            return self._fs()
        if first == GS:
            return self._gs()
        if first == 0x09:
            self._text(b"    ")
            return 1
        if first < 0x20:
            return 1
        if self._modes.chinese and first >= 0x81:
            # A GB18030 character: two bytes, or four when the second is a digit 0x30-0x39.
            if len(buf) < 2:
                return 0
            size = 4 if 0x30 <= buf[1] <= 0x39 else 2
            if len(buf) < size:
                return 0
            self._text(bytes(buf[:size]))
            return size
        self._text(bytes(buf[:1]))
        return 1

    def _esc(self) -> int:
        buf, modes = self._buffer, self._modes
        if len(buf) < 2:
            return 0
        cmd = bytes(buf[1:2])
        if cmd == b"@":
            self._flush_line(force=False)
            self._modes = _Modes()
            return 2
        if cmd == b"2":
            modes.line_spacing = 30
            return 2
        size = {b"a": 3, b"E": 3, b"!": 3, b"-": 3, b"d": 3, b"J": 3, b"3": 3}.get(cmd)
        if size is None:
            size = _ESC_FIXED.get(cmd, 2)
            return size if len(buf) >= size else 0
        if len(buf) < 3:
            return 0
        n = buf[2]
        if cmd == b"a":
            modes.align = n % 48 if n >= 48 else n
        elif cmd == b"E":
            self._mode_change()
            modes.bold = bool(n & 1)
        elif cmd == b"!":
            self._mode_change()
            modes.font_b = bool(n & 0x01)
            modes.bold = bool(n & 0x08)
            modes.esc_double_h = bool(n & 0x10)
            modes.esc_double_w = bool(n & 0x20)
            modes.underline = bool(n & 0x80)
        elif cmd == b"-":
            self._mode_change()
            modes.underline = (n % 48 if n >= 48 else n) > 0
        elif cmd == b"d":
            self._flush_line(force=True)
            self._elements.append(Feed(modes.line_spacing * max(0, n - 1)))
        elif cmd == b"J":
            self._flush_line(force=False)
            self._elements.append(Feed(n))
        elif cmd == b"3":
            modes.line_spacing = n
        return 3

    def _fs(self) -> int:
        buf, modes = self._buffer, self._modes
        if len(buf) < 2:
            return 0
        cmd = bytes(buf[1:2])
        if cmd in (b"&", b"."):
            self._mode_change()
            modes.chinese = cmd == b"&"
            return 2
        if cmd == b"!":
            if len(buf) < 3:
                return 0
            self._mode_change()
            modes.kanji_double_w = bool(buf[2] & 0x04)
            modes.kanji_double_h = bool(buf[2] & 0x08)
            return 3
        size = _FS_FIXED.get(cmd, 2)
        return size if len(buf) >= size else 0

    def _gs(self) -> int:
        buf, modes = self._buffer, self._modes
        if len(buf) < 2:
            return 0
        cmd = bytes(buf[1:2])
        if cmd in (b"!", b"h", b"w", b"H", b"f"):
            if len(buf) < 3:
                return 0
            n = buf[2]
            if cmd == b"!":
                self._mode_change()
                modes.gs_width = (n >> 4 & 0x07) + 1
                modes.gs_height = (n & 0x07) + 1
            elif cmd == b"h":
                modes.barcode_height = max(1, n)
            elif cmd == b"w":
                modes.barcode_width = n
            elif cmd == b"H":
                modes.hri_position = n % 48 if n >= 48 else n
            return 3
        if cmd == b"V":
            if len(buf) < 3:
                return 0
            size = 4 if buf[2] in (65, 66, 97, 98, 103, 104) else 3
            if len(buf) < size:
                return 0
            self._flush_line(force=False)
            self._elements.append(Cut(partial=bool(buf[2] & 1)))
            return size
        if cmd == b"k":
            return self._barcode()
        if cmd == b"(":
            if len(buf) < 5:
                return 0
            length = buf[3] | buf[4] << 8
            if len(buf) < 5 + length:
                return 0
            if buf[2:3] == b"k":
                self._qr_function(bytes(buf[5 : 5 + length]))
            return 5 + length
        if cmd == b"v":
            if len(buf) < 8:
                return 0
            width_bytes = buf[4] | buf[5] << 8
            height = buf[6] | buf[7] << 8
            size = 8 + width_bytes * height
            if len(buf) < size:
                return 0
            return size  # raster images are accepted but not drawn
        size = _GS_FIXED.get(cmd, 2)
        return size if len(buf) >= size else 0

    def _barcode(self) -> int:
        buf, modes = self._buffer, self._modes
        if len(buf) < 4:
            return 0
        kind = buf[2]
        if kind <= 6:  # function A: data ends with NUL
            end = buf.find(b"\x00", 3)
            if end < 0:
                return 0
            data, used = bytes(buf[3:end]), end + 1
            text = data.decode("latin-1")
        else:
            length = buf[3]
            if len(buf) < 4 + length:
                return 0
            data, used = bytes(buf[4 : 4 + length]), 4 + length
            text = code128_text(data) if kind == 73 else data.decode("latin-1")
        self._flush_line(force=False)
        self._elements.append(
            PrintedBarcode(
                text=text,
                module_dots=max(1, min(6, modes.barcode_width)),
                height=modes.barcode_height,
                hri_below=modes.hri_position in (2, 3),
                align=modes.align,
            )
        )
        return used

    def _qr_function(self, body: bytes) -> None:
        if len(body) < 2 or body[0] != 0x31:  # cn 49 = QR code
            return
        function, args, modes = body[1], body[2:], self._modes
        if function == 67 and args:
            modes.qr_module = max(1, min(16, args[0]))
        elif function == 69 and args:
            modes.qr_ecc = args[0]
        elif function == 80:
            modes.qr_data = args[1:]  # skip m = '0'
        elif function == 81:
            self._flush_line(force=False)
            self._elements.append(
                PrintedQr(modes.qr_data, modes.qr_module, modes.qr_ecc, modes.align)
            )

    # -- text accumulation -----------------------------------------------------------------------
    def _text(self, data: bytes) -> None:
        kanji = self._modes.chinese and data[0] >= 0x81
        key = (self._modes.style(kanji), kanji)
        if self._pending_key is not None and key != self._pending_key:
            self._decode_pending()
        self._pending_key = key
        self._pending += data

    def _mode_change(self) -> None:
        self._decode_pending()

    def _decode_pending(self) -> None:
        if self._pending_key is None:
            return
        style, kanji = self._pending_key
        encoding = "gb18030" if kanji else "cp437"
        self._runs.append(TextRun(bytes(self._pending).decode(encoding, "replace"), style))
        self._pending.clear()
        self._pending_key = None

    def _flush_line(self, *, force: bool) -> None:
        self._decode_pending()
        if not self._runs and not force:
            return
        runs = tuple(self._runs) or (TextRun("", self._modes.style(False)),)
        self._elements.append(PrintedLine(runs, self._modes.align, self._modes.line_spacing))
        self._runs = []


def code128_text(data: bytes) -> str:
    """Resolve ESC/POS CODE128 data ({A/{B/{C switches, {{ for a brace) into the encoded text."""
    text: list[str] = []
    code_set = "B"
    index = 0
    while index < len(data):
        byte = data[index]
        if byte == 0x7B and index + 1 < len(data):
            selector = chr(data[index + 1])
            if selector in "ABC":
                code_set = selector
                index += 2
                continue
            if selector == "{":
                text.append("{")
                index += 2
                continue
            index += 2  # FNC1-4 and shifts carry no text
            continue
        text.append(f"{byte:02d}" if code_set == "C" else chr(byte))
        index += 1
    return "".join(text)


# -- drawing ------------------------------------------------------------------------------------
class ReceiptPainter:
    """Draws a job as thermal paper: printable width in dots, white roll, torn edge at the cut."""

    def __init__(self, paper_mm: int = 80) -> None:
        self.printable_dots = 576 if paper_mm >= 80 else 384
        self.paper_px = paper_mm * DOTS_PER_MM
        self._cjk = ImageFont.truetype(CJK_FONT, 24)
        self._mono = ImageFont.truetype(CJK_FONT, 20, index=MONO_FACE_INDEX)
        self._mono_small = ImageFont.truetype(CJK_FONT, 15, index=MONO_FACE_INDEX)

    def paint(self, elements: list[Element]) -> Image.Image:
        pieces = list(self._pieces(elements))
        body_height = sum(gap + (img.height if img else 0) for img, _, gap in pieces) + 24
        margin = (self.paper_px - self.printable_dots) // 2
        paper = Image.new("L", (self.paper_px, body_height + 24), 255)
        y = 24
        for img, align, gap in pieces:
            y += gap
            if img is None:
                continue
            free = self.printable_dots - img.width
            x = margin + (0 if align == 0 else free // 2 if align == 1 else free)
            paper.paste(img, (max(margin, x), y))
            y += img.height
        return self._on_table(paper)

    def _pieces(self, elements: list[Element]) -> Iterator[tuple[Image.Image | None, int, int]]:
        for element in elements:
            if isinstance(element, PrintedLine):
                image = self._line(element)
                yield image, element.align, 0
                rest = element.spacing - 30
                if rest > 0 or image.height < element.spacing:
                    yield None, 0, max(0, element.spacing - image.height, rest)
            elif isinstance(element, Feed):
                yield None, 0, element.dots
            elif isinstance(element, PrintedBarcode):
                yield self._barcode(element), element.align, 6
            elif isinstance(element, PrintedQr):
                yield self._qr(element), element.align, 6

    def _line(self, line: PrintedLine) -> Image.Image:
        images = [self._run(run) for run in line.runs if run.text]
        height = max((img.height for img in images), default=24)
        width = sum(img.width for img in images)
        out = Image.new("L", (max(1, min(width, self.printable_dots)), height), 255)
        x = 0
        for img in images:
            out.paste(img, (x, height - img.height))
            x += img.width
        return out

    def _run(self, run: TextRun) -> Image.Image:
        cells = [(char, 24 if ord(char) >= 0x80 else 12) for char in run.text]
        base = Image.new("L", (max(1, sum(w for _, w in cells)), 24), 255)
        draw = ImageDraw.Draw(base)
        x = 0
        stroke = 1 if run.style.bold else 0
        for char, width in cells:
            font = self._cjk if width == 24 else self._mono
            draw.text(
                (x + width / 2, 21),
                char,
                font=font,
                fill=0,
                anchor="ms",
                stroke_width=stroke,
                stroke_fill=0,
            )
            x += width
        if run.style.underline:
            draw.line([(0, 23), (base.width, 23)], fill=0, width=1)
        if run.style.width == 1 and run.style.height == 1:
            return base
        size = (base.width * run.style.width, base.height * run.style.height)
        return base.resize(size, Image.Resampling.NEAREST)

    def _barcode(self, code: PrintedBarcode) -> Image.Image:
        try:
            modules = "".join(barcode.get_barcode_class("code128")(code.text).build())
        except (ValueError, TypeError, KeyError):
            modules = ""
        bars_width = len(modules) * code.module_dots
        text_height = 20 if code.hri_below else 0
        image = Image.new("L", (max(1, bars_width), code.height + text_height + 4), 255)
        draw = ImageDraw.Draw(image)
        for index, module in enumerate(modules):
            if module == "1":
                left = index * code.module_dots
                draw.rectangle([left, 0, left + code.module_dots - 1, code.height - 1], fill=0)
        if code.hri_below:
            draw.text(
                (image.width / 2, code.height + 18),
                code.text,
                font=self._mono_small,
                fill=0,
                anchor="ms",
            )
        return image

    def _qr(self, code: PrintedQr) -> Image.Image:
        maker = qrcode.QRCode(
            error_correction=_QR_ECC.get(code.ecc, qrcode.constants.ERROR_CORRECT_M),
            box_size=code.module_dots,
            border=2,
        )
        maker.add_data(code.data)
        maker.make(fit=True)
        image: Image.Image = maker.make_image(fill_color="black", back_color="white").get_image()
        return image.convert("L")

    def _on_table(self, paper: Image.Image) -> Image.Image:
        """A grey surround and a torn bottom edge make it read as a slip of paper at a glance."""
        border = 28
        canvas = Image.new("RGB", (paper.width + 2 * border, paper.height + 2 * border), "#8a8f98")
        shadow = Image.new("RGB", paper.size, "#6c7078")
        canvas.paste(shadow, (border + 4, border + 4))
        canvas.paste(paper.convert("RGB"), (border, border))
        draw = ImageDraw.Draw(canvas)
        bottom = border + paper.height
        tooth = 8
        for x in range(border, border + paper.width, tooth * 2):
            draw.polygon(
                [(x, bottom), (x + tooth, bottom - tooth), (x + 2 * tooth, bottom)], fill="#8a8f98"
            )
        return canvas


def render_job_png(elements: list[Element], path: Path, paper_mm: int = 80) -> Path:
    """Written beside the target, then renamed: whoever watches the folder (a demo journey, a
    person) never sees a half-written picture."""
    partial = path.with_name(f".{path.name}.partial")
    ReceiptPainter(paper_mm).paint(elements).save(partial, format="PNG")
    partial.replace(path)
    return path


def render_bytes_png(data: bytes, path: Path, paper_mm: int = 80) -> Path:
    """Render raw ESC/POS bytes (e.g. a `file://` job) to a PNG, cut or not."""
    interpreter = EscposInterpreter()
    _, jobs = interpreter.feed(data)
    elements = [element for _, job in jobs for element in job]
    rest = interpreter.pending_job()
    if rest is not None:
        elements += rest[1]
    return render_job_png(elements, path, paper_mm)


# -- the printer firmware -----------------------------------------------------------------------
@dataclass
class PaperState:
    near_end: bool = False
    out: bool = False
    cover_open: bool = False


@dataclass
class PrinterFirmware:
    """The device side: status answers from the paper state, jobs recorded and rendered."""

    out_dir: Path | None = None
    paper_mm: int = 80
    paper: PaperState = field(default_factory=PaperState)
    jobs: list[PrintJob] = field(default_factory=list)
    discarded_bytes: int = 0
    _interpreter: EscposInterpreter = field(default_factory=EscposInterpreter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _job_done: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._job_done = threading.Condition(self._lock)

    @property
    def can_print(self) -> bool:
        return not (self.paper.out or self.paper.cover_open)

    def feed(self, data: bytes) -> bytes:
        with self._lock:
            asked, jobs = self._interpreter.feed(data)
            reply = bytes(self._status(n) for n in asked)
            for job_bytes, elements in jobs:
                if not self.can_print:
                    self.discarded_bytes += len(job_bytes)
                    continue
                self._record(job_bytes, elements)
            if jobs:
                self._job_done.notify_all()
        return reply

    def wait_for_jobs(self, count: int, timeout: float) -> bool:
        """Tests wait on this instead of sleeping."""
        with self._lock:
            return self._job_done.wait_for(lambda: len(self.jobs) >= count, timeout)

    def _status(self, n: int) -> int:
        paper = self.paper
        if n == 4:
            return encode_paper_sensor(near_end=paper.near_end or paper.out, paper_end=paper.out)
        if n == 2:
            return encode_offline_cause(cover_open=paper.cover_open, paper_end=paper.out)
        if n == 1:
            return encode_printer_status(online=self.can_print)
        return 0x12  # n = 3 error status: no error

    def _record(self, data: bytes, elements: list[Element]) -> None:
        job = PrintJob(len(self.jobs) + 1, data, elements)
        if self.out_dir is not None:
            path = self.out_dir / f"receipt-{job.number:03d}.png"
            try:
                render_job_png(elements, path, self.paper_mm)
            except (ValueError, OSError, DataOverflowError):
                pass  # a job the painter cannot draw is still recorded with its bytes
            else:
                job.png_path = str(path)
        self.jobs.append(job)

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        on = bool(args.get("on", True))
        with self._lock:
            if command == "paper_near_end":
                self.paper.near_end = on
            elif command == "paper_out":
                self.paper.out = on
            elif command == "cover_open":
                self.paper.cover_open = on
            elif command == "paper_ok":
                self.paper = PaperState()
            elif command == "status":
                pass
            elif command == "jobs":
                return {"ok": True, "jobs": [job.summary() for job in self.jobs]}
            elif command == "clear_jobs":
                self.jobs.clear()
            else:
                raise KeyError(f"the printer stub has no control {command!r}")
            return {
                "ok": True,
                "near_end": self.paper.near_end,
                "paper_out": self.paper.out,
                "cover_open": self.paper.cover_open,
                "jobs": len(self.jobs),
            }


def start_printer_stub(
    port: int = 0, out_dir: Path | None = None, paper_mm: int = 80, use_pty: bool = False
) -> SerialStubServer:
    """A printer on loopback; `.url` is its socket:// URL (tcp://127.0.0.1:PORT works the same)."""
    firmware = PrinterFirmware(out_dir=out_dir, paper_mm=paper_mm)
    return SerialStubServer(firmware, port=port, use_pty=use_pty, name="printer").start()


def start_from_settings(settings: Any, out_dir: Path | None = None) -> list[SerialStubServer]:
    """The stub the configured printer URL points at (only a loopback tcp:// or socket:// URL)."""
    printer = settings.devices.printer
    if not printer.enabled:
        return []
    parts = urlsplit(printer.url)
    if parts.scheme not in ("tcp", "socket") or parts.hostname not in ("127.0.0.1", "localhost"):
        return []
    folder = out_dir or Path(tempfile.mkdtemp(prefix="kiosk-printer-stub-"))
    folder.mkdir(parents=True, exist_ok=True)
    return [start_printer_stub(parts.port or 9100, folder)]
