"""The camera's preview copy: a picture the UI thread can upload as it is."""

from __future__ import annotations

import numpy as np

from devices.camera.driver import preview_copy


def test_a_full_hd_frame_becomes_a_contiguous_preview_of_the_same_shape() -> None:
    frame = np.zeros((1080, 1920, 3), dtype=np.uint8)
    frame[:, 960:] = (10, 200, 30)
    preview = preview_copy(frame, 960)
    assert preview.shape == (540, 960, 3)
    assert preview.flags.c_contiguous
    assert preview[270, 100].tolist() == [0, 0, 0]
    assert preview[270, 900].tolist() == [10, 200, 30]


def test_fine_detail_is_averaged_not_sampled() -> None:
    """Every other pixel taken from 1-px stripes would be all black or all white; averaged, the
    preview shows the grey a person sees from a distance."""
    stripes = np.zeros((1080, 1920, 3), dtype=np.uint8)
    stripes[:, ::2] = 255
    preview = preview_copy(stripes, 960)
    assert 120 <= int(preview.mean()) <= 135


def test_small_frames_and_a_zero_width_are_left_as_they_are() -> None:
    small = np.zeros((480, 640, 3), dtype=np.uint8)
    assert preview_copy(small, 960) is small
    full = np.zeros((1080, 1920, 3), dtype=np.uint8)
    assert preview_copy(full, 0) is full
