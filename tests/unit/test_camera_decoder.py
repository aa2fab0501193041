"""Decoding codes from images: both engines, the camera pipeline, payload edge cases, garbage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from devices.camera.decoder import (
    QR_ONLY,
    FramePipeline,
    PyzbarDecoder,
    ZxingDecoder,
    decode_still,
)
from devices.camera.driver import DuplicateFilter
from devices.camera.messages import DecodedCode, text_and_raw
from firmware_stubs.camera import (
    Degradation,
    code_image,
    render_code_scene,
    structured_append_qr,
)

ENGINES = [ZxingDecoder, PyzbarDecoder]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "payload",
    ["PICKUP-20240611-0042", "https://zwfw.example.gov.cn/r/8812", "慈利县 受理编号 004217"],
)
def test_each_engine_reads_a_clean_qr_code_with_the_exact_text(engine: type, payload: str) -> None:
    codes = engine(QR_ONLY).decode(code_image(payload))

    assert codes == (DecodedCode("QRCode", payload, None),)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_payload_that_is_not_utf8_keeps_its_bytes(engine: type) -> None:
    payload = b"\xb9\xe3\xd6\xdd\x00\xff binary"

    (code,) = engine(QR_ONLY).decode(code_image(payload))

    assert code.raw == payload
    assert isinstance(code.text, str)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("code_format", "payload"), [("Code128", "SF1234567890"), ("EAN13", "6901234567892")]
)
def test_one_dimensional_codes_use_zxing_names_whichever_engine(
    engine: type, code_format: str, payload: str
) -> None:
    codes = engine().decode(code_image(payload, code_format))

    assert codes == (DecodedCode(code_format, payload, None),)


def test_a_structured_append_symbol_costs_pyzbar_a_miss_not_a_crash() -> None:
    image = structured_append_qr(b"PART-ONE-OF-TWO")
    zbar = PyzbarDecoder(QR_ONLY)

    assert zbar.decode(image) == ()
    assert zbar.failures == 1
    assert ZxingDecoder(QR_ONLY).decode(image) == (DecodedCode("QRCode", "PART-ONE-OF-TWO"),)


def test_still_images_fall_back_to_the_second_engine_only_when_the_first_finds_nothing() -> None:
    frame = render_code_scene("PICKUP-7", seed=11, degradation=Degradation(blur_sigma=1.0))

    assert [code.text for code in decode_still(frame)] == ["PICKUP-7"]
    assert decode_still(np.full((200, 300, 3), 128, np.uint8)) == ()


def test_the_pipeline_reads_a_1080p_frame_from_its_downscaled_copy() -> None:
    frame = render_code_scene("PICKUP-1", seed=2, size_px=400)

    assert FramePipeline(QR_ONLY, full_every=0).decode(frame)[0].text == "PICKUP-1"


def test_the_pipeline_retries_at_full_resolution_on_every_nth_miss_for_small_codes() -> None:
    # Modules of ~1.5 px at 1080p vanish when the frame is halved: only full resolution reads it.
    frame = render_code_scene(
        "https://zwfw.example.gov.cn/receipt/000000000042?check=ABCDEFGH", seed=5, size_px=130
    )
    pipeline = FramePipeline(QR_ONLY, full_every=3)

    results = [pipeline.decode(frame) for _ in range(3)]

    assert [len(found) for found in results] == [0, 0, 1]


def test_the_pipeline_reads_a_1d_label_held_sideways_within_two_frames() -> None:
    frame = render_code_scene(
        "SF1234567890", code_format="Code128", seed=8, degradation=Degradation(rotation_deg=90)
    )
    pipeline = FramePipeline()

    found = [pipeline.decode(frame) for _ in range(2)]

    assert [code.text for codes in found for code in codes] == ["SF1234567890"]


def test_text_and_raw_keeps_text_for_utf8_and_bytes_otherwise() -> None:
    assert text_and_raw("编号 42".encode()) == ("编号 42", None)
    assert text_and_raw(b"\xff\x00", "guess") == ("guess", b"\xff\x00")
    text, raw = text_and_raw(b"\xff")
    assert raw == b"\xff"
    assert text == "\ufffd"


def test_duplicate_filter_lets_a_held_code_through_once_per_window() -> None:
    code = DecodedCode("QRCode", "PICKUP-1")
    other = DecodedCode("QRCode", "PICKUP-2")
    gate = DuplicateFilter(window_s=3.0)

    seen = [gate.admit(code, t) for t in (0.0, 0.5, 1.0, 2.9, 3.0, 3.5, 6.1)]

    assert seen == [True, False, False, False, True, False, True]
    assert gate.admit(other, 3.5)
    gate.forget()
    assert gate.admit(code, 3.6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    image=arrays(
        np.uint8,
        st.tuples(st.integers(1, 64), st.integers(1, 64), st.sampled_from([1, 3])),
        elements=st.integers(0, 255),
    )
)
def test_garbage_images_never_crash_any_decoder(image: np.ndarray) -> None:
    picture = image[:, :, 0] if image.shape[2] == 1 else image
    for decoder in (ZxingDecoder(), PyzbarDecoder(), FramePipeline(), ZxingDecoder(thorough=True)):
        for code in decoder.decode(np.ascontiguousarray(picture)):
            assert isinstance(code.text, str)


@settings(max_examples=25, deadline=None)
@given(payload=st.binary(min_size=1, max_size=60))
def test_any_payload_bytes_come_back_either_as_text_or_as_raw_bytes(payload: bytes) -> None:
    codes = ZxingDecoder(QR_ONLY).decode(code_image(payload, module_px=4))

    assert len(codes) == 1
    code = codes[0]
    assert (code.raw or code.text.encode()) == payload
