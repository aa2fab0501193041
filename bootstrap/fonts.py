"""Find a font that has Chinese glyphs before the UI starts (Kivy's bundled Roboto has none)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_log = logging.getLogger(__name__)

# Debian/Ubuntu packages fonts-noto-cjk and fonts-wqy-microhei / fonts-wqy-zenhei.
KNOWN_CJK_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
FONTCONFIG_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class FontChoice:
    path: str | None
    found_by: str  # a phrase for logs and `kiosk doctor`: "settings", "known path", "fontconfig"


def find_cjk_font(configured: str = "", known: Sequence[str] = KNOWN_CJK_FONTS) -> FontChoice:
    if configured:
        if Path(configured).expanduser().is_file():
            return FontChoice(str(Path(configured).expanduser()), "settings")
        _log.warning("display.font_path %s does not exist; searching the system fonts", configured)
    for candidate in known:
        if Path(candidate).is_file():
            return FontChoice(candidate, "known path")
    found = _ask_fontconfig()
    if found is not None:
        return FontChoice(found, "fontconfig")
    return FontChoice(None, "none found")


def _ask_fontconfig() -> str | None:
    """fc-match always answers, even with a Latin-only font: check it against fc-list's zh set."""
    if shutil.which("fc-match") is None or shutil.which("fc-list") is None:
        return None
    try:
        matched = _run(["fc-match", "-f", "%{file}", ":lang=zh"])
        listed = _run(["fc-list", ":lang=zh", "file"]).splitlines()
    except (OSError, subprocess.SubprocessError) as err:
        _log.warning("fontconfig could not be asked for a CJK font: %s", err)
        return None
    with_chinese = {line.strip().removesuffix(":") for line in listed if line.strip()}
    if matched in with_chinese:
        return matched
    return min(with_chinese) if with_chinese else None


def _run(command: list[str]) -> str:
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=FONTCONFIG_TIMEOUT_S
    )
    return done.stdout.strip()
