"""Run in a subprocess by test_materials_preview.py: the camera preview alone in a real
off-screen window, fed frames of known colours; after each frame is drawn it reads back the pixel
in the middle of the window and prints, as JSON, what the screen showed and which texture it used.

Usage: materials_preview_probe.py OUT_DIR
Kivy allows one window per process, so the test drives this script instead of importing Kivy.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OUT = Path(sys.argv[1])
KIVY_HOME = OUT / "kivy"
KIVY_HOME.mkdir(parents=True, exist_ok=True)
os.environ.update(
    {
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(KIVY_HOME),
        "KIVY_NO_FILELOG": "1",
        "KCFG_KIVY_LOG_LEVEL": "warning",
        "KCFG_GRAPHICS_WIDTH": "600",
        "KCFG_GRAPHICS_HEIGHT": "400",
        "KCFG_GRAPHICS_RESIZABLE": "0",
    }
)

import numpy as np  # noqa: E402
from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels  # noqa: E402

from screens.materials_screen import CameraPreview  # noqa: E402

# (label, BGR colour, frame shape): preview-sized copies as the driver sends them, a BGRA one,
# and full-HD frames that the widget has to stride down itself.
FRAMES: list[tuple[str, tuple[int, int, int], tuple[int, int, int]]] = [
    ("red preview copy", (0, 0, 230), (540, 960, 3)),
    ("green preview copy", (0, 200, 0), (540, 960, 3)),
    ("blue preview copy", (220, 0, 0), (540, 960, 3)),
    ("yellow preview copy", (0, 220, 220), (540, 960, 3)),
    ("magenta preview copy", (200, 0, 200), (540, 960, 3)),
    ("cyan with alpha", (210, 210, 0), (540, 960, 4)),
    ("grey full frame", (128, 128, 128), (1080, 1920, 3)),
    ("white full frame", (250, 250, 250), (1080, 1920, 3)),
]


class Frame:
    def __init__(self, pixels: Any, sequence: int) -> None:
        self.pixels = pixels
        self.sequence = sequence


def make_frame(index: int) -> Frame:
    _label, colour, shape = FRAMES[index]
    pixels = np.zeros(shape, dtype=np.uint8)
    pixels[..., :3] = colour
    if shape[2] == 4:
        pixels[..., 3] = 255
    return Frame(pixels, index + 1)


def middle_pixel_rgb() -> list[int]:
    width, height = Window.size
    data = glReadPixels(width // 2, height // 2, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE)
    return list(bytes(data)[:3])


class ProbeApp(App):  # type: ignore[misc]
    def build(self) -> CameraPreview:
        self.preview = CameraPreview()
        self.current: Frame | None = None
        self.preview.source = lambda: self.current
        self.shown: list[dict[str, Any]] = []
        self.steps = self.play()
        Window.bind(on_flip=self._flipped)
        return self.preview

    def _flipped(self, *_args: object) -> None:
        # Changes made while a frame is being flipped wait for another reason to draw: step on.
        Clock.schedule_once(self._step, 0)

    def _step(self, _dt: float) -> None:
        try:
            next(self.steps)
        except StopIteration:
            Window.unbind(on_flip=self._flipped)
            self.stop()

    def play(self) -> Iterator[None]:
        for index in range(len(FRAMES)):
            self.current = make_frame(index)
            self.preview.poll()
            self.preview.poll()  # the same frame again: skipped, not uploaded twice
            self.preview.canvas.ask_update()
            yield  # drawn
            label, colour, _shape = FRAMES[index]
            texture = self.preview._texture
            self.shown.append(
                {
                    "label": label,
                    "expected_rgb": [colour[2], colour[1], colour[0]],
                    "seen_rgb": middle_pixel_rgb(),
                    "texture": id(texture),
                    "texture_size": list(texture.size) if texture is not None else None,
                    "frames_shown": self.preview.frames_shown,
                }
            )
        self.preview.forget()
        self.preview.canvas.ask_update()
        yield
        self.forgotten_rgb = middle_pixel_rgb()


if __name__ == "__main__":
    app = ProbeApp()
    app.run()
    print(json.dumps({"shown": app.shown, "forgotten_rgb": getattr(app, "forgotten_rgb", None)}))
