"""Hand-written fakes for the apply flow tests (no tests here): catalog, form rules, a clock."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime

from kiosk.apply.ports import (
    ChoiceSpec,
    DepartmentSpec,
    FieldSpec,
    ItemSpec,
    MaterialSpec,
    SearchHit,
    TopicSpec,
)
from kiosk.i18n import LocalizedText as L
from kiosk.ports.identity import Identity

ID_CARD = MaterialSpec("id-card", L("居民身份证", "ID card"), "e_copy", pages=2)
HOUSEHOLD = MaterialSpec(
    "household-register", L("户口簿", "Household register"), "e_licence", "household_register"
)
OLD_PASSPORT = MaterialSpec("old-passport", L("原护照", "Old passport"), "paper_original")
APPLICATION_FORM = MaterialSpec(
    "application-form", L("申请表", "Application form"), "paper_original"
)
HOUSING = MaterialSpec("housing-proof", L("住所证明", "Proof of address"), "e_copy", pages=2)
PHOTO = MaterialSpec("photo", L("照片", "Photo"), "e_copy")

REASON = FieldSpec(
    "reason",
    "choice",
    L("原因", "Reason"),
    choices=(ChoiceSpec("lost", L("遗失", "Lost")), ChoiceSpec("damaged", L("损坏", "Damaged"))),
)
HOLDER = FieldSpec("holder_name", "text", L("姓名", "Name"), max_length=20)
PERSONS = FieldSpec("persons", "number", L("人数", "Persons"), min_value=1, max_value=10)
EMERGENCY = FieldSpec("emergency_contact_phone", "phone", L("紧急联系人电话", "Emergency phone"))
KIND_PASSPORT = FieldSpec(
    "kind", "choice", L("类别", "Kind"), choices=(ChoiceSpec("first", L("首次", "First")),)
)
KIND_PERMIT = FieldSpec(
    "kind", "choice", L("类别", "Kind"), choices=(ChoiceSpec("renew", L("换发", "Renewal")),)
)


def item(
    item_id: str,
    *,
    materials: tuple[MaterialSpec, ...],
    fields: tuple[FieldSpec, ...],
    fee_fen: int = 0,
    pay_at_pickup: bool = False,
    department: str = "household",
    days: int = 5,
) -> ItemSpec:
    return ItemSpec(
        id=item_id,
        department_id=department,
        name=L(f"事项{item_id}", f"Item {item_id}"),
        summary=L("摘要", "Summary"),
        legal_basis=L("某条例第七条", "Regulation, Art. 7"),
        fee_fen=fee_fen,
        promised_working_days=days,
        steps=(L("第一步", "Step one"), L("第二步", "Step two")),
        materials=materials,
        fields=fields,
        fee_basis=L("收费文件", "Charging notice") if fee_fen else None,
        pay_at_pickup=pay_at_pickup,
    )


# Paper original only, one choice field: the happy path without e-copies.
REISSUE = item("reissue", materials=(ID_CARD, APPLICATION_FORM), fields=(REASON,))
# A fee, paper and e-copies.
PASSPORT = item(
    "passport",
    materials=(ID_CARD, PHOTO, OLD_PASSPORT),
    fields=(KIND_PASSPORT, EMERGENCY),
    fee_fen=12000,
    pay_at_pickup=True,
    department="exit-entry",
)
PERMIT = item(
    "permit",
    materials=(ID_CARD, PHOTO),
    fields=(KIND_PERMIT, EMERGENCY),
    fee_fen=6000,
    pay_at_pickup=True,
    department="exit-entry",
)
MOVE_IN = item("move-in", materials=(HOUSING, HOUSEHOLD, APPLICATION_FORM), fields=(PERSONS,))
NAMED = item("named", materials=(APPLICATION_FORM,), fields=(HOLDER, REASON))
TRAVEL = TopicSpec(
    "topic-travel", L("出境“一件事”", "Travel"), L("一次办", "At once"), ("passport", "permit")
)


class FakeCatalog:
    def __init__(self) -> None:
        self._items = {i.id: i for i in (REISSUE, PASSPORT, PERMIT, MOVE_IN, NAMED)}
        self._departments = {
            "household": DepartmentSpec("household", L("户政", "Household registration")),
            "exit-entry": DepartmentSpec("exit-entry", L("出入境", "Exit and entry")),
        }
        self._topics = {TRAVEL.id: TRAVEL}

    def departments(self) -> Sequence[DepartmentSpec]:
        return list(self._departments.values())

    def department(self, department_id: str) -> DepartmentSpec | None:
        return self._departments.get(department_id)

    def items_of(self, department_id: str) -> Sequence[ItemSpec]:
        return [i for i in self._items.values() if i.department_id == department_id]

    def topics(self) -> Sequence[TopicSpec]:
        return list(self._topics.values())

    def item(self, item_id: str) -> ItemSpec | None:
        return self._items.get(item_id)

    def topic(self, topic_id: str) -> TopicSpec | None:
        return self._topics.get(topic_id)

    def most_used(self, limit: int) -> Sequence[ItemSpec]:
        return list(self._items.values())[:limit]

    def search(self, query: str, limit: int) -> Sequence[SearchHit]:
        hits: list[SearchHit] = [
            i for i in self._items.values() if query.lower() in i.name.en.lower()
        ]
        hits.extend(t for t in self._topics.values() if query.lower() in t.name.en.lower())
        return hits[:limit]


class FakeForms:
    """Enough of the real rules to exercise the flow: prefill the name, check phones, numbers."""

    def prefill(self, spec: FieldSpec, identity: Identity) -> str | None:
        return identity.name if spec.name == "holder_name" else None

    def validate(self, spec: FieldSpec, value: str) -> L | None:
        if spec.kind == "phone" and not re.fullmatch(r"1[3-9]\d{9}", value):
            return L("请输入11位手机号码", "Enter an 11-digit mobile number")
        if spec.kind == "number":
            try:
                number = float(value)
            except ValueError:
                return L("请输入数字", "Enter a number")
            if spec.min_value is not None and number < spec.min_value:
                return L("数值太小", "Too small")
            if spec.max_value is not None and number > spec.max_value:
                return L("数值太大", "Too large")
        if spec.kind == "choice" and value not in {c.value for c in spec.choices}:
            return L("请选择一项", "Choose one")
        return None

    def display(self, spec: FieldSpec, value: str) -> L:
        for choice in spec.choices:
            if choice.value == value:
                return choice.label
        return L(value, value)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wall_clock() -> datetime:
    return datetime(2025, 6, 6, 21, 30, tzinfo=UTC)  # a Friday night


PROMISED_REISSUE = date(2025, 6, 13)  # five working days after Friday 6 June

ZHANG = Identity(
    name="张秀英",
    id_number="430821198503120023",
    source="id_card",
    gender="female",
    birth_date=date(1985, 3, 12),
)
LI = Identity(name="李华", id_number="430821199001010017", source="id_card")
SS_CARD_HOLDER = Identity(
    name="王芳", id_number="43082119880808002X", source="social_security_card"
)
