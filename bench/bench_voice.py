"""Prints how long espeak-ng takes to render a typical prompt (cold) and to find it cached (warm).

Run: .venv/bin/python bench/bench_voice.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
import wave
from pathlib import Path

from devices.voice import VoiceRenderer

PROMPTS = {
    "zh-CN": "请把纸质材料放进三号柜格，然后关好柜门。",
    "en": "Please put your paper documents into box three, then close the door.",
}
ROUNDS = 5


def main() -> None:
    for language, text in PROMPTS.items():
        cold: list[float] = []
        warm: list[float] = []
        for round_number in range(ROUNDS):
            with tempfile.TemporaryDirectory() as folder:
                renderer = VoiceRenderer(Path(folder))
                started = time.perf_counter()
                path = renderer.render(f"{text} {round_number}", language)  # type: ignore[arg-type]
                cold.append(time.perf_counter() - started)
                started = time.perf_counter()
                renderer.render(f"{text} {round_number}", language)  # type: ignore[arg-type]
                warm.append(time.perf_counter() - started)
                with wave.open(str(path), "rb") as audio:
                    seconds = audio.getnframes() / audio.getframerate()
                size_kb = path.stat().st_size / 1024
        print(
            f"{language:6} render median {statistics.median(cold) * 1000:6.0f} ms, "
            f"cached {statistics.median(warm) * 1000:5.2f} ms, "
            f"audio {seconds:.1f} s, {size_kb:.0f} KB"
        )


if __name__ == "__main__":
    main()
