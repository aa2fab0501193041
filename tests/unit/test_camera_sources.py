"""Frame sources named by one configuration string, and the `kiosk device decode` command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bootstrap.cli import main
from devices.camera.errors import ImageUnreadable, SourceUnavailable
from devices.camera.sources import (
    CaptureSource,
    FolderSource,
    MemorySource,
    read_image,
    source_from_spec,
)
from firmware_stubs.camera import code_image, render_code_scene


def solid(value: int, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    return np.full((*size, 3), value, np.uint8)


def test_the_source_string_picks_the_kind_of_source(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    video.write_bytes(b"")

    assert source_from_spec("0").description == "camera 0"
    assert source_from_spec("rtsp://10.0.0.5/live").description == "stream rtsp://10.0.0.5/live"
    assert isinstance(source_from_spec(str(tmp_path)), FolderSource)
    assert source_from_spec(str(video)).description == f"video file {video}"


@pytest.mark.parametrize(
    ("spec", "sentence"),
    [
        ("", "no camera source is configured"),
        ("stub", "is not a camera index"),
        ("/nowhere/at/all", "is not a camera index"),
        ("/tmp/one.png", "is a single image"),
    ],
)
def test_a_wrong_source_string_fails_with_a_sentence(spec: str, sentence: str) -> None:
    with pytest.raises(SourceUnavailable, match=sentence):
        source_from_spec(spec)


def test_a_folder_source_cycles_its_images_in_name_order_and_sees_new_ones(tmp_path: Path) -> None:
    for name, value in (("b.png", 20), ("a.png", 10)):
        cv2.imwrite(str(tmp_path / name), solid(value))
    source = FolderSource(tmp_path, fps=0)
    source.open()

    first = [int(source.read()[0, 0, 0]) for _ in range(3)]
    cv2.imwrite(str(tmp_path / "c.png"), solid(30))
    later = [int(source.read()[0, 0, 0]) for _ in range(4)]

    assert first == [10, 20, 10]
    assert later == [20, 10, 20, 30]


def test_an_empty_folder_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="holds no images"):
        FolderSource(tmp_path).open()


def test_a_video_file_loops_at_its_end(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 48))
    for value in (40, 120, 200):
        writer.write(solid(value))
    writer.release()
    source = CaptureSource(str(path), fps=0)
    source.open()

    levels = [int(source.read().mean()) for _ in range(5)]
    source.close()

    assert [round(level, -1) for level in levels] == [40, 120, 200, 40, 120]


def test_a_missing_video_or_dead_stream_is_unavailable_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="check that the file exists"):
        CaptureSource(str(tmp_path / "missing.avi")).open()
    with pytest.raises(SourceUnavailable, match="not open"):
        CaptureSource("rtsp://127.0.0.1:1/x").read()


def test_the_memory_source_cycles_and_refuses_to_be_empty() -> None:
    source = MemorySource([solid(1), solid(2)])
    source.open()
    assert [int(source.read()[0, 0, 0]) for _ in range(3)] == [1, 2, 1]
    with pytest.raises(SourceUnavailable):
        MemorySource([]).open()


def test_read_image_says_what_is_wrong(tmp_path: Path) -> None:
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    with pytest.raises(ImageUnreadable, match="no such file"):
        read_image(tmp_path / "absent.png")
    with pytest.raises(ImageUnreadable, match="not an image"):
        read_image(not_image)
    with pytest.raises(ImageUnreadable, match="is a folder"):
        read_image(tmp_path)


# -- kiosk device decode ------------------------------------------------------------------------
def test_decode_prints_every_code_per_file_as_one_json_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qr = tmp_path / "receipt.png"
    cv2.imwrite(str(qr), render_code_scene("受理编号 SUB-42", seed=4))
    label = tmp_path / "label.jpg"
    cv2.imwrite(str(label), code_image("SF1234567890", "Code128"))
    binary = tmp_path / "binary.png"
    cv2.imwrite(str(binary), code_image(b"\xff\x00\xfe"))
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), solid(128))

    code = main(["device", "decode", str(qr), str(label), str(binary), str(blank)])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [entry["file"] for entry in report] == [str(qr), str(label), str(binary), str(blank)]
    assert report[0]["codes"] == [{"format": "QRCode", "text": "受理编号 SUB-42"}]
    assert report[1]["codes"] == [{"format": "Code128", "text": "SF1234567890"}]
    assert report[2]["codes"][0]["raw_hex"] == "ff00fe"
    assert report[3]["codes"] == []
    assert all(isinstance(entry["ms"], float) for entry in report)


def test_decode_of_an_unreadable_file_exits_1_with_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")

    code = main(["device", "decode", str(broken)])

    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out) == {
        "error": f"{broken}: not an image OpenCV can read (empty, damaged or another format)."
    }
    assert "Traceback" not in captured.err
