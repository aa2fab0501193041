"""Public notices: packaged sample, configured file, rotation, errors that name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.notices import (
    TERMINAL_NOTICE_ID,
    NoticeBoard,
    NoticesError,
    load_notices,
    parse_notices,
)

GOOD = """
[[notice]]
id = "hours"
title_zh = "开放时间"
title_en = "Opening hours"
body_zh = "全天24小时开放。"
body_en = "Open 24 hours a day."

[[notice]]
id = "holiday"
title_zh = "节假日"
title_en = "Holidays"
body_zh = "节假日照常开放。"
body_en = "Open on public holidays too."
issued_by_zh = "服务中心"
issued_by_en = "Service centre"
"""


def test_packaged_sample_is_bilingual_and_complete() -> None:
    notices = load_notices("")
    assert len(notices) >= 3
    for notice in notices:
        texts = (notice.title.zh, notice.title.en, notice.body.zh, notice.body.en)
        assert all(texts), notice.id
    assert len({notice.id for notice in notices}) == len(notices)


def test_configured_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notices.toml"
    path.write_text(GOOD, encoding="utf-8")
    notices = load_notices(str(path))
    assert [n.id for n in notices] == ["hours", "holiday"]
    assert notices[0].issued_by is None
    assert notices[1].issued_by is not None
    assert notices[1].issued_by.en == "Service centre"


def test_rotation_follows_the_clock() -> None:
    board = NoticeBoard(parse_notices(GOOD.encode(), "test"), rotate_every_s=8)
    picks = [board.current(t) for t in (0.0, 7.9, 8.0, 15.9, 16.0)]
    assert [pick[0] for pick in picks if pick] == [0, 0, 1, 1, 0]
    assert NoticeBoard((), rotate_every_s=8).current(100.0) is None


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(NoticesError, match=r"nope\.toml.*cannot be read"):
        load_notices(str(missing))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[[notice]\n", "not valid TOML"),
        ('[[notice]]\ntitle_zh = "x"\n', "needs an 'id'"),
        (GOOD.replace('body_en = "Open 24 hours a day."', ""), "'body_en'"),
        (GOOD.replace('title_en = "Holidays"', 'title_en = "  "'), "'title_en'"),
        (GOOD.replace('id = "holiday"', 'id = "hours"'), "two notices have the id 'hours'"),
        ('colour = "red"\n' + GOOD, "unknown top-level key 'colour'"),
        (GOOD.replace('id = "hours"', 'id = "hours"\ntitel_zh = "x"'), "unknown key 'titel_zh'"),
    ],
)
def test_bad_files_say_what_to_fix(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "centre-notices.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NoticesError, match=r"centre-notices\.toml") as caught:
        load_notices(str(path))
    assert complaint in str(caught.value)


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes("标题".encode("gbk"))
    with pytest.raises(NoticesError, match="not UTF-8"):
        load_notices(str(path))


def test_a_terminal_notice_comes_first_in_both_languages_and_goes_when_emptied() -> None:
    board = NoticeBoard(parse_notices(GOOD.encode(), "test"), rotate_every_s=8)
    files = len(board.notices)
    with_notice = board.with_terminal_notice("本机周二维护。", "")
    assert len(with_notice.notices) == files + 1
    first = with_notice.notices[0]
    assert first.id == TERMINAL_NOTICE_ID
    assert (first.body.zh, first.body.en) == ("本机周二维护。", "本机周二维护。")
    assert with_notice.current(0.0) == (0, first)
    changed = with_notice.with_terminal_notice("", "Closed on Tuesday.")
    assert len(changed.notices) == files + 1  # replaced, not added twice
    assert changed.notices[0].body.en == "Closed on Tuesday."
    assert changed.with_terminal_notice(" ", "").notices == board.notices


def test_rotation_speed_can_change_without_touching_the_notices() -> None:
    board = NoticeBoard(parse_notices(GOOD.encode(), "test"), rotate_every_s=8)
    faster = board.rotating_every(1)
    assert len(board.notices) >= 2
    assert faster.notices == board.notices
    assert board.current(1.0)[0] == 0  # type: ignore[index]
    assert faster.current(1.0)[0] == 1  # type: ignore[index]
