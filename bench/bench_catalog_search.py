"""Figures for catalog search: index build (pinyin of every name) and time per keystroke.

Run: .venv/bin/python bench/bench_catalog_search.py   (prints figures; asserts nothing)
Measured on the sample catalog (26 items, 5 topics) and on a catalog grown to ~500 items by
copying the sample's items under new ids — a county's full list of services is of that order.
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Any

from kiosk.catalog import Catalog, parse_catalog_file
from service_hall.catalog import packaged_catalog

QUERIES = [
    "c",
    "cs",
    "csd",
    "csdj",
    "chusheng",
    "出生",
    "出生登记",
    "birth",
    "hz",
    "护照",
    "民政",
    "zzzz",
    "社会保障卡",
    "dibao",
    "营业执照补领",
]
ROUNDS = 50


def grown(copies: int) -> dict[str, Any]:
    data = packaged_catalog()
    items = []
    for n in range(copies):
        for item in data["items"]:
            clone = copy.deepcopy(item)
            clone["id"] = f"{item['id']}-{n}"
            items.append(clone)
    data["items"] = items
    for topic in data["topics"]:
        topic["items"] = [f"{i}-0" for i in topic["items"]]
    return data


def measure(label: str, data: dict[str, Any]) -> None:
    catalog = Catalog.from_delta(parse_catalog_file(data))
    started = time.perf_counter()
    index = catalog.search_index
    build_ms = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(ROUNDS):
        for query in QUERIES:
            t0 = time.perf_counter()
            index.search(query)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(
        f"{label:<28} items={len(catalog.items):>4}  index build {build_ms:7.1f} ms  "
        f"query p50 {p50:6.3f} ms  p99 {p99:6.3f} ms  max {samples[-1]:6.3f} ms"
    )


def main() -> None:
    t0 = time.perf_counter()
    Catalog.from_delta(parse_catalog_file(packaged_catalog())).search_index.search("x")
    print(f"first use incl. pypinyin dictionary load: {(time.perf_counter() - t0) * 1000:.0f} ms")
    measure("sample catalog", packaged_catalog())
    measure("grown catalog (x20)", grown(20))


if __name__ == "__main__":
    main()
