"""E-copies: what the camera sees, the pages already taken, and e-licences offered instead of paper.

The live preview lets the citizen see that the page lies inside the frame; it is the only part of
the apply screens that moves on its own. It polls `preview_source` (set by the composition root to
the camera's `latest_preview`, which never waits) at most `PREVIEW_FPS` times a second, skips a
frame it has already shown, and copies only as many pixels as the widget can show, so the UI
thread never waits for the camera and never copies a full-resolution frame it would shrink anyway.

Uploading a picture into a texture that the GPU is still drawing from makes the driver wait for
that drawing to finish; with software rendering (Mesa llvmpipe, which runs the kiosk off-screen
and on boards without a GPU) that wait is a whole frame of rasterising, measured at 25-40 ms and
the main cause of the interface's stalls on the camera step. So each new picture goes into the
next of a few textures in turn, one the frames still being drawn no longer use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.apply.view_models import (
    ApplyView,
    CaptureInstead,
    CapturePage,
    Continue,
    MaterialCaptureView,
    MaterialsView,
    RetakePage,
    UseELicence,
)

from .apply_chrome import drop_intent

KV_FILE = "materials_screen.kv"
NAME = "materials"

# Enough to lay a page inside the guide; every preview frame redraws the whole window, which a
# software renderer does on the same two cores as the camera (at 15 a second its threads took
# half to three quarters of a core on the camera step).
PREVIEW_FPS = 10
# A software renderer keeps a frame or two queued: three textures in turn keep uploads clear.
TEXTURE_RING = 3
PAGE_ASPECT = 297 / 210  # an A4 page, portrait: the guide the citizen lays the page into
OUTLINE_COLOUR = (0.18, 0.80, 0.44, 1.0)
GUIDE_COLOUR = (1.0, 1.0, 1.0, 0.85)

PreviewSource = Callable[[], object | None]
Point = tuple[float, float]


def fit_rect(
    frame_w: int, frame_h: int, box: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """The largest rectangle of the frame's proportions centred in `box` (x, y, w, h)."""
    x, y, w, h = box
    if frame_w <= 0 or frame_h <= 0 or w <= 0 or h <= 0:
        return x, y, 0.0, 0.0
    scale = min(w / frame_w, h / frame_h)
    shown_w, shown_h = frame_w * scale, frame_h * scale
    return x + (w - shown_w) / 2, y + (h - shown_h) / 2, shown_w, shown_h


def outline_points(
    corners: Sequence[Sequence[float]],
    frame_w: int,
    frame_h: int,
    shown: tuple[float, float, float, float],
) -> list[float]:
    """Frame-pixel corners (origin top-left) as a closed Kivy line (origin bottom-left)."""
    x, y, w, h = shown
    points: list[float] = []
    for corner in (*corners, corners[0]):
        points += [x + corner[0] / frame_w * w, y + h - corner[1] / frame_h * h]
    return points


def guide_brackets(shown: tuple[float, float, float, float], length: float) -> list[list[float]]:
    """Four corner brackets of an A4-shaped frame in the middle of the picture."""
    x, y, w, h = shown
    guide_h = h * 0.86
    guide_w = min(w * 0.9, guide_h / PAGE_ASPECT)
    left, bottom = x + (w - guide_w) / 2, y + (h - guide_h) / 2
    right, top = left + guide_w, bottom + guide_h
    return [
        [left, top - length, left, top, left + length, top],
        [right - length, top, right, top, right, top - length],
        [right, bottom + length, right, bottom, right - length, bottom],
        [left + length, bottom, left, bottom, left, bottom + length],
    ]


class CameraPreview(Widget):  # type: ignore[misc]
    """The camera's newest frame, the A4 guide, and the page outline when the camera found one.

    A frame is anything with `pixels` (height x width x 3 BGR, with `shape`, `tobytes` and numpy
    slicing) and `sequence`; an `outline` attribute (four corners in frame pixels, top-left first)
    is drawn when present.
    """

    source = ObjectProperty(None, allownone=True)
    running = BooleanProperty(False)
    frames_shown = NumericProperty(0)
    has_frame = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ticker: Any = None
        self._textures: list[Texture] = []
        self._turn = 0
        self._texture: Texture | None = None  # the one shown now
        self._picture: Rectangle | None = None  # the canvas instruction that shows it
        self._sequence: int | None = None
        self._frame_size = (0, 0)  # of the full frame, for the outline's coordinates
        self._outline: Sequence[Sequence[float]] | None = None
        self._layout = Clock.create_trigger(self._draw, 0)
        self.bind(pos=self._layout, size=self._layout)

    def on_running(self, _instance: object, running: bool) -> None:
        if running and self._ticker is None:
            self._ticker = Clock.schedule_interval(self.poll, 1 / PREVIEW_FPS)
        elif not running and self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def forget(self) -> None:
        """Drop the last picture (it may show a citizen's document)."""
        self._textures = []
        self._texture = None
        self._sequence = None
        self._outline = None
        self.has_frame = False
        self._draw()

    def poll(self, _dt: float = 0.0) -> None:
        frame: Any = self.source() if self.source is not None else None
        if frame is None:
            return
        sequence = getattr(frame, "sequence", None)
        if sequence is not None and sequence == self._sequence:
            return
        self._sequence = sequence
        pixels: Any = frame.pixels
        full_h, full_w = int(pixels.shape[0]), int(pixels.shape[1])
        # Upload no more than the widget shows: every n-th pixel, n rounded up so a 1080p frame in
        # a ~1000 px preview goes up at 960x540. The camera driver already sends a preview-sized
        # copy, so this only strides frames from sources that do not.
        step = max(1, math.ceil(max(full_w / max(self.width, 1), full_h / max(self.height, 1))))
        if step > 1:
            pixels = pixels[::step, ::step]
        height, width = int(pixels.shape[0]), int(pixels.shape[1])
        colorfmt = "bgra" if len(pixels.shape) == 3 and pixels.shape[2] == 4 else "bgr"
        texture = self._next_texture(width, height, colorfmt)
        # A flat view of a contiguous frame is no copy; a strided one is copied once, here.
        texture.blit_buffer(pixels.reshape(-1), colorfmt=colorfmt, bufferfmt="ubyte")
        outline = getattr(frame, "outline", None)
        relayout = (
            self._picture is None
            or (full_w, full_h) != self._frame_size
            or outline is not None
            or self._outline is not None
        )
        self._texture = texture
        self._frame_size = (full_w, full_h)
        self._outline = outline
        self.has_frame = True
        self.frames_shown += 1
        if relayout:
            self._draw()
        elif self._picture is not None:
            self._picture.texture = texture  # the only change: no canvas rebuilt

    def _next_texture(self, width: int, height: int, colorfmt: str) -> Texture:
        ring = self._textures
        if not ring or ring[0].size != (width, height) or ring[0].colorfmt != colorfmt:
            ring = []
            for _ in range(TEXTURE_RING):
                texture = Texture.create(size=(width, height), colorfmt=colorfmt)
                texture.flip_vertical()  # image rows run top-down, texture rows bottom-up
                ring.append(texture)
            self._textures = ring
            self._turn = 0
        self._turn = (self._turn + 1) % len(ring)
        return ring[self._turn]

    def _draw(self, *_args: object) -> None:
        self.canvas.clear()
        self._picture = None
        box = (self.x, self.y, self.width, self.height)
        with self.canvas:
            Color(0.12, 0.14, 0.17, 1)
            Rectangle(pos=self.pos, size=self.size)
            if self._texture is None:
                shown = fit_rect(210, 297, box)
            else:
                shown = fit_rect(*self._frame_size, box)
                Color(1, 1, 1, 1)
                self._picture = Rectangle(texture=self._texture, pos=shown[:2], size=shown[2:])
            Color(*GUIDE_COLOUR)
            thick = max(2.0, min(self.width, self.height) * 0.012)
            for bracket in guide_brackets(shown, min(shown[2], shown[3]) * 0.12):
                Line(points=bracket, width=thick, cap="square", joint="miter")
            if self._outline is not None and self._texture is not None and len(self._outline) == 4:
                Color(*OUTLINE_COLOUR)
                Line(
                    points=outline_points(self._outline, *self._frame_size, shown),
                    width=thick * 1.2,
                    joint="round",
                )


class ThumbnailTile(BoxLayout):  # type: ignore[misc]
    """A page already taken, its number, and its retake button."""

    image_path = StringProperty("")
    page_text = StringProperty("")
    retake_label = StringProperty("")
    material_code = StringProperty("")
    page_number = NumericProperty(0)
    screen = ObjectProperty(None)


class MaterialCard(BoxLayout):  # type: ignore[misc]
    """One material: name, how far it is, its pages, and the e-licence choice when offered."""

    code = StringProperty("")
    name = StringProperty("")
    status = StringProperty("to_capture")
    status_text = StringProperty("")
    current = BooleanProperty(False)
    use_elicence_label = StringProperty("")
    capture_instead_label = StringProperty("")
    screen = ObjectProperty(None)

    def show(self, material: MaterialCaptureView, retake_label: str, can_retake: bool) -> None:
        self.code = material.code
        self.name = material.name
        self.status = material.status
        self.status_text = material.status_text
        self.current = material.current
        self.use_elicence_label = material.use_elicence_label
        self.capture_instead_label = material.capture_instead_label
        strip = self.ids.thumbnails
        wanted = [(t.page_number, t.image_path) for t in material.thumbnails]
        shown = [(tile.page_number, tile.image_path) for tile in reversed(strip.children)]
        if wanted != shown:
            strip.clear_widgets()
            for thumbnail in material.thumbnails:
                strip.add_widget(
                    ThumbnailTile(
                        image_path=thumbnail.image_path,
                        page_number=thumbnail.page_number,
                        material_code=material.code,
                        screen=self.screen,
                    )
                )
        for tile in strip.children:
            tile.page_text = f"{tile.page_number}/{max(material.pages_expected, 1)}"
            tile.retake_label = retake_label if can_retake else ""


class MaterialsScreen(Screen):  # type: ignore[misc]
    send = ObjectProperty(drop_intent)
    preview_source = ObjectProperty(None, allownone=True)
    instruction = StringProperty("")
    pages_left_text = StringProperty("")
    capture_label = StringProperty("")
    continue_label = StringProperty("")
    can_capture = BooleanProperty(False)
    can_continue = BooleanProperty(False)
    show_preview = BooleanProperty(False)
    camera_available = BooleanProperty(True)
    visible = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cards: dict[str, MaterialCard] = {}
        self._focus = ""

    # -- the contract ---------------------------------------------------------------------------
    def render(self, view: ApplyView) -> None:
        body = view.body
        assert isinstance(body, MaterialsView), f"materials screen got {type(body).__name__}"
        self.ids.header.render(view.header)
        self.ids.notice.render(body.notice)
        self.instruction = body.instruction
        self.pages_left_text = body.pages_still_expected_text
        self.capture_label = body.capture_label
        self.continue_label = body.continue_label
        self.can_capture = body.can_capture
        self.can_continue = body.can_continue
        self.camera_available = body.camera_available
        self.show_preview = body.show_preview
        self._show_cards(body.materials, body.retake_label)

    def clear_down(self) -> None:
        self.ids.preview.forget()
        self.ids.cards.clear_widgets()
        self._cards = {}
        self._focus = ""

    def on_send(self, _instance: object, send: Any) -> None:
        self.ids.header.send = send

    # The preview runs only while this screen is shown and the flow wants it.
    def on_enter(self, *_args: object) -> None:
        self.visible = True

    def on_leave(self, *_args: object) -> None:
        self.visible = False
        self.ids.preview.forget()

    # -- touches --------------------------------------------------------------------------------
    def press_capture(self) -> None:
        if self.can_capture:
            self.send(CapturePage())

    def press_continue(self) -> None:
        if self.can_continue:
            self.send(Continue())

    def press_retake(self, material_code: str, page_number: int) -> None:
        self.send(RetakePage(material_code=material_code, page_number=page_number))

    def press_use_elicence(self, material_code: str) -> None:
        self.send(UseELicence(material_code=material_code))

    def press_capture_instead(self, material_code: str) -> None:
        self.send(CaptureInstead(material_code=material_code))

    # -- drawing --------------------------------------------------------------------------------
    def _show_cards(self, materials: tuple[MaterialCaptureView, ...], retake_label: str) -> None:
        if list(self._cards) != [material.code for material in materials]:
            container = self.ids.cards
            container.clear_widgets()
            self._cards = {}
            for material in materials:
                card = MaterialCard(screen=self)
                container.add_widget(card)
                self._cards[material.code] = card
        for material in materials:
            self._cards[material.code].show(
                material, retake_label, can_retake=self.camera_available
            )
        # Keep the card that needs the citizen (an e-licence to confirm, the page being taken) in
        # sight; scroll only when that card changes, so a citizen's own scrolling is left alone.
        waiting = [m.code for m in materials if m.status == "elicence_offered"]
        waiting += [m.code for m in materials if m.current]
        focus = waiting[0] if waiting else ""
        if focus != self._focus:
            self._focus = focus
            if focus:
                card = self._cards[focus]
                Clock.schedule_once(lambda _dt: self.ids.scroll.scroll_to(card, animate=False), 0)
