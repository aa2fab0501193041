"""Document capture: find the page, straighten it, make it readable, and decide when to shoot.

All of it is pure — an image (or a sequence of measurements) in, a value out, no clock, no disk —
so the auto-capture rule is tested by feeding it a scripted sequence of frames.

Auto-capture waits for the page to lie still: the outline must stay within a few pixels for K
frames in a row and the picture must barely change. After a capture it waits for the page to go
away (or be swapped for a visibly different one) so a page left on the desk is taken once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from .decoder import to_gray
from .messages import Image, Quad

_OUTLINE_WIDTH = 640  # pages are big: the outline is found on a small copy


def order_corners(points: np.ndarray[tuple[int, int], np.dtype[np.float32]]) -> Quad:
    """Top-left, top-right, bottom-right, bottom-left, whatever order the contour gave."""
    pts = np.asarray(points, dtype=np.float64).reshape(4, 2)
    sums = pts.sum(axis=1)
    diffs = pts[:, 1] - pts[:, 0]
    tl, br = pts[int(np.argmin(sums))], pts[int(np.argmax(sums))]
    tr, bl = pts[int(np.argmin(diffs))], pts[int(np.argmax(diffs))]
    return (
        (float(tl[0]), float(tl[1])),
        (float(tr[0]), float(tr[1])),
        (float(br[0]), float(br[1])),
        (float(bl[0]), float(bl[1])),
    )


def find_page_outline(image: Image, min_area_fraction: float = 0.08) -> Quad | None:
    """The largest convex four-cornered shape covering enough of the frame, or None."""
    gray = to_gray(image)
    width = gray.shape[1]
    scale = min(1.0, _OUTLINE_WIDTH / width)
    small = (
        cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else gray
    )
    small = cv2.GaussianBlur(small, (5, 5), 0)
    # A page is the bright thing on the desk: Otsu separates it; edges catch a page on a light desk.
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edges = cv2.dilate(cv2.Canny(small, 40, 120), np.ones((3, 3), np.uint8))
    min_area = min_area_fraction * small.shape[0] * small.shape[1]
    best: tuple[float, np.ndarray[tuple[int, int], np.dtype[np.float32]]] | None = None
    for mask in (bright, edges):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
            area = cv2.contourArea(contour)
            if area < min_area:
                break
            approx = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, True), True)
            if (
                len(approx) == 4
                and cv2.isContourConvex(approx)
                and (best is None or area > best[0])
            ):
                best = (area, approx.reshape(4, 2).astype(np.float32))
                break
        if best is not None:
            break
    if best is None:
        return None
    return order_corners(best[1] / scale)


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def straighten_page(image: Image, outline: Quad) -> Image:
    """Warp the page to a flat rectangle as large as its longest edges."""
    tl, tr, br, bl = outline
    width = round(max(_distance(tl, tr), _distance(bl, br)))
    height = round(max(_distance(tl, bl), _distance(tr, br)))
    if width < 8 or height < 8:
        raise ValueError(f"the page outline is too small to straighten ({width}×{height} px)")
    src = np.array(outline, dtype=np.float32)
    dst = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    return np.asarray(
        cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC), dtype=np.uint8
    )


def enhance_page(page: Image) -> Image:
    """Gray with local contrast evened out (CLAHE): shadows and glare stop hiding text, and photos
    and stamps survive, which a hard threshold would wipe out."""
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    return np.asarray(clahe.apply(to_gray(page)), dtype=np.uint8)


def motion_thumbnail(image: Image) -> Image:
    """A tiny blurred gray copy; two of them compared give the motion between frames."""
    small = cv2.resize(to_gray(image), (160, 90), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.GaussianBlur(small, (5, 5), 0), dtype=np.uint8)


def motion_between(previous: Image, current: Image) -> float:
    """Mean absolute difference of two thumbnails, 0 (still) .. 255."""
    return float(cv2.absdiff(previous, current).mean())


def corner_shift(a: Quad, b: Quad) -> float:
    """The largest distance any corner moved between two outlines, in pixels."""
    return max(_distance(p, q) for p, q in zip(a, b, strict=True))


class SteadyState(StrEnum):
    WAITING = "waiting"  # no page in view
    SETTLING = "settling"  # a page is there, not yet still for long enough
    TAKEN = "taken"  # this page was captured; waiting for it to go or change


@dataclass
class SteadyPageDetector:
    """Feed one (outline, motion) per frame; `update` returns True on the frame to capture."""

    steady_frames: int = 8
    max_corner_shift_px: float = 6.0
    max_motion: float = 2.5
    gone_frames: int = 3  # frames without a page before the next page may be taken
    changed_shift_px: float = 60.0  # an outline this far from the captured one is a new page
    state: SteadyState = SteadyState.WAITING
    _still_count: int = 0
    _missing_count: int = 0
    _previous: Quad | None = None
    _captured: Quad | None = field(default=None, repr=False)

    def update(self, outline: Quad | None, motion: float) -> bool:
        if outline is None:
            self._missing_count += 1
            self._still_count = 0
            self._previous = None
            if self.state is SteadyState.SETTLING or self._missing_count >= self.gone_frames:
                self.state = SteadyState.WAITING
                self._captured = None
            return False
        self._missing_count = 0
        if self.state is SteadyState.TAKEN:
            if (
                self._captured is not None
                and corner_shift(outline, self._captured) < self.changed_shift_px
            ):
                return False
            self.state = SteadyState.SETTLING
            self._still_count = 0
        if self.state is SteadyState.WAITING:
            self.state = SteadyState.SETTLING
            self._still_count = 0
        still = (
            self._previous is not None
            and corner_shift(outline, self._previous) <= self.max_corner_shift_px
            and motion <= self.max_motion
        )
        self._previous = outline
        self._still_count = self._still_count + 1 if still else 0
        if self._still_count >= self.steady_frames:
            self.state = SteadyState.TAKEN
            self._captured = outline
            self._still_count = 0
            return True
        return False

    def reset(self) -> None:
        self.state = SteadyState.WAITING
        self._still_count = 0
        self._missing_count = 0
        self._previous = None
        self._captured = None
