"""Hit rate and median decode time of pyzbar, zxing-cpp and the camera pipeline on synthetic frames.

The set: QR payloads (pickup codes, receipt URLs, Chinese text, long JSON) rendered onto 1080p
counter-top backgrounds with blur, sensor noise, perspective, rotation, low contrast and glare,
seeded so every run sees the same images. Prints one table; no assertion (speed is a figure).

    .venv/bin/python bench/bench_qr_decode.py [--count 240] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from devices.camera.decoder import QR_ONLY, CodeDecoder, FramePipeline, PyzbarDecoder, ZxingDecoder
from firmware_stubs.camera import random_degradation, render_code_scene


def payload_for(index: int, rng: np.random.Generator) -> str:
    kind = index % 4
    if kind == 0:
        return f"PICKUP-{rng.integers(0, 10**8):08d}"
    if kind == 1:
        return f"https://zwfw.example.gov.cn/receipt/{rng.integers(0, 10**12):012d}"
    if kind == 2:
        return f"慈利县政务服务中心 受理编号 {rng.integers(0, 10**6):06d}"
    record = {"item": "household-registration", "id": int(rng.integers(0, 10**9))}
    return json.dumps(record | {"pages": int(rng.integers(1, 9))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    samples = []
    for index in range(args.count):
        payload = payload_for(index, rng)
        how = random_degradation(rng)
        frame = render_code_scene(payload, seed=int(rng.integers(0, 2**31)), degradation=how)
        samples.append((payload, frame))
    print(f"generated {len(samples)} frames of 1920x1080 in {time.perf_counter() - started:.1f} s")

    decoders: list[tuple[str, CodeDecoder]] = [
        ("pyzbar, QR only", PyzbarDecoder(QR_ONLY)),
        ("pyzbar, QR+Code128+EAN13", PyzbarDecoder()),
        ("zxing-cpp, QR only, fast", ZxingDecoder(QR_ONLY)),
        ("zxing-cpp, QR+Code128+EAN13, fast", ZxingDecoder()),
        ("zxing-cpp, QR only, thorough", ZxingDecoder(QR_ONLY, thorough=True)),
        ("pipeline 960px, no full-res retry", FramePipeline(QR_ONLY, full_every=0)),
        (
            "pipeline 960px + full-res on every miss",
            FramePipeline(QR_ONLY, full_every=1),
        ),
        (
            "pipeline 960px, QR+Code128+EAN13, every miss",
            FramePipeline(full_every=1),
        ),
        ("pipeline as the camera runs it (defaults)", FramePipeline()),
    ]
    print(
        f"{'decoder':48} {'hit rate':>9} {'found any':>10} {'median ms':>10} {'p90 ms':>8}"
        f" {'miss median ms':>15}"
    )
    for label, decoder in decoders:
        hits, found, times, miss_times = 0, 0, [], []
        for payload, frame in samples:
            t0 = time.perf_counter()
            codes = decoder.decode(frame)
            elapsed = (time.perf_counter() - t0) * 1000
            times.append(elapsed)
            found += bool(codes)
            if any(code.text == payload for code in codes):
                hits += 1
            else:
                miss_times.append(elapsed)
        p90 = statistics.quantiles(times, n=10)[-1]
        miss = f"{statistics.median(miss_times):.1f}" if miss_times else "-"
        print(
            f"{label:48} {hits / len(samples):9.1%} {found / len(samples):10.1%}"
            f" {statistics.median(times):10.1f} {p90:8.1f} {miss:>15}"
        )


if __name__ == "__main__":
    main()
