"""The catalog in the core: parsing the hall's JSON (both shapes), deltas, lookups, merged topic
forms, and the "most used" list stored in SQLite."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from kiosk.catalog import (
    Catalog,
    CatalogError,
    FieldType,
    MaterialForm,
    UsageCount,
    most_used,
    parse_catalog_answer,
    parse_catalog_file,
    read_usage,
    record_submission,
)
from kiosk.storage import Database, Migration
from service_hall.catalog import expand, packaged_catalog


def sample_file() -> dict[str, Any]:
    return packaged_catalog()


def full_answer(data: dict[str, Any] | None = None, version: int = 1) -> dict[str, Any]:
    """The hall's /catalog?since_version=0 answer for `data`, as the hall builds it."""
    expanded = expand(data or sample_file())
    return {
        "version": version,
        "since_version": 0,
        "full": True,
        "departments": [{**d, "version": version} for d in expanded["department"]],
        "items": [{**i, "version": version} for i in expanded["item"]],
        "topics": [{**t, "version": version} for t in expanded["topic"]],
        "removed": {"departments": [], "items": [], "topics": []},
    }


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_delta(parse_catalog_answer(full_answer()))


# ---- the real sample catalog ---------------------------------------------------------------


def test_the_sample_file_and_the_hall_answer_give_the_same_catalog(catalog: Catalog) -> None:
    from_file = Catalog.from_delta(parse_catalog_file(sample_file()))
    assert (len(catalog.departments), len(catalog.items), len(catalog.topics)) == (7, 26, 5)
    assert [i.id for i in from_file.items] == [i.id for i in catalog.items]
    assert from_file.require_item("ee-passport") == replace(
        catalog.require_item("ee-passport"), version=0
    )


def test_an_item_carries_its_guide(catalog: Catalog) -> None:
    birth = catalog.require_item("hh-birth-registration")
    assert birth.name.zh == "新生儿出生登记"
    assert birth.name.en == "Birth registration of a newborn"
    assert birth.department == "household"
    assert "户口登记条例" in birth.legal_basis.zh
    assert (birth.fee_fen, birth.promised_working_days) == (0, 3)
    forms = {m.code: m.form for m in birth.materials}
    assert forms == {
        "birth-medical-certificate": MaterialForm.PAPER_ORIGINAL,
        "household-register": MaterialForm.E_LICENCE,
        "marriage-certificate": MaterialForm.E_LICENCE,
        "id-card": MaterialForm.E_COPY,
    }
    register = next(m for m in birth.materials if m.code == "household-register")
    assert register.elicence_type == "household_register"
    assert register.name.zh == "居民户口簿"
    assert len(birth.steps) == 4
    sex = birth.field("child_sex")
    assert sex is not None
    assert sex.type == FieldType.CHOICE
    assert sex.required
    assert sex.choice_values == ("male", "female")
    persons = catalog.require_item("hh-move-in").field("persons")
    assert persons is not None
    assert (persons.minimum, persons.maximum) == (1, 10)
    assert catalog.require_item("ee-passport").fee_fen == 12000


def test_lookups_by_department_topic_and_id(catalog: Catalog) -> None:
    household = catalog.items_of_department("household")
    assert {i.id for i in household} >= {"hh-birth-registration", "hh-move-in"}
    assert all(i.department == "household" for i in household)
    assert [i.id for i in catalog.items_of_topic("topic-newborn")] == [
        "hh-birth-registration",
        "ss-card-first-application",
    ]
    assert [t.id for t in catalog.topics_with_item("hh-birth-registration")] == ["topic-newborn"]
    assert catalog.item("no-such-item") is None
    assert catalog.items_of_topic("no-such-topic") == ()
    with pytest.raises(CatalogError, match="no-such-item"):
        catalog.require_item("no-such-item")


def test_a_topic_asks_a_shared_question_once(catalog: Catalog) -> None:
    form = catalog.form_for_topic("topic-travel-abroad")
    phone = form.slot("emergency_contact_phone")
    assert phone is not None
    assert phone.item_ids == ("ee-passport", "ee-hk-macao-permit")
    assert form.keys.count("emergency_contact_phone") == 1


def test_same_named_choices_with_different_options_stay_two_questions(catalog: Catalog) -> None:
    form = catalog.form_for_topic("topic-travel-abroad")
    assert "kind" not in form.keys
    passport = form.slot("ee-passport.kind")
    permit = form.slot("ee-hk-macao-permit.kind")
    assert passport is not None
    assert permit is not None
    assert "lost" in passport.field.choice_values
    assert "lost" not in permit.field.choice_values
    assert permit.item_name is not None
    assert "港澳" in permit.item_name.zh


def test_every_sample_topic_merges(catalog: Catalog) -> None:
    for topic in catalog.topics:
        form = catalog.form_for_topic(topic.id)
        names = {f.name for i in catalog.items_of_topic(topic.id) for f in i.form_fields}
        assert {s.field.name for s in form.slots} == names


# ---- merging rules on hand-made data --------------------------------------------------------


def small_file() -> dict[str, Any]:
    """Two departments, three items, one topic: small enough to read in a failing test."""
    label = {"zh": "标签", "en": "Label"}
    text = {"zh": "文字", "en": "Text"}

    def item(item_id: str, fields: list[dict[str, Any]], fee: int = 0) -> dict[str, Any]:
        return {
            "id": item_id,
            "department": "dep-a",
            "name": {"zh": f"事项{item_id}", "en": f"Item {item_id}"},
            "summary": text,
            "legal_basis": text,
            "fee_fen": fee,
            "promised_working_days": 2,
            "materials": [["id-card", "e_copy"]],
            "steps": [text],
            "form_fields": fields,
        }

    return {
        "departments": [
            {"id": "dep-a", "name": {"zh": "甲局", "en": "Bureau A"}},
            {"id": "dep-b", "name": {"zh": "乙局", "en": "Bureau B"}},
        ],
        "materials": {"id-card": {"zh": "身份证", "en": "ID card"}},
        "items": [
            item(
                "one",
                [
                    {"name": "count", "type": "number", "min": 1, "max": 10, "label": label},
                    {"name": "note", "type": "text", "max_length": 50, "label": label},
                ],
            ),
            item(
                "two",
                [
                    {
                        "name": "count",
                        "type": "number",
                        "min": 5,
                        "max": 20,
                        "required": True,
                        "label": label,
                    },
                    {"name": "note", "type": "text", "max_length": 20, "label": label},
                ],
            ),
            item("three", []),
        ],
        "topics": [
            {"id": "both", "name": label, "summary": text, "items": ["one", "two"]},
        ],
    }


def test_merged_number_takes_the_narrowest_bounds_and_any_requirement() -> None:
    catalog = Catalog.from_delta(parse_catalog_file(small_file()))
    count = catalog.form_for_topic("both").slot("count")
    assert count is not None
    assert (count.field.minimum, count.field.maximum, count.field.required) == (5, 10, True)
    note = catalog.form_for_topic("both").slot("note")
    assert note is not None
    assert note.field.max_length == 20


def test_conflicting_types_in_a_topic_are_refused_at_load() -> None:
    data = small_file()
    data["items"][1]["form_fields"][0]["type"] = "date"
    data["items"][1]["form_fields"][0].pop("min")
    data["items"][1]["form_fields"][0].pop("max")
    with pytest.raises(CatalogError, match=r"topic 'both'.*'count'.*'one'.*'two'"):
        Catalog.from_delta(parse_catalog_file(data))


def test_number_bounds_without_overlap_are_refused() -> None:
    data = small_file()
    data["items"][1]["form_fields"][0]["min"] = 11
    with pytest.raises(CatalogError, match="count"):
        Catalog.from_delta(parse_catalog_file(data))


# ---- malformed JSON names the entry and the field -------------------------------------------


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda d: d["items"][0]["name"].pop("en"), r"item 'one': name\.en"),
        (lambda d: d["items"][0].__setitem__("fee_fen", "12"), r"item 'one': fee_fen"),
        (lambda d: d["items"][0].__setitem__("fee_fen", -1), r"item 'one': fee_fen"),
        (
            lambda d: d["items"][0]["form_fields"][0].__setitem__("type", "colour"),
            r"item 'one': form_fields\[0\]\(count\)\.type is 'colour'",
        ),
        (lambda d: d["items"][0]["materials"].append(["id-card", "photocopy"]), r"item 'one'"),
        (
            lambda d: d["items"][0]["materials"].__setitem__(0, ["passport", "e_copy"]),
            r"item 'one': materials\[0\] names material 'passport'",
        ),
        (
            lambda d: d["items"][0].__setitem__("department", "dep-z"),
            r"item 'one': department 'dep-z'",
        ),
        (lambda d: d["topics"][0]["items"].append("nine"), r"topic 'both': items nine"),
        (lambda d: d["items"][2].pop("id"), r"item number 3"),
        (lambda d: d["items"].append(copy.deepcopy(d["items"][0])), r"item 'one' appears twice"),
        (
            lambda d: d["items"][0]["form_fields"].append(
                {"name": "c", "type": "choice", "label": {"zh": "x", "en": "x"}, "choices": []}
            ),
            r"form_fields\[2\]\(c\)\.choices",
        ),
    ],
)
def test_a_malformed_catalog_is_refused_with_a_plain_pointer(break_it: Any, expected: str) -> None:
    data = small_file()
    break_it(data)
    with pytest.raises(CatalogError, match=expected):
        Catalog.from_delta(parse_catalog_file(data))


def test_a_non_object_answer_is_refused() -> None:
    with pytest.raises(CatalogError):
        parse_catalog_answer(["not", "an", "object"])
    with pytest.raises(CatalogError, match="version"):
        parse_catalog_answer({"items": []})


# ---- deltas ---------------------------------------------------------------------------------


def test_a_delta_changes_adds_and_removes(catalog: Catalog) -> None:
    answer = full_answer()
    passport = next(i for i in answer["items"] if i["id"] == "ee-passport")
    changed = {**passport, "fee_fen": 14000, "version": 2}
    added = {**passport, "id": "ee-travel-document", "version": 2}
    delta = parse_catalog_answer(
        {
            "version": 2,
            "since_version": 1,
            "full": False,
            "departments": [],
            "items": [changed, added],
            "topics": [],
            "removed": {"departments": [], "items": [], "topics": ["topic-disability"]},
        }
    )
    newer = catalog.apply(delta)
    assert newer.version == 2
    assert newer.require_item("ee-passport").fee_fen == 14000
    assert newer.require_item("ee-passport").version == 2
    assert newer.items[-1].id == "ee-travel-document"
    assert [i.id for i in newer.items[:-1]] == [i.id for i in catalog.items]
    assert newer.topic("topic-disability") is None
    assert catalog.require_item("ee-passport").fee_fen == 12000  # the old value is untouched


def test_a_delta_for_another_version_is_refused(catalog: Catalog) -> None:
    delta = parse_catalog_answer({"version": 9, "since_version": 7, "full": False})
    with pytest.raises(CatalogError, match="since_version=1"):
        catalog.apply(delta)


def test_a_delta_that_leaves_a_topic_dangling_is_refused(catalog: Catalog) -> None:
    delta = parse_catalog_answer(
        {
            "version": 2,
            "since_version": 1,
            "full": False,
            "removed": {"items": ["hh-birth-registration"]},
        }
    )
    with pytest.raises(CatalogError, match="topic-newborn"):
        catalog.apply(delta)


def test_a_full_answer_replaces_everything(catalog: Catalog) -> None:
    replaced = catalog.apply(parse_catalog_file(small_file()))
    assert [i.id for i in replaced.items] == ["one", "two", "three"]


# ---- the cached copy ------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedEntry:
    id: str
    version: int
    data: Mapping[str, Any]


class RecordedCache:
    """Hand-written stand-in for backend_client's SQLite cache: answers from a hall answer."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self._version = answer["version"]
        plural = {"department": "departments", "item": "items", "topic": "topics"}
        self._entries = {
            kind: [CachedEntry(e["id"], e["version"], e) for e in answer[key]]
            for kind, key in plural.items()
        }

    def version(self) -> int:
        return int(self._version)

    def entries(self, kind: str) -> list[CachedEntry]:
        return sorted(self._entries[kind], key=lambda e: e.id)


def test_the_catalog_loads_from_the_cache(catalog: Catalog) -> None:
    cached = Catalog.from_cache(RecordedCache(full_answer(version=4)))
    assert cached.version == 4
    assert {i.id for i in cached.items} == {i.id for i in catalog.items}
    assert cached.form_for_topic("topic-newborn") == catalog.form_for_topic("topic-newborn")


# ---- usage counts and "most used" -----------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A database holding this area's migration only, so the test does not depend on others'."""
    sql = (
        resources.files("kiosk.storage.migrations")
        .joinpath("0005_catalog_usage.sql")
        .read_text("utf-8")
    )
    database = Database.open(tmp_path / "t.sqlite3", migrations=[Migration(1, "usage", sql)])
    yield database
    database.close()


def test_the_packaged_migrations_include_the_usage_table(tmp_path: Path) -> None:
    with Database.open(tmp_path / "full.sqlite3") as database, database.snapshot() as reader:
        assert read_usage(reader) == ()


def test_uses_are_counted_per_item_and_topic(db: Database) -> None:
    with db.transaction() as tx:
        record_submission(
            tx,
            ["hh-birth-registration", "ss-card-first-application"],
            1_000,
            topic_id="topic-newborn",
        )
    with db.transaction() as tx:
        record_submission(tx, ["ee-passport"], 2_000)
    with db.transaction() as tx:
        record_submission(tx, ["ee-passport", "ee-passport"], 3_000)
    with db.snapshot() as reader:
        usage = read_usage(reader)
    assert usage[0] == UsageCount("item", "ee-passport", 2, 3_000)
    assert UsageCount("topic", "topic-newborn", 1, 1_000) in usage
    assert len(usage) == 4


def test_a_rolled_back_submission_is_not_counted(db: Database) -> None:
    def submit_and_fail() -> None:
        with db.transaction() as tx:
            record_submission(tx, ["ee-passport"], 1_000)
            raise RuntimeError("the submission failed")

    with pytest.raises(RuntimeError):
        submit_and_fail()
    with db.snapshot() as reader:
        assert read_usage(reader) == ()


def test_most_used_puts_counted_items_first_then_the_default_order(catalog: Catalog) -> None:
    usage = [
        UsageCount("item", "ee-passport", 5, 100),
        UsageCount("item", "gi-disclosure-request", 5, 200),
        UsageCount("item", "withdrawn-item", 50, 300),
        UsageCount("topic", "topic-newborn", 90, 300),
    ]
    listed = [
        i.id for i in most_used(catalog, usage, count=5, preferred=["de-longevity-allowance"])
    ]
    assert listed == [
        "gi-disclosure-request",  # same count, used more recently
        "ee-passport",
        "de-longevity-allowance",  # the terminal's preferred order
        "hh-birth-registration",  # then the life events' items
        "ss-card-first-application",
    ]


def test_most_used_on_a_new_terminal_follows_the_life_events(catalog: Catalog) -> None:
    listed = most_used(catalog, (), count=30)
    assert len(listed) == len(catalog.items)
    assert listed[0].id == catalog.topics[0].item_ids[0]
    assert most_used(Catalog.empty(), ()) == ()
