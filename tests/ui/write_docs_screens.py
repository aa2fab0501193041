"""Refresh docs/screens/apply-*.png from the UI probes (not a test; run it after a layout change).

Usage: python tests/ui/write_docs_screens.py [WORK_DIR]
Runs the three screen probes of tests/ui at 1080x1920 (each in its own process: one Kivy window
per process), then keeps one picture per apply step in Chinese and one in English with large
text, halved and reduced to 256 colours (flat UI loses nothing; each file stays far below 250 KB).
Look at every picture before committing them: that is what they are for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DOCS = ROOT / "docs" / "screens"
WIDTH, HEIGHT = 1080, 1920
DOC_WIDTH_PX = 540

# probe -> its command line (after the interpreter) given its output folder
PROBES = {
    "choose": lambda out: [HERE / "test_choose_screens.py", out, WIDTH, HEIGHT, "all"],
    "form": lambda out: [HERE / "form_screens_probe.py", out, WIDTH, HEIGHT],
    "handin": lambda out: [HERE / "handin_probe.py", out, WIDTH, HEIGHT, "full"],
}
SIZE = f"{WIDTH}x{HEIGHT}"
# docs name -> (probe, the probe's own file name)
PICTURES: dict[str, tuple[str, str]] = {
    "apply-identify-zh": ("choose", "identify-zh.png"),
    "apply-identify-en-large": ("choose", "identify-en-large.png"),
    "apply-choose-zh": ("choose", "choose-departments-zh.png"),
    "apply-choose-en-large": ("choose", "choose-search-en-large.png"),
    "apply-guide-zh": ("choose", "guide-zh.png"),
    "apply-guide-en-large": ("choose", "guide-en-large.png"),
    "apply-form-zh": ("form", f"form-zh-{SIZE}.png"),
    "apply-form-en-large": ("form", f"form-en-large-{SIZE}.png"),
    "apply-materials-zh": ("form", f"materials-zh-{SIZE}.png"),
    "apply-materials-en-large": ("form", f"materials-en-large-{SIZE}.png"),
    "apply-review-zh": ("form", f"review-zh-{SIZE}.png"),
    "apply-review-en-large": ("form", f"review-en-large-{SIZE}.png"),
    "apply-payment-zh": ("form", f"payment-zh-{SIZE}.png"),
    "apply-payment-en-large": ("form", f"payment-en-large-{SIZE}.png"),
    "apply-hand_in-zh": ("handin", "hand_in-door_open-zh.png"),
    "apply-hand_in-en-large": ("handin", "hand_in-no_item_seen-en-large.png"),
    "apply-receipt-zh": ("handin", "receipt-print_failed-zh.png"),
    "apply-receipt-en-large": ("handin", "receipt-print_failed-en-large.png"),
    "apply-finish-zh": ("handin", "finish-zh.png"),
    "apply-finish-en-large": ("handin", "finish-en-large.png"),
}


def run_probes(work: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    for name, command in PROBES.items():
        out = work / name
        out.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, *(str(part) for part in command(out))]
        done = subprocess.run(args, cwd=out, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"the {name} probe failed:\n{done.stderr[-3000:]}")


def write_pictures(work: Path) -> None:
    from PIL import Image

    DOCS.mkdir(parents=True, exist_ok=True)
    for name, (probe, shot) in PICTURES.items():
        with Image.open(work / probe / shot) as image:
            height = round(image.height * DOC_WIDTH_PX / image.width)
            small = image.convert("RGB").resize((DOC_WIDTH_PX, height), Image.Resampling.LANCZOS)
            small.quantize(256, dither=Image.Dither.NONE).save(DOCS / f"{name}.png", optimize=True)
        print(DOCS / f"{name}.png")


def main() -> int:
    if len(sys.argv) > 1:
        work = Path(sys.argv[1])
        run_probes(work)
        write_pictures(work)
        return 0
    with tempfile.TemporaryDirectory(prefix="docs-screens-") as folder:
        run_probes(Path(folder))
        write_pictures(Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
