"""A kiosk.toml for tests that run `kiosk demo` in a child process.

Device ports are left to the demo, which moves the stubs' default ports to free ones, so runs
side by side (two test workers, a demo on the desktop) do not collide.
"""

from __future__ import annotations

from pathlib import Path


def write_demo_config(
    folder: Path, *, width: int = 1080, height: int = 1920, voice: bool = False
) -> Path:
    """`folder/kiosk.toml` with the terminal's data in `folder/data`. The spoken prompts are off
    unless asked for: rendering them costs a core for seconds and most tests do not listen."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kiosk.toml"
    path.write_text(
        f"[display]\nwidth = {width}\nheight = {height}\n"
        f'[storage]\ndata_dir = "{folder / "data"}"\n'
        + ("" if voice else "[voice]\nenabled = false\n"),
        encoding="utf-8",
    )
    return path
