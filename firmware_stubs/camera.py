"""An emulated camera: renders what a real one would see and serves it as an MJPEG stream.

Tests and demo journeys act as the citizen through `control(cmd, args)`: hold a QR code (or a 1-D
code, or a code whose payload is not text) in front of the lens, lay a page on the desk and keep
it still or move it, take everything away, or unplug the camera. The frames carry the faults a
real lens adds (perspective, blur, sensor noise, glare), drawn from a seeded generator so a failing
test can be replayed.

The stream is `multipart/x-mixed-replace` JPEG over HTTP on loopback — what most IP and USB-bridge
cameras serve — so the driver opens it as a stream URL exactly as it would open the real one.
`render_code_scene` and `render_page_scene` are also the synthetic data set of the decoder
benchmark.
"""

from __future__ import annotations

import contextlib
import io
import math
import socketserver
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
import numpy as np
import qrcode
import zxingcpp

FRAME_WIDTH = 1920
FRAME_HEIGHT = 1080

Image = np.ndarray[Any, np.dtype[np.uint8]]


@dataclass(frozen=True)
class Degradation:
    """What the lens and the room do to the picture; zero everywhere is a perfect print."""

    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    perspective: float = 0.0  # corner jitter as a fraction of the code size
    rotation_deg: float = 0.0
    glare: float = 0.0  # 0..1 strength of a bright spot over the code
    contrast: float = 1.0


def random_degradation(rng: np.random.Generator, severity: float = 1.0) -> Degradation:
    """A plausible mix of faults; severity 1 is a poorly lit kiosk with a cheap lens."""
    return Degradation(
        blur_sigma=float(rng.uniform(0, 2.2) * severity),
        noise_sigma=float(rng.uniform(0, 14) * severity),
        perspective=float(rng.uniform(0, 0.18) * severity),
        rotation_deg=float(rng.uniform(-180, 180)),
        glare=float(rng.uniform(0, 0.7) * severity) if rng.random() < 0.4 else 0.0,
        contrast=float(rng.uniform(0.55, 1.0)),
    )


def code_image(payload: str | bytes, code_format: str = "QRCode", module_px: int = 8) -> Image:
    """A black-on-white code with its quiet zone, grayscale."""
    if code_format == "QRCode":
        qr = qrcode.QRCode(border=4, box_size=module_px)
        qr.add_data(payload)
        qr.make(fit=True)
        pil = qr.make_image(fill_color="black", back_color="white").convert("L")
        return np.asarray(pil, dtype=np.uint8).copy()
    symbol = zxingcpp.create_barcode(payload, zxingcpp.barcode_format_from_str(code_format))
    bars = np.asarray(zxingcpp.write_barcode_to_image(symbol, scale=1), dtype=np.uint8)
    scale = max(1, module_px // 2)
    # Bars one module wide become `scale` pixels; the height is made generous, as on a label.
    wide = cv2.resize(
        bars,
        (bars.shape[1] * scale, max(60, bars.shape[0]) * scale),
        interpolation=cv2.INTER_NEAREST,
    )
    return np.ascontiguousarray(wide, dtype=np.uint8)


def structured_append_qr(
    payload: bytes, index: int = 0, total: int = 2, module_px: int = 8
) -> Image:
    """One symbol of a structured-append QR sequence: the kind ZBar refuses with ValueError.

    The `qrcode` package cannot write the structured-append header, so the bit stream is built
    here (mode 0011, position, count, parity, then an 8-bit byte segment) and handed to it.
    """
    from qrcode import util

    qr = qrcode.QRCode(version=3, border=4, box_size=module_px)
    buffer = util.BitBuffer()
    buffer.put(0b0011, 4)
    buffer.put(index, 4)
    buffer.put(total - 1, 4)
    parity = 0
    for byte in payload:
        parity ^= byte
    buffer.put(parity, 8)
    buffer.put(util.MODE_8BIT_BYTE, 4)
    buffer.put(len(payload), 8)
    for byte in payload:
        buffer.put(byte, 8)
    blocks = util.base.rs_blocks(qr.version, qr.error_correction)
    limit = sum(block.data_count * 8 for block in blocks)
    for _ in range(min(limit - len(buffer), 4)):
        buffer.put_bit(False)
    while len(buffer) % 8:
        buffer.put_bit(False)
    for pad in range((limit - len(buffer)) // 8):
        buffer.put(util.PAD0 if pad % 2 == 0 else util.PAD1, 8)
    qr.data_cache = util.create_bytes(buffer, blocks)
    qr.make(fit=False)
    pil = qr.make_image(fill_color="black", back_color="white").convert("L")
    return np.asarray(pil, dtype=np.uint8).copy()


def background(
    rng: np.random.Generator, width: int = FRAME_WIDTH, height: int = FRAME_HEIGHT
) -> Image:
    """A counter top: a lit gradient with some clutter, so the decoder has to search."""
    # A 2×2 gradient scaled up: smooth light across the counter at the cost of one resize.
    level = float(rng.uniform(-30, 30))
    tint = rng.integers(-25, 25, size=3).astype(np.float32)
    light = np.array([[70, 124], [106, 160]], dtype=np.float32)[:, :, None] + level + tint
    corners = np.clip(light, 0, 255).astype(np.uint8)
    frame = np.ascontiguousarray(
        cv2.resize(corners, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.uint8
    )
    for _ in range(int(rng.integers(3, 9))):
        colour = tuple(int(c) for c in rng.integers(0, 255, size=3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            cv2.circle(frame, (x, y), int(rng.integers(20, 160)), colour, -1)
        else:
            cv2.rectangle(
                frame,
                (x, y),
                (x + int(rng.integers(30, 300)), y + int(rng.integers(10, 90))),
                colour,
                -1,
            )
    return frame


def _place(
    frame: Image,
    patch: Image,
    centre: tuple[float, float],
    size_px: float,
    rng: np.random.Generator,
    how: Degradation,
) -> None:
    """Warp a grayscale patch onto the frame with rotation and perspective jitter."""
    h, w = patch.shape[:2]
    aspect = h / w
    half_w, half_h = size_px / 2, size_px * aspect / 2
    angle = math.radians(how.rotation_deg)
    cos, sin = math.cos(angle), math.sin(angle)
    corners = []
    for dx, dy in ((-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)):
        jx, jy = rng.uniform(-1, 1, size=2) * how.perspective * size_px
        corners.append((centre[0] + dx * cos - dy * sin + jx, centre[1] + dx * sin + dy * cos + jy))
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    dst = np.array(corners, dtype=np.float32)
    # Warp only into the bounding box of the corners: a full-frame blend costs ten times more.
    x0 = max(0, int(dst[:, 0].min()) - 2)
    y0 = max(0, int(dst[:, 1].min()) - 2)
    x1 = min(frame.shape[1], int(dst[:, 0].max()) + 3)
    y1 = min(frame.shape[0], int(dst[:, 1].max()) + 3)
    if x1 <= x0 or y1 <= y0:
        return
    dst_local = dst - np.array([x0, y0], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst_local)
    size = (x1 - x0, y1 - y0)
    low = int(255 * (1 - how.contrast) * 0.6)
    high = 255 - int(255 * (1 - how.contrast) * 0.4)
    toned = (low + patch.astype(np.float32) * (high - low) / 255).astype(np.uint8)
    warped = cv2.warpPerspective(toned, matrix, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full_like(patch, 255), matrix, size, flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255)[:, :, None]
    region = frame[y0:y1, x0:x1]
    region[:] = (region * (1 - alpha) + warped[:, :, None] * alpha).astype(np.uint8)


def _finish(
    frame: Image, rng: np.random.Generator, how: Degradation, spot: tuple[float, float]
) -> Image:
    out: Any = frame  # OpenCV's stubs type every result as a generic array
    if how.glare > 0:
        # The spot is computed on a coarse grid and scaled up: it is smooth anyway.
        h, w = frame.shape[:2]
        yy, xx = np.ogrid[: h // 8, : w // 8]
        radius = rng.uniform(60, 220) / 8
        cx, cy = (spot[0] + rng.uniform(-80, 80)) / 8, (spot[1] + rng.uniform(-80, 80)) / 8
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2)).astype(np.float32)
        spot_img = cv2.resize(how.glare * 255 * blob, (w, h), interpolation=cv2.INTER_LINEAR)
        out = cv2.add(out, cv2.merge([spot_img.astype(np.uint8)] * 3))
    if how.blur_sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), how.blur_sigma)
    if how.noise_sigma > 0:
        # One noise plane shared by the channels: a third of the cost, the decoder sees gray.
        noise = np.empty(out.shape[:2], dtype=np.int16)
        cv2.setRNGSeed(int(rng.integers(0, 2**31)))
        cv2.randn(noise, np.array([0.0]), np.array([how.noise_sigma]))
        out = cv2.add(
            out, cv2.merge([noise] * out.shape[2]) if out.ndim == 3 else noise, dtype=cv2.CV_8U
        )
    return np.asarray(out, dtype=np.uint8)


def render_code_scene(
    payload: str | bytes,
    *,
    code_format: str = "QRCode",
    seed: int = 0,
    degradation: Degradation | None = None,
    size_px: float | None = None,
) -> Image:
    """A 1080p BGR frame with one code held somewhere in view."""
    rng = np.random.default_rng(seed)
    how = degradation if degradation is not None else Degradation()
    frame = background(rng)
    patch = code_image(payload, code_format)
    size = size_px if size_px is not None else float(rng.uniform(220, 520))
    margin = size * 0.8
    centre = (
        float(rng.uniform(margin, FRAME_WIDTH - margin)),
        float(rng.uniform(margin * 0.7, FRAME_HEIGHT - margin * 0.7)),
    )
    _place(frame, patch, centre, size, rng, how)
    return _finish(frame, rng, how, centre)


def page_image(title: str, lines: int = 14, width: int = 840, height: int = 1188) -> Image:
    """A white A4-proportioned page with a heading and lines of 'text'."""
    page = np.full((height, width), 250, dtype=np.uint8)
    cv2.putText(page, title[:40], (60, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 20, 3, cv2.LINE_AA)
    for row in range(lines):
        y = 200 + row * 66
        length = 400 + zlib.crc32(f"{title}/{row}".encode()) % 300
        cv2.putText(page, "x" * (length // 22), (60, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 40, 2)
    return page


def render_page_scene(
    title: str, *, seed: int = 0, offset: tuple[float, float] = (0.0, 0.0), noise_sigma: float = 3.0
) -> Image:
    """A page lying on a dark desk, slightly skewed, as an overhead document camera sees it."""
    rng = np.random.default_rng(seed)
    frame = np.full((FRAME_HEIGHT, FRAME_WIDTH, 3), (52, 46, 40), dtype=np.uint8)
    how = Degradation(perspective=0.04, rotation_deg=float(rng.uniform(-8, 8)))
    centre = (FRAME_WIDTH / 2 + offset[0], FRAME_HEIGHT / 2 + offset[1])
    _place(frame, page_image(title), centre, 660.0, rng, how)
    return _finish(frame, np.random.default_rng(), Degradation(noise_sigma=noise_sigma), centre)


def empty_scene(seed: int = 0) -> Image:
    return _finish(
        background(np.random.default_rng(seed)),
        np.random.default_rng(),
        Degradation(noise_sigma=2),
        (0, 0),
    )


class CameraStub:
    """What is in front of the lens, changed through `control`, served as MJPEG frames."""

    def __init__(self, fps: float = 15.0, jpeg_quality: int = 85) -> None:
        self.fps = fps
        self.jpeg_quality = jpeg_quality
        self._lock = threading.Lock()
        self._scene = empty_scene()
        self._scene_name = "empty"
        self._moving_page: str | None = None
        self._move_step = 0
        self._unplugged = False
        self._frames_served = 0
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- the world ----------------------------------------------------------------------------
    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        seed = int(str(args.get("seed", 0)))
        if command == "show_code":
            code_format = str(args.get("format", "QRCode"))
            payload = bytes.fromhex(str(args["hex"])) if "hex" in args else str(args["text"])
            severity = float(str(args.get("severity", 0.0)))
            how = random_degradation(np.random.default_rng(seed), severity) if severity else None
            self._set(
                render_code_scene(payload, code_format=code_format, seed=seed, degradation=how),
                f"code:{code_format}",
            )
        elif command == "place_page":
            self._set(render_page_scene(str(args.get("title", "Page")), seed=seed), "page")
        elif command == "move_page":
            with self._lock:
                self._moving_page = str(args.get("title", "Page"))
                self._scene_name = "moving-page"
        elif command == "clear":
            self._set(empty_scene(seed), "empty")
        elif command == "unplug":
            with self._lock:
                self._unplugged = True  # open streams end at the next frame
        elif command == "replug":
            with self._lock:
                self._unplugged = False
        elif command == "status":
            pass
        else:
            raise ValueError(
                f"unknown command {command!r}; try show_code, place_page, move_page, clear,"
                " unplug, replug, status"
            )
        with self._lock:
            return {
                "scene": self._scene_name,
                "unplugged": self._unplugged,
                "frames_served": self._frames_served,
            }

    def _set(self, scene: Image, name: str) -> None:
        with self._lock:
            self._scene = scene
            self._scene_name = name
            self._moving_page = None

    def current_frame(self) -> Image:
        """The picture the lens sees right now (a moving page moves on every call)."""
        with self._lock:
            moving = self._moving_page
            self._move_step += 1
            step = self._move_step
            scene = self._scene
        if moving is not None:
            dx = 160 * math.sin(step * 0.9)
            return render_page_scene(moving, seed=step, offset=(dx, 40 * math.cos(step * 0.7)))
        return scene

    def write_image(self, path: Path) -> Path:
        """Save the current view, for a folder source or `kiosk device decode`."""
        if not cv2.imwrite(str(path), self.current_frame()):
            raise ValueError(f"cannot write {path}")
        return path

    # -- the stream ---------------------------------------------------------------------------
    def jpeg_frames(self) -> Iterator[bytes]:
        interval = 1.0 / self.fps
        next_at = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                if self._unplugged:
                    return
            ok, encoded = cv2.imencode(
                ".jpg", self.current_frame(), [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]
            )
            if ok:
                with self._lock:
                    self._frames_served += 1
                yield encoded.tobytes()
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_at = time.monotonic()

    def serve(self, port: int = 0) -> str:
        """Start the MJPEG server on loopback; returns the stream URL for the driver."""
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                with outer._lock:
                    unplugged = outer._unplugged
                if unplugged:
                    self.send_error(503, "camera unplugged")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                with contextlib.suppress(OSError):
                    for jpeg in outer.jpeg_frames():
                        part = io.BytesIO()
                        part.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                        part.write(f"Content-Length: {len(jpeg)}\r\n\r\n".encode())
                        part.write(jpeg)
                        part.write(b"\r\n")
                        self.wfile.write(part.getvalue())
                        self.wfile.flush()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="camera-stub", daemon=True
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise ValueError("the camera stub is not serving; call serve() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}/stream.mjpg"

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclass
class _RunningCameraStub:
    """The camera stub as `kiosk stubs start` and the demo hold it."""

    stub: CameraStub
    name: str = "camera"

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        return self.stub.control(command, args)

    def stop(self) -> None:
        self.stub.stop()


def start_from_settings(settings: Any) -> list[_RunningCameraStub]:
    """Serve the stub stream when the configured source is an MJPEG URL on loopback."""
    camera = settings.devices.camera
    parts = urlsplit(camera.source)
    if not camera.enabled or parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        return []
    stub = CameraStub(fps=camera.fps)
    stub.serve(parts.port or 80)
    return [_RunningCameraStub(stub)]
