"""What the citizen must bring, photograph, or can skip, and what it costs: the materials plan.

One plan covers the chosen item or all items of a topic (submitted once). Decisions, and why:

* **Merging a topic.** A material named by several items is asked for once, in the strongest
  form any of them needs: paper original > e-copy > e-licence (an original handed in can be
  copied at the centre; the reverse cannot). One application form is printed per submission.
* **Paper originals are never replaced.** An item that asks for an original (an old passport to
  cancel, a signed form) needs the paper, even when the hall holds an e-licence of the kind.
* **E-licences and earlier e-copies replace photographs.** When the hall's lookup for this
  citizen (`POST /api/v1/elicences/lookup`) returns a valid e-licence of the material's
  `elicence_type`, or a still valid e-copy of the same material code, the plan *offers* it; the
  citizen confirms (`accepted`), and only then is nothing photographed. An e-licence is offered
  before an earlier e-copy (it is the authoritative record). A material the item wants as an
  e-licence that the hall does not hold (or that the citizen declines) is photographed instead,
  so the application can still go.
* **The phone on file.** The same answer carries `phone_on_file`: the mobile the platform holds
  for this identity (verified, or given with the citizen's latest submission), or null. It only
  pre-fills the form's phone for the citizen to confirm or change; a missing key (an older hall)
  reads as null, so the terminal works with halls that predate it.
* **Pages per e-copy.** The catalog's `pages` when given; else two for cards and booklets whose
  back or second page matters (ID card front and back; social-security card; household
  register: the household page and the applicant's page; residence permit), one otherwise. A
  bank card is one page on purpose: its back carries the security code.
* **Compartment size** from the number of paper originals handed in: none → no compartment;
  1–2 → S; 3–4 → M; 5 or more → L (an S compartment takes a document pouch of a few sheets or
  one booklet). Reservation falls back to a larger size when none of this size is free.
* **Fee.** The sum of the items' `fee_fen`, shown as "¥12.00" (or 免费 / Free) with each item's
  legal basis. "Pay at pickup" is allowed when every item with a fee allows it: the item's
  `pay_at_pickup` when the catalog states it; otherwise only if its result is collected here
  (a step mentions the pickup code, 取件码) and none of its steps asks to pay while applying
  (缴费 / 缴纳 — the fee is then due before the desk starts work).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from kiosk.catalog import Material, MaterialForm, ServiceItem
from kiosk.i18n import LocalizedText
from kiosk.ports.lockers import CompartmentSize

DEFAULT_PAGES: Final[Mapping[str, int]] = {
    "id-card": 2,
    "social-security-card": 2,
    "household-register": 2,
    "residence-permit": 2,
}
_FORM_STRENGTH: Final = {
    MaterialForm.E_LICENCE: 0,
    MaterialForm.E_COPY: 1,
    MaterialForm.PAPER_ORIGINAL: 2,
}


class MaterialsError(ValueError):
    """The hall's e-licence lookup answer is malformed; the message names the field."""


class Handling(StrEnum):
    HAND_IN = "hand_in"  # paper original into a locker compartment
    CAPTURE = "capture"  # photographed by the terminal
    PULL_ELICENCE = "pull_elicence"  # the hall's e-licence, accepted by the citizen
    REUSE_ECOPY = "reuse_ecopy"  # an earlier e-copy held by the hall, accepted by the citizen


# ---- what the hall holds for this citizen -----------------------------------------------


@dataclass(frozen=True)
class ElicenceOnFile:
    id: str
    licence_type: str
    number: str
    title: LocalizedText
    issuer: str
    valid_until: date | None

    def valid_on(self, day: date) -> bool:
        return self.valid_until is None or self.valid_until >= day


@dataclass(frozen=True)
class ReusableECopy:
    id: str
    material_code: str
    valid_until: date

    def valid_on(self, day: date) -> bool:
        return self.valid_until >= day


@dataclass(frozen=True)
class PhoneOnFile:
    """The mobile the hall holds for the card holder: a suggestion the citizen confirms.

    `masked` ("138****8000") is what the screen shows, so a passer-by does not read the number;
    `source` is `registry` (verified by the platform) or `earlier_submission`.
    """

    phone: str
    masked: str
    source: str
    updated_at: datetime | None = None


@dataclass(frozen=True)
class OnFile:
    """The lookup answer: e-licences, reusable e-copies and the phone of the card holder."""

    elicences: tuple[ElicenceOnFile, ...] = ()
    reusable_ecopies: tuple[ReusableECopy, ...] = ()
    phone: PhoneOnFile | None = None


def parse_elicence_lookup(document: object) -> OnFile:
    """The hall's `/elicences/lookup` answer as values; `MaterialsError` names a bad field."""
    if not isinstance(document, Mapping):
        raise MaterialsError("The e-licence lookup answer is not a JSON object.")
    elicences = []
    for n, raw in enumerate(_list(document, "elicences")):
        where = f"elicences[{n}]"
        title = _mapping(raw, where).get("title")
        if not isinstance(title, Mapping):
            raise MaterialsError(f"The e-licence lookup answer's {where}.title is not {{zh, en}}.")
        elicences.append(
            ElicenceOnFile(
                id=_text(raw, "id", where),
                licence_type=_text(raw, "licence_type", where),
                number=_text(raw, "number", where),
                title=LocalizedText(
                    zh=_text(title, "zh", f"{where}.title"), en=_text(title, "en", f"{where}.title")
                ),
                issuer=_text(raw, "issuer", where),
                valid_until=_day(raw, "valid_until", where, optional=True),
            )
        )
    reusable = []
    for n, raw in enumerate(_list(document, "reusable_ecopies")):
        where = f"reusable_ecopies[{n}]"
        valid_until = _day(raw, "valid_until", where, optional=False)
        assert valid_until is not None
        reusable.append(
            ReusableECopy(
                id=_text(raw, "id", where),
                material_code=_text(raw, "material_code", where),
                valid_until=valid_until,
            )
        )
    return OnFile(tuple(elicences), tuple(reusable), _phone(document.get("phone_on_file")))


def _phone(raw: object) -> PhoneOnFile | None:
    if raw is None:
        return None
    where = "phone_on_file"
    phone = _text(raw, "phone", where)
    if not (phone.isascii() and phone.isdigit()):
        raise MaterialsError(f"The e-licence lookup answer's {where}.phone is {phone!r}.")
    updated_at = _mapping(raw, where).get("updated_at")
    updated: datetime | None = None
    if updated_at is not None:
        try:
            updated = datetime.fromisoformat(str(updated_at).replace("Z", "+00:00"))
        except ValueError:
            raise MaterialsError(
                f"The e-licence lookup answer's {where}.updated_at is {updated_at!r}, not a time."
            ) from None
    return PhoneOnFile(
        phone=phone,
        masked=_text(raw, "masked", where),
        source=_text(raw, "source", where),
        updated_at=updated,
    )


def _list(document: Mapping[str, object], key: str) -> list[object]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise MaterialsError(f"The e-licence lookup answer's {key} is not a list.")
    return value


def _mapping(raw: object, where: str) -> Mapping[str, object]:
    if not isinstance(raw, Mapping):
        raise MaterialsError(f"The e-licence lookup answer's {where} is not an object.")
    return raw


def _text(raw: object, key: str, where: str) -> str:
    value = _mapping(raw, where).get(key)
    if not isinstance(value, str) or not value:
        raise MaterialsError(f"The e-licence lookup answer's {where}.{key} is {value!r}.")
    return value


def _day(raw: object, key: str, where: str, *, optional: bool) -> date | None:
    value = _mapping(raw, where).get(key)
    if value is None and optional:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MaterialsError(
            f"The e-licence lookup answer's {where}.{key} is {value!r}, not a date."
        ) from None


# ---- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedMaterial:
    """One material of the submission and what happens to it.

    `offer_elicence` / `offer_ecopy` say what the hall holds that could stand in for it (shown
    with a "use it" button); `handling` is the outcome given the citizen's answers so far.
    """

    material: Material
    item_ids: tuple[str, ...]
    handling: Handling
    pages: int  # photographs still to take for it (0 unless handling is CAPTURE)
    offer_elicence: ElicenceOnFile | None = None
    offer_ecopy: ReusableECopy | None = None

    @property
    def has_offer(self) -> bool:
        return self.offer_elicence is not None or self.offer_ecopy is not None


@dataclass(frozen=True)
class FeeLine:
    item_id: str
    item_name: LocalizedText
    fen: int
    basis: LocalizedText  # the item's legal basis, shown with the amount


@dataclass(frozen=True)
class Fee:
    fen: int
    lines: tuple[FeeLine, ...]
    pay_at_pickup_allowed: bool

    @property
    def is_free(self) -> bool:
        return self.fen == 0

    @property
    def label(self) -> LocalizedText:
        return format_fee(self.fen)


@dataclass(frozen=True)
class MaterialsPlan:
    materials: tuple[PlannedMaterial, ...]
    fee: Fee

    def _with(self, handling: Handling) -> tuple[PlannedMaterial, ...]:
        return tuple(m for m in self.materials if m.handling == handling)

    @property
    def paper_originals(self) -> tuple[PlannedMaterial, ...]:
        return self._with(Handling.HAND_IN)

    @property
    def to_capture(self) -> tuple[PlannedMaterial, ...]:
        return self._with(Handling.CAPTURE)

    @property
    def pulled_elicences(self) -> tuple[PlannedMaterial, ...]:
        return self._with(Handling.PULL_ELICENCE)

    @property
    def reused_ecopies(self) -> tuple[PlannedMaterial, ...]:
        return self._with(Handling.REUSE_ECOPY)

    @property
    def offers(self) -> tuple[PlannedMaterial, ...]:
        """Materials the hall could supply, for the citizen to confirm (or not)."""
        return tuple(m for m in self.materials if m.has_offer)

    @property
    def pages_expected(self) -> int:
        return sum(m.pages for m in self.materials)

    @property
    def compartment_size(self) -> CompartmentSize | None:
        return compartment_size_for(len(self.paper_originals))

    @property
    def elicence_ids(self) -> tuple[str, ...]:
        """For the submission's `elicence_ids`."""
        return tuple(m.offer_elicence.id for m in self.pulled_elicences if m.offer_elicence)

    @property
    def reused_ecopy_ids(self) -> tuple[str, ...]:
        """For the submission's `reused_ecopy_ids`."""
        return tuple(m.offer_ecopy.id for m in self.reused_ecopies if m.offer_ecopy)


def plan_materials(
    items: Sequence[ServiceItem],
    today: date,
    on_file: OnFile | None = None,
    accepted: Iterable[str] = (),
) -> MaterialsPlan:
    """The plan for `items` (one item, or a topic's items in order).

    `on_file` is the lookup answer (None while the citizen has not identified, or the hall
    could not be asked); `accepted` holds the material codes whose offer the citizen confirmed.
    """
    agreed = frozenset(accepted)
    held = on_file or OnFile()
    merged: dict[str, Material] = {}
    askers: dict[str, list[str]] = {}
    for item in items:
        for material in item.materials:
            current = merged.get(material.code)
            if current is None or _FORM_STRENGTH[material.form] > _FORM_STRENGTH[current.form]:
                merged[material.code] = material
            askers.setdefault(material.code, []).append(item.id)
    planned = tuple(
        _plan_one(material, tuple(askers[code]), held, agreed, today)
        for code, material in merged.items()
    )
    return MaterialsPlan(planned, fee_for(items))


def _plan_one(
    material: Material,
    item_ids: tuple[str, ...],
    held: OnFile,
    agreed: frozenset[str],
    today: date,
) -> PlannedMaterial:
    if material.form == MaterialForm.PAPER_ORIGINAL:
        return PlannedMaterial(material, item_ids, Handling.HAND_IN, 0)
    licence = next(
        (
            e
            for e in held.elicences
            if material.elicence_type is not None
            and e.licence_type == material.elicence_type
            and e.valid_on(today)
        ),
        None,
    )
    earlier = None
    if licence is None:
        earlier = next(
            (
                c
                for c in held.reusable_ecopies
                if c.material_code == material.code and c.valid_on(today)
            ),
            None,
        )
    if material.code in agreed and licence is not None:
        return PlannedMaterial(material, item_ids, Handling.PULL_ELICENCE, 0, licence, None)
    if material.code in agreed and earlier is not None:
        return PlannedMaterial(material, item_ids, Handling.REUSE_ECOPY, 0, None, earlier)
    return PlannedMaterial(
        material, item_ids, Handling.CAPTURE, pages_for(material), licence, earlier
    )


def pages_for(material: Material) -> int:
    if material.pages is not None:
        return material.pages
    return DEFAULT_PAGES.get(material.code, 1)


def compartment_size_for(paper_originals: int) -> CompartmentSize | None:
    if paper_originals <= 0:
        return None
    if paper_originals <= 2:
        return "S"
    if paper_originals <= 4:
        return "M"
    return "L"


# ---- fee ------------------------------------------------------------------------------------


def format_fee(fen: int) -> LocalizedText:
    """ "¥12.00" in both languages, or 免费 / Free."""
    if fen == 0:
        return LocalizedText(zh="免费", en="Free")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    text = f"{sign}¥{yuan:,}.{cents:02d}"
    return LocalizedText(zh=text, en=text)


def pay_at_pickup_allowed(item: ServiceItem) -> bool:
    if item.fee_fen == 0:
        return False
    if item.pay_at_pickup is not None:
        return item.pay_at_pickup
    collected_here = any("取件码" in s.zh or "pickup code" in s.en.lower() for s in item.steps)
    paid_while_applying = any("缴费" in s.zh or "缴纳" in s.zh for s in item.steps)
    return collected_here and not paid_while_applying


def fee_for(items: Sequence[ServiceItem]) -> Fee:
    lines = tuple(
        FeeLine(item.id, item.name, item.fee_fen, item.legal_basis)
        for item in items
        if item.fee_fen > 0
    )
    return Fee(
        fen=sum(line.fen for line in lines),
        lines=lines,
        pay_at_pickup_allowed=bool(lines)
        and all(pay_at_pickup_allowed(item) for item in items if item.fee_fen > 0),
    )
