"""QR / 1-D code decoding: two engines behind one interface, and the pipeline the camera runs.

zxing-cpp is the primary engine (faster and more tolerant on the benchmark set, see
bench/bench_qr_decode.py); pyzbar is kept as a second opinion and for comparison. Every call into a
native decoder is guarded: a garbage or exotic payload (structured-append QR in zbar, non-UTF-8
text) must cost one missed frame, never the camera thread.

The camera pipeline has to keep up with a 1080p stream on one core, so it decodes a downscaled
gray copy restricted to the symbologies the terminal uses, spreads the costly 1-D scans over
frames, and only falls back to full resolution on some of the frames where nothing was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

from .messages import DecodedCode, Image, text_and_raw

# The codes a service terminal meets: pickup codes and receipts (QR), e-licence QR, parcel labels
# (Code 128), goods and books (EAN-13).
DEFAULT_FORMATS: tuple[str, ...] = ("QRCode", "Code128", "EAN13")
QR_ONLY: tuple[str, ...] = ("QRCode",)

_ZBAR_TO_ZXING = {
    "QRCODE": "QRCode",
    "CODE128": "Code128",
    "CODE39": "Code39",
    "CODE93": "Code93",
    "EAN13": "EAN13",
    "EAN8": "EAN8",
    "ISBN13": "EAN13",
    "ISBN10": "EAN13",
    "UPCA": "UPCA",
    "UPCE": "UPCE",
    "I25": "ITF",
    "CODABAR": "Codabar",
    "PDF417": "PDF417",
    "DATABAR": "DataBar",
    "DATABAR_EXP": "DataBarExp",
}
_ZXING_TO_ZBAR = {
    "QRCode": "QRCODE",
    "Code128": "CODE128",
    "Code39": "CODE39",
    "Code93": "CODE93",
    "EAN13": "EAN13",
    "EAN8": "EAN8",
    "UPCA": "UPCA",
    "UPCE": "UPCE",
    "ITF": "I25",
    "Codabar": "CODABAR",
    "PDF417": "PDF417",
    "DataBar": "DATABAR",
    "DataBarExp": "DATABAR_EXP",
}

# What native decoders raise on payloads they cannot represent (pyzbar: ValueError on
# structured-append QR; OpenCV: UnicodeDecodeError, a ValueError, on non-UTF-8 text).
_DECODER_FAILURES = (ValueError, RuntimeError, TypeError, OverflowError, cv2.error)


class CodeDecoder(Protocol):
    """Finds every code of the configured symbologies in a gray or BGR image."""

    @property
    def name(self) -> str: ...

    def decode(self, image: Image) -> tuple[DecodedCode, ...]: ...


def to_gray(image: Image) -> Image:
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY), dtype=np.uint8)
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _unique(codes: Iterable[DecodedCode]) -> tuple[DecodedCode, ...]:
    return tuple(dict.fromkeys(codes))


@dataclass
class ZxingDecoder:
    """zxing-cpp; `thorough` adds rotated, inverted and downscaled searches (for still images)."""

    formats: Sequence[str] = DEFAULT_FORMATS
    thorough: bool = False
    rotate: bool = True  # 1-D codes held vertically; QR needs no rotation
    failures: int = 0
    _formats: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Kept as text and converted per call (microseconds): a long-lived zxingcpp object makes
        # nanobind print "leaked instance" warnings when the interpreter exits.
        self._formats = ",".join(self.formats)
        try:
            zxingcpp.barcode_formats_from_str(self._formats)
        except ValueError as err:
            raise ValueError(f"unknown code format in {list(self.formats)}: {err}") from err

    @property
    def name(self) -> str:
        return "zxing-cpp"

    def decode(self, image: Image) -> tuple[DecodedCode, ...]:
        try:
            found = zxingcpp.read_barcodes(
                to_gray(image),
                formats=zxingcpp.barcode_formats_from_str(self._formats),
                try_rotate=self.thorough or (self.rotate and tuple(self.formats) != QR_ONLY),
                try_downscale=self.thorough,
                try_invert=self.thorough,
            )
        except _DECODER_FAILURES:
            self.failures += 1
            return ()
        codes = []
        for barcode in found:
            try:
                raw = bytes(barcode.bytes)
                text, kept = text_and_raw(raw, barcode.text)
                codes.append(DecodedCode(barcode.format.name, text, kept))
            except _DECODER_FAILURES:
                self.failures += 1
        return _unique(codes)


@dataclass
class PyzbarDecoder:
    """pyzbar (ZBar). ZBar transcodes QR bytes by a charset guess; the guess is undone."""

    formats: Sequence[str] = DEFAULT_FORMATS
    failures: int = 0
    _symbols: list[pyzbar.ZBarSymbol] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self._symbols = [pyzbar.ZBarSymbol[_ZXING_TO_ZBAR[name]] for name in self.formats]
        except KeyError as err:
            raise ValueError(f"pyzbar cannot read the code format {err.args[0]!r}") from err

    @property
    def name(self) -> str:
        return "pyzbar"

    def decode(self, image: Image) -> tuple[DecodedCode, ...]:
        try:
            found = pyzbar.decode(to_gray(image), symbols=self._symbols)
        except _DECODER_FAILURES:
            self.failures += 1
            return ()
        codes = []
        for symbol in found:
            kind = _ZBAR_TO_ZXING.get(symbol.type, symbol.type)
            codes.append(DecodedCode(kind, *text_and_raw(_undo_zbar_transcoding(symbol.data))))
        return _unique(codes)


def _undo_zbar_transcoding(data: bytes) -> bytes:
    """ZBar hands back UTF-8 of its charset guess (Latin-1 or Shift-JIS for a QR without ECI).

    Re-encoding with the guessed charset gives the symbol's bytes back; the first charset whose
    round trip is valid UTF-8 wins, because UTF-8 is what the terminal's own codes carry.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    recovered: list[bytes] = []
    for charset in _ZBAR_GUESSES:
        try:
            original = text.encode(charset)
        except UnicodeEncodeError:
            continue
        try:
            original.decode("utf-8")
        except UnicodeDecodeError:
            recovered.append(original)
            continue
        return original
    return recovered[0] if recovered else data


_ZBAR_GUESSES = ("latin-1", "shift_jis", "cp932")


_LINEAR = frozenset(
    {"Code128", "Code39", "Code93", "EAN13", "EAN8", "UPCA", "UPCE", "ITF", "Codabar", "DataBar"}
)


@dataclass
class FramePipeline:
    """The camera's decoder, shaped by measurement (bench/bench_camera_loop.py) to keep up with
    1080p on one core.

    Every frame: 2-D codes on a copy shrunk to `work_width` (QR at 960 px costs about 1 ms).
    1-D codes are the expensive part (every row is scanned), so each frame scans them in one
    direction only, horizontal and vertical in turn: a label held up is read within two frames.
    A small 2-D code far away is only legible at full resolution, tried on every
    `full_every`-th frame without a find. One instance per camera thread (it counts frames).
    """

    formats: Sequence[str] = DEFAULT_FORMATS
    work_width: int = 960
    full_every: int = 3
    _frames: int = 0
    _misses: int = 0

    def __post_init__(self) -> None:
        area = [name for name in self.formats if name not in _LINEAR]
        linear = [name for name in self.formats if name in _LINEAR]
        self._area = ZxingDecoder(area) if area else None
        self._linear = ZxingDecoder(linear) if linear else None
        if self._linear is not None:
            self._linear.rotate = False  # the pipeline turns the image itself, one way per frame

    @property
    def name(self) -> str:
        return f"pipeline(zxing-cpp, {self.work_width}px)"

    @property
    def failures(self) -> int:
        return sum(engine.failures for engine in (self._area, self._linear) if engine is not None)

    def decode(self, image: Image) -> tuple[DecodedCode, ...]:
        self._frames += 1
        width = image.shape[1]
        if width > self.work_width * 1.2:
            # Shrinking the colour frame first makes the gray conversion four times cheaper.
            scale = self.work_width / width
            small = to_gray(
                np.asarray(
                    cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA),
                    dtype=np.uint8,
                )
            )
        else:
            small = to_gray(image)
        codes: tuple[DecodedCode, ...] = ()
        if self._area is not None:
            codes = self._area.decode(small)
        if self._linear is not None:
            view = small if self._frames % 2 else np.ascontiguousarray(np.rot90(small))
            codes += self._linear.decode(view)
        if codes:
            self._misses = 0
            return _unique(codes)
        self._misses += 1
        full_resolution_due = self.full_every > 0 and self._misses % self.full_every == 0
        if self._area is not None and small.shape[1] != width and full_resolution_due:
            return self._area.decode(to_gray(image))
        return ()


def decode_still(image: Image, formats: Sequence[str] = DEFAULT_FORMATS) -> tuple[DecodedCode, ...]:
    """Every code in a still image (the CLI, an uploaded scan): thorough zxing, then pyzbar."""
    codes = ZxingDecoder(formats, thorough=True).decode(image)
    if codes:
        return codes
    zbar_formats = [name for name in formats if name in _ZXING_TO_ZBAR]
    return PyzbarDecoder(zbar_formats).decode(image) if zbar_formats else ()
