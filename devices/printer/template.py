"""Receipt templates: layouts are data (TOML); a small renderer turns template + data into ESC/POS.

A service centre changes its receipt wording more often than its printer, so the layout lives in
`templates/*.toml` and this module only knows a handful of block kinds. Rendering goes through
python-escpos' in-memory `Dummy` printer (one class builds the commands; transports only move the
bytes), which keeps rendering pure: the same template and data give the same bytes, byte for byte.

Chinese text is sent in the printer's Chinese mode (FS & … FS .) as GB18030 bytes written raw:
escpos' own `text()` would re-encode through code pages. On such printers every character that
takes two GB18030 bytes prints full width, so wrapping counts it as two columns.

Block kinds (keys besides `kind`; every text value may hold `{placeholders}`):
  text     text, align = left|center|right, bold = bool, size = 1..4
  field    label, value — "label：value", wrapped lines indented under the value
  list     source (a list in the data), text (may use {n}, 1-based, and the entry's keys), prefix
  lines    source (a list of strings in the data), bold_prefix — each entry wrapped on its own;
           a continuation hangs under the text after the entry's marker ("· ", "1. ", "费用：")
           so a long step or legal basis reads as one paragraph; entries starting with
           `bold_prefix` (e.g. "【") print bold
  rule     char (default "-") across the paper
  barcode  data — CODE128, module width chosen to fit the paper, text printed below
  qr       data, size = 1..16 (dots per module), ecc = L|M|Q|H — the printer's native QR
  feed     lines
  cut
Any block may have `when = "<key>"`: it is skipped when that data value is empty or missing.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from escpos.constants import QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy

from .errors import TemplateError

ESC = b"\x1b"
GS = b"\x1d"
INITIALIZE = ESC + b"@"
CHINESE_ON = b"\x1c\x26"  # FS &
CHINESE_OFF = b"\x1c\x2e"  # FS .
LF = b"\n"

ESCPOS_PROFILE = "TM-T20II"  # a generic 80 mm profile with native QR, CODE128 (function B), cut

_ALIGN = {"left": 0, "center": 1, "right": 2}
_ECC = {"L": QR_ECLEVEL_L, "M": QR_ECLEVEL_M, "Q": QR_ECLEVEL_Q, "H": QR_ECLEVEL_H}
_KEYS: dict[str, set[str]] = {
    "text": {"text", "align", "bold", "size"},
    "field": {"label", "value", "bold"},
    "list": {"source", "text", "prefix"},
    "lines": {"source", "bold_prefix"},
    "rule": {"char"},
    "barcode": {"data", "height"},
    "qr": {"data", "size", "ecc"},
    "feed": {"lines"},
    "cut": set(),
}


@dataclass(frozen=True)
class PaperWidth:
    """A roll width as the printer sees it: Font A columns (12 dots each) and printable dots."""

    mm: int
    columns: int
    dots: int


PAPER_80MM = PaperWidth(80, 48, 576)
PAPER_58MM = PaperWidth(58, 32, 384)
PAPER_WIDTHS = {80: PAPER_80MM, 58: PAPER_58MM}


@dataclass(frozen=True)
class Block:
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)
    when: str | None = None


@dataclass(frozen=True)
class ReceiptTemplate:
    name: str
    blocks: tuple[Block, ...]


# -- loading ------------------------------------------------------------------------------------
def parse_template(text: str, source: str) -> ReceiptTemplate:
    """Validate the whole file up front: a typo must fail at load, not halfway through a receipt."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TemplateError(f"receipt template {source} is not valid TOML: {err}.") from err
    name = document.get("name", source)
    raw_blocks = document.get("blocks")
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise TemplateError(f"receipt template {source} has no [[blocks]].")
    blocks: list[Block] = []
    for index, raw in enumerate(raw_blocks, start=1):
        if not isinstance(raw, dict):
            raise TemplateError(f"receipt template {source}: block {index} is not a table.")
        options = dict(raw)
        kind = options.pop("kind", None)
        when = options.pop("when", None)
        if kind not in _KEYS:
            raise TemplateError(
                f"receipt template {source}: block {index} has kind {kind!r}; "
                f"expected one of {sorted(_KEYS)}."
            )
        unknown = set(options) - _KEYS[kind]
        if unknown:
            raise TemplateError(
                f"receipt template {source}: block {index} ({kind}) has unknown keys "
                f"{sorted(unknown)}; allowed: {sorted(_KEYS[kind])}."
            )
        _check_values(kind, options, f"receipt template {source}: block {index} ({kind})")
        blocks.append(Block(kind, options, str(when) if when is not None else None))
    return ReceiptTemplate(str(name), tuple(blocks))


def _check_values(kind: str, options: Mapping[str, Any], where: str) -> None:
    align = options.get("align", "left")
    if align not in _ALIGN:
        raise TemplateError(f"{where}: align must be left, center or right, not {align!r}.")
    size = options.get("size", 1)
    if kind == "text" and not (isinstance(size, int) and 1 <= size <= 4):
        raise TemplateError(f"{where}: size must be a whole number from 1 to 4.")
    if kind == "qr" and not (isinstance(size, int) and 1 <= size <= 16):
        raise TemplateError(f"{where}: size must be a whole number from 1 to 16.")
    if kind == "qr" and options.get("ecc", "M") not in _ECC:
        raise TemplateError(f"{where}: ecc must be one of L, M, Q, H.")
    for key in ("text", "label", "value", "data", "source", "bold_prefix"):
        if key in options and not isinstance(options[key], str):
            raise TemplateError(f"{where}: {key} must be a string.")
    if kind in ("list", "lines") and "source" not in options:
        raise TemplateError(f"{where}: a {kind} block needs `source`.")


def load_template(name: str) -> ReceiptTemplate:
    """A template shipped in devices/printer/templates/ (read from the package, not the cwd)."""
    try:
        text = resources.files(__package__).joinpath("templates", f"{name}.toml").read_text("utf-8")
    except FileNotFoundError as err:
        raise TemplateError(f"there is no receipt template called {name!r}.") from err
    return parse_template(text, f"{name}.toml")


# -- text helpers -------------------------------------------------------------------------------
def cell_width(char: str) -> int:
    """Columns a character takes on the printer: anything outside ASCII prints full width."""
    return 1 if ord(char) < 0x80 else 2


def text_width(text: str) -> int:
    return sum(cell_width(char) for char in text)


def printable(text: str) -> str:
    """Control characters in data (a card's name field, a form value) must not become commands."""
    return "".join(" " if ord(char) < 0x20 or ord(char) == 0x7F else char for char in text)


def _tokens(text: str) -> list[str]:
    """Words of ASCII stay whole (an ID number is not broken); other characters stand alone."""
    tokens: list[str] = []
    for char in text:
        previous = tokens[-1][-1:] if tokens else ""
        if char.isascii() and char != " " and previous.isascii() and previous not in ("", " "):
            tokens[-1] += char
            continue
        tokens.append(char)
    return tokens


# Chinese line breaking (禁则): closing punctuation never starts a line, opening never ends one.
NO_LINE_START = frozenset("，。、；：！？）》」』】〕〉”’…,.;:!?)]}")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{")
_MAX_CARRIED = 3  # tokens moved down to keep punctuation attached; more would leave a ragged line


def wrap(text: str, width: int, indent: int = 0) -> list[str]:
    """Break at the column limit; continuation lines start with `indent` spaces (hanging indent).

    When a break would put closing punctuation at the start of a line (or leave an opening
    bracket at the end), the last characters move down with it, as Chinese typesetting expects.
    """
    width = max(width, indent + 2)
    lines: list[str] = []
    line: list[str] = []  # the tokens of the current line, after its indent
    used = 0
    pending = _tokens(text)
    while pending:
        token = pending.pop(0)
        cells = text_width(token)
        if used + cells <= width:
            line.append(token)
            used += cells
            continue
        if token == " ":
            continue  # a break swallows the space it happens at
        if cells > width - indent or not "".join(line).strip():
            # A word longer than a whole line: split it where the line ends.
            room = width - used
            head = ""
            while token and text_width(head + token[0]) <= room:
                head, token = head + token[0], token[1:]
            line.append(head)
            pending.insert(0, token)
        else:
            pending[:0] = [*_carried(line, token, width - indent), token]
        lines.append(_joined(line, indent if lines else 0))
        line, used = [], indent
    lines.append(_joined(line, indent if lines else 0))
    return lines


def _carried(line: list[str], following: str, room: int) -> list[str]:
    """Take from the end of `line` the tokens that must go down with `following` (kinsoku)."""
    carried: list[str] = []
    first = following
    while (
        len(line) > 1
        and len(carried) < _MAX_CARRIED
        and (first[:1] in NO_LINE_START or line[-1][-1:] in NO_LINE_END)
        and text_width("".join([line[-1], *carried, following])) <= room
    ):
        first = line.pop()
        carried.insert(0, first)
    starts = next((token for token in carried if token != " "), "")
    if carried and (starts[:1] in NO_LINE_START or line[-1][-1:] in NO_LINE_END):
        # Within the limits no legal break exists here (a long run of punctuation): carrying
        # would only shorten this line and break the rule anyway, so break where the line is full.
        line.extend(carried)
        return []
    while carried and carried[0] == " ":
        carried.pop(0)
    return carried


def _joined(tokens: list[str], indent: int) -> str:
    return (" " * indent + "".join(tokens)).rstrip(" ")


_MARKER = re.compile(r"\s*(?:[·•\-*]\s|\d{1,2}[.、)]\s?|[(（]\d{1,2}[)）]\s?)")
_LABEL = re.compile(r"[^：:]{1,8}(?:：|:\s)")


def hanging_indent(line: str, width: int) -> int:
    """Where a wrapped entry's continuation lines start: under the text after its marker.

    A bullet or step number ("· ", "2. ", "（3）") or a short label ("法定依据：", "Fee: ") counts
    as a marker. Never more than half the line, or a long label would leave a narrow column.
    """
    match = _MARKER.match(line) or _LABEL.match(line)
    if match is None:
        return 0
    indent = text_width(match.group(0))
    return indent if indent <= width // 2 else 0


def encode_line(text: str) -> bytes:
    """One printed line: ASCII as is, anything else inside FS & … FS . as GB18030."""
    if text.isascii():
        return text.encode("ascii") + LF
    return CHINESE_ON + text.encode("gb18030") + CHINESE_OFF + LF


def fill(pattern: str, values: Mapping[str, object], where: str) -> str:
    """`{name}` placeholders only: no attribute access or indexing into the data."""
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as err:
        raise TemplateError(f"{where}: bad placeholder in {pattern!r} ({err}).") from err
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if not name.isidentifier() or conversion:
            raise TemplateError(f"{where}: placeholder {{{name}}} must be a plain name.")
        if name not in values:
            raise TemplateError(f"{where} needs {{{name}}}, but the data has no {name!r}.")
        value = values[name]
        out.append(format(value, spec or "") if spec else str(value))
    return printable("".join(out))


# -- CODE128 -------------------------------------------------------------------------------------
def code128_payload(data: str) -> tuple[bytes, int]:
    """ESC/POS CODE128 data (function B) with code-set switches, and its width in modules.

    Runs of four or more digits go in code set C (two digits per symbol, sent as one byte 0-99),
    the rest in code set B, so a tracking number fits a 58 mm roll. `{` is escaped as `{{`.
    """
    if not data or not data.isascii() or any(ord(char) < 0x20 for char in data):
        raise TemplateError(f"a CODE128 barcode needs printable ASCII, not {data!r}.")
    payload = bytearray()
    symbols = 0
    index = 0
    code_set = ""
    while index < len(data):
        run = 0
        while index + run < len(data) and data[index + run].isdigit():
            run += 1
        if run >= 4:
            if run % 2:
                if code_set != "B":
                    payload += b"{B"
                    symbols += 1
                    code_set = "B"
                payload += data[index].encode()
                symbols += 1
                index += 1
                run -= 1
            if code_set != "C":
                payload += b"{C"
                symbols += 1
                code_set = "C"
            for pair in range(index, index + run, 2):
                payload.append(int(data[pair : pair + 2]))
                symbols += 1
            index += run
            continue
        if code_set != "B":
            payload += b"{B"
            symbols += 1
            code_set = "B"
        char = data[index]
        payload += b"{{" if char == "{" else char.encode()
        symbols += 1
        index += 1
    # The first switch is the start symbol (counted above); add the check symbol and the stop.
    modules = 11 * (symbols + 1) + 13
    return bytes(payload), modules


# -- rendering ----------------------------------------------------------------------------------
class _Writer:
    """Emits only the mode changes a line needs, so receipts stay small and bytes predictable."""

    def __init__(self, printer: Dummy, paper: PaperWidth) -> None:
        self.printer = printer
        self.paper = paper
        self._align = 0
        self._bold = False
        self._size = 1

    def raw(self, data: bytes) -> None:
        self.printer._raw(data)

    def mode(self, align: str = "left", bold: bool = False, size: int = 1) -> None:
        if _ALIGN[align] != self._align:
            self._align = _ALIGN[align]
            self.raw(ESC + b"a" + bytes([self._align]))
        if bold != self._bold:
            self._bold = bold
            self.raw(ESC + b"E" + bytes([int(bold)]))
        if size != self._size:
            self._size = size
            self.raw(GS + b"!" + bytes([(size - 1) << 4 | (size - 1)]))

    def lines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.raw(encode_line(line))


def render(template: ReceiptTemplate, data: Mapping[str, object], paper: PaperWidth) -> bytes:
    """Template + data → the ESC/POS bytes of one job, starting with ESC @ and ending in a cut."""
    printer = Dummy(profile=ESCPOS_PROFILE)
    writer = _Writer(printer, paper)
    writer.raw(INITIALIZE)
    for index, block in enumerate(template.blocks, start=1):
        if block.when is not None and not data.get(block.when):
            continue
        where = f"receipt template {template.name}: block {index} ({block.kind})"
        try:
            _render_block(writer, block, data, where)
        except (EscposError, ValueError) as err:
            raise TemplateError(f"{where} cannot be printed: {err}.") from err
    return bytes(printer.output)


def _render_block(writer: _Writer, block: Block, data: Mapping[str, object], where: str) -> None:
    options = block.options
    columns = writer.paper.columns
    if block.kind == "text":
        size = int(options.get("size", 1))
        writer.mode(str(options.get("align", "left")), bool(options.get("bold", False)), size)
        writer.lines(wrap(fill(str(options.get("text", "")), data, where), columns // size))
    elif block.kind == "field":
        label = fill(str(options.get("label", "")), data, where) + "："
        value = fill(str(options.get("value", "")), data, where)
        writer.mode(bold=bool(options.get("bold", False)))
        writer.lines(wrap(label + value, columns, indent=text_width(label)))
    elif block.kind == "list":
        entries = data.get(str(options["source"]))
        if not isinstance(entries, Sequence) or isinstance(entries, str):
            raise TemplateError(f"{where}: data {options['source']!r} must be a list.")
        writer.mode()
        prefix = str(options.get("prefix", "  "))
        for number, entry in enumerate(entries, start=1):
            values: dict[str, object] = {"n": number}
            if isinstance(entry, Mapping):
                values.update({str(key): value for key, value in entry.items()})
            else:
                values["value"] = entry
            line = prefix + fill(str(options.get("text", "{value}")), values, where)
            writer.lines(wrap(line, columns, indent=len(prefix) + len(f"{number}. ")))
    elif block.kind == "lines":
        _lines(writer, block, data, where)
    elif block.kind == "rule":
        writer.mode()
        char = str(options.get("char", "-"))[:1] or "-"
        writer.lines([char * (columns // cell_width(char))])
    elif block.kind == "barcode":
        _barcode(writer, fill(str(options.get("data", "")), data, where), options)
    elif block.kind == "qr":
        content = fill(str(options.get("data", "")), data, where)
        writer.mode(align="center")
        writer.printer.qr(
            content,
            ec=_ECC[str(options.get("ecc", "M"))],
            size=int(options.get("size", 6)),
            native=True,
        )
    elif block.kind == "feed":
        writer.raw(ESC + b"d" + bytes([max(0, min(255, int(options.get("lines", 1))))]))
    elif block.kind == "cut":
        writer.printer.cut()


def _lines(writer: _Writer, block: Block, data: Mapping[str, object], where: str) -> None:
    source = str(block.options["source"])
    entries = data.get(source)
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise TemplateError(f"{where}: data {source!r} must be a list of lines.")
    bold_prefix = str(block.options.get("bold_prefix", ""))
    columns = writer.paper.columns
    for entry in entries:
        line = printable(str(entry)).rstrip()
        writer.mode(bold=bool(bold_prefix) and line.startswith(bold_prefix))
        writer.lines(wrap(line, columns, indent=hanging_indent(line, columns)))


def _barcode(writer: _Writer, content: str, options: Mapping[str, Any]) -> None:
    payload, modules = code128_payload(content)
    module_dots = next((dots for dots in (3, 2) if modules * dots <= writer.paper.dots), 0)
    writer.mode(align="center")
    if not module_dots:
        # Too long for this roll even at the narrowest module: print it readable instead.
        writer.lines(wrap(content, writer.paper.columns))
        return
    height = max(1, min(255, int(options.get("height", 80))))
    # escpos' public barcode() prints a line to stdout (it would corrupt the CLI's JSON), so the
    # hardware path is called directly: GS h, GS w, GS f, GS H (text below), GS k 73 n data.
    writer.printer._hw_barcode(
        payload.decode("ascii"), "CODE128", height, module_dots, "BELOW", "A", False, "B", True
    )
