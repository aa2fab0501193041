"""Sample data for the demo: a kiosk, a courier, a village agent, a staff account and a citizen
with e-licences.

The sample citizens live in Cili county (administrative code 430821); their ID numbers carry
valid check characters so they pass the same validation as real cards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .service import HallService
from .validation import id_check_char

DEMO_KIOSK_ID = "demo-0001"
DEMO_KIOSK_NAME = "慈利县零阳街道24小时政务自助服务站"
DEMO_COURIER_CARD = "C-0001"
DEMO_COURIER_NAME = "王师傅"
DEMO_AGENT_CARD = "C-0002"
DEMO_AGENT_NAME = "李主任"  # the village committee's director, who submits for elderly villagers


def sample_id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


# 张秀英 (the demo citizen with all five e-licences) and 李建国 (a shopkeeper).
CITIZEN_ZHANG = sample_id_number("43082119850312002")
CITIZEN_ZHANG_PHONE = "13800138000"  # her verified mobile on file (pre-filled at the kiosk)
CITIZEN_LI = sample_id_number("43082119700621001")
# 王师傅's own ID card signs him in at the terminal, like his courier badge does.
COURIER_WANG_ID = sample_id_number("43082119790808003")


@dataclass(frozen=True)
class SeedReport:
    kiosk_id: str
    kiosk_token: str | None
    courier_card: str
    courier_pin: str | None
    courier_id_number: str
    agent_card: str
    agent_pin: str | None
    staff_user: str
    staff_password: str | None
    citizen_id_number: str


def seed(
    service: HallService,
    *,
    kiosk_id: str = DEMO_KIOSK_ID,
    staff_password: str | None = None,
    courier_pin: str | None = None,
    agent_pin: str | None = None,
) -> SeedReport:
    """Idempotent: an existing kiosk keeps its token and existing people keep their secrets."""
    existing = {k.id for k in service.kiosks()}
    token = None
    if kiosk_id not in existing:
        _, token = service.add_kiosk(DEMO_KIOSK_NAME, kiosk_id)
    pin = None
    if not service.has_courier(DEMO_COURIER_CARD) or courier_pin:
        pin = courier_pin or f"{secrets.randbelow(10**6):06d}"
        service.add_courier(
            DEMO_COURIER_CARD, DEMO_COURIER_NAME, pin, "courier", id_number=COURIER_WANG_ID
        )
    else:  # a hall seeded before couriers signed in by ID card
        service.set_courier_id_number(DEMO_COURIER_CARD, COURIER_WANG_ID)
    new_agent_pin = None
    if not service.has_courier(DEMO_AGENT_CARD) or agent_pin:
        new_agent_pin = agent_pin or f"{secrets.randbelow(10**6):06d}"
        service.add_courier(DEMO_AGENT_CARD, DEMO_AGENT_NAME, new_agent_pin, "village_agent")
    password = None
    if not service.has_staff("admin") or staff_password:
        password = staff_password or secrets.token_urlsafe(9)
        service.add_staff("admin", password, "值班员")
    _sample_elicences(service)
    service.set_citizen_phone(CITIZEN_ZHANG, CITIZEN_ZHANG_PHONE)
    return SeedReport(
        kiosk_id=kiosk_id,
        kiosk_token=token,
        courier_card=DEMO_COURIER_CARD,
        courier_pin=pin,
        courier_id_number=COURIER_WANG_ID,
        agent_card=DEMO_AGENT_CARD,
        agent_pin=new_agent_pin,
        staff_user="admin",
        staff_password=password,
        citizen_id_number=CITIZEN_ZHANG,
    )


def _sample_elicences(service: HallService) -> None:
    z = CITIZEN_ZHANG
    service.add_elicence(
        z,
        "household_register",
        "430821-013-0042",
        ("居民户口簿", "Household register"),
        "慈利县公安局",
        "2012-05-08",
    )
    service.add_elicence(
        z,
        "marriage_certificate",
        "J430821-2010-001234",
        ("结婚证", "Marriage certificate"),
        "慈利县民政局",
        "2010-10-01",
    )
    service.add_elicence(
        z,
        "business_licence",
        "92430821MA4L123456",
        ("个体工商户营业执照", "Business licence"),
        "慈利县市场监督管理局",
        "2019-03-15",
    )
    service.add_elicence(
        z,
        "disability_certificate",
        z + "42",
        ("中华人民共和国残疾人证", "Disability certificate"),
        "慈利县残疾人联合会",
        "2021-07-20",
        "2031-07-19",
    )
    service.add_elicence(
        z,
        "residence_permit",
        "440103-2023-778812",
        ("广东省居住证", "Residence permit"),
        "广州市公安局荔湾区分局",
        "2023-02-11",
        "2028-02-10",
    )
    service.add_elicence(
        CITIZEN_LI,
        "business_licence",
        "92430821MA4L654321",
        ("个体工商户营业执照", "Business licence"),
        "慈利县市场监督管理局",
        "2016-06-01",
    )
    service.add_elicence(
        CITIZEN_LI,
        "household_register",
        "430821-007-0311",
        ("居民户口簿", "Household register"),
        "慈利县公安局",
        "2008-11-20",
    )
