"""Catalog search as citizens type it: characters, full pinyin, initials, English; ranked."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.catalog import Catalog, MatchTier, fold, parse_catalog_file
from service_hall.catalog import packaged_catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_delta(parse_catalog_file(packaged_catalog()))


def ids(catalog: Catalog, query: str) -> list[str]:
    return [hit.id for hit in catalog.search_index.search(query)]


@pytest.mark.parametrize(
    "query",
    [
        "csdj",
        "CSDJ",
        "chusheng",
        "chu sheng",
        "出生",
        "出生登记",
        "birth",
        "Birth registration",
        "ＢＩＲＴＨ",
        "xinshengerchushengdengji",
        "新生儿出生登记",
    ],
)
def test_the_birth_registration_is_found_every_way_people_type_it(
    catalog: Catalog, query: str
) -> None:
    assert ids(catalog, query)[0] == "hh-birth-registration"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("huzhao", "ee-passport"),
        ("hz", "ee-passport"),
        ("护照", "ee-passport"),
        ("passport", "ee-passport"),
        ("dibao", "ca-minimum-living-allowance"),  # the English name says (dibao)
        ("zdshbz", "ca-minimum-living-allowance"),  # 最低生活保障
        ("gljt", "de-longevity-allowance"),  # 高龄津贴
        ("yyzz", "mr-licence-reissue"),  # 营业执照
        ("残疾人证", "de-disability-certificate"),
    ],
)
def test_common_queries_find_the_expected_item_first(
    catalog: Catalog, query: str, expected: str
) -> None:
    assert ids(catalog, query)[0] == expected


def test_the_exact_name_beats_a_prefix_beats_initials_beats_the_summary() -> None:
    text = {"zh": "说明", "en": "About"}

    def item(item_id: str, zh: str, summary_zh: str = "说明") -> dict[str, Any]:
        return {
            "id": item_id,
            "department": "d",
            "name": {"zh": zh, "en": item_id},
            "summary": {"zh": summary_zh, "en": "about"},
            "legal_basis": text,
            "fee_fen": 0,
            "promised_working_days": 1,
            "materials": [],
            "steps": [],
            "form_fields": [],
        }

    data = {
        "departments": [{"id": "d", "name": {"zh": "某局", "en": "Bureau"}}],
        "materials": {},
        "items": [
            item("in-summary", "别的事项", summary_zh="用于护照办理"),
            item("initials", "户籍证明回执照片"),  # h…z inside the initials, not at the start
            item("prefix", "护照补发"),
            item("exact", "护照"),
            item("contains", "普通护照签发"),
        ],
        "topics": [],
    }
    catalog = Catalog.from_delta(parse_catalog_file(data))
    hits = catalog.search_index.search("护照")
    assert [h.id for h in hits] == ["exact", "prefix", "contains", "in-summary"]
    assert [h.tier for h in hits] == [
        MatchTier.EXACT_NAME,
        MatchTier.NAME_PREFIX,
        MatchTier.NAME_CONTAINS,
        MatchTier.SUMMARY,
    ]
    pinyin_hits = catalog.search_index.search("hz")
    assert pinyin_hits[0].id == "exact"
    assert "initials" in [h.id for h in pinyin_hits]
    assert {h.tier for h in pinyin_hits if h.id == "initials"} == {MatchTier.PINYIN}


def test_english_matches_words_not_across_them(catalog: Catalog) -> None:
    assert "ss-rural-urban-pension" not in ids(catalog, "sb")  # "residents basic"
    assert "hh-birth-registration" in ids(catalog, "registration")


def test_pinyin_matches_whole_syllables(catalog: Catalog) -> None:
    assert "hh-birth-registration" not in ids(catalog, "engde")  # sh|eng de|ng


def test_topics_are_found_and_can_be_left_out(catalog: Catalog) -> None:
    assert "topic-newborn" in ids(catalog, "新生儿")
    only_items = catalog.search_index.search("新生儿", kinds=("item",))
    assert all(h.kind == "item" for h in only_items)


def test_department_names_find_their_items(catalog: Catalog) -> None:
    found = ids(catalog, "出入境")
    assert {"ee-passport", "ee-hk-macao-permit", "ee-hk-macao-endorsement"} <= set(found)


def test_empty_and_unmatched_queries_give_nothing(catalog: Catalog) -> None:
    for query in ("", "   ", "？！", "zzzzzz", "量子计算机"):
        assert catalog.search_index.search(query) == ()
    assert catalog.search_index.search("csdj", limit=0) == ()


def test_the_index_is_built_once_per_catalog(catalog: Catalog) -> None:
    assert catalog.search_index is catalog.search_index


def test_fold_ignores_case_width_and_punctuation() -> None:
    assert fold("  Ｈｅｌｌｏ，World! ") == "hello world"
    assert fold("新生儿（出生）") == "新生儿 出生"


@settings(max_examples=300, deadline=None)
@given(query=st.text(max_size=200), limit=st.integers(min_value=-3, max_value=50))
def test_search_never_raises(catalog: Catalog, query: str, limit: int) -> None:
    hits = catalog.search_index.search(query, limit=limit)
    assert len(hits) <= max(limit, 0)
    tiers = [h.tier for h in hits]
    assert tiers == sorted(tiers)
