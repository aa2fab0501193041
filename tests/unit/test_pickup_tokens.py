"""Pickup codes and the terminal-signed pickup QR: round trip, every refusal, and tampering."""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.pickup.tokens import (
    PICKUP_CODE_DIGITS,
    PickupQr,
    PickupQrRejected,
    PickupQrSigner,
    TerminalKeyStore,
    is_pickup_code,
    looks_like_pickup_qr,
    new_pickup_code,
)
from kiosk.storage import ConstraintViolation, Database

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=7)
PARCEL = "0f3c9a2b7d5e4c1a8b6f0e2d4c6a8b0e"


def test_codes_are_eight_digits_and_keep_leading_zeros() -> None:
    assert PICKUP_CODE_DIGITS == 8
    assert new_pickup_code(lambda upper: 42) == "00000042"
    assert new_pickup_code(lambda upper: upper - 1) == "99999999"
    seen_upper: list[int] = []
    new_pickup_code(lambda upper: seen_upper.append(upper) or 0)
    assert seen_upper == [10**8]
    code = new_pickup_code()
    assert is_pickup_code(code)


@pytest.mark.parametrize(
    "text", ["1234567", "123456789", "1234567a", "１２３４５６７８", " 12345678"]
)
def test_only_eight_ascii_digits_are_a_code(text: str) -> None:
    assert not is_pickup_code(text)


def test_round_trip_gives_back_parcel_code_and_expiry() -> None:
    signer = PickupQrSigner(KEY)
    payload = signer.sign(PARCEL, "01234567", EXPIRES)
    assert payload.startswith(f"GZPK1.{PARCEL}.01234567.{int(EXPIRES.timestamp())}.")
    assert looks_like_pickup_qr(payload)
    assert signer.verify(payload, NOW) == PickupQr(PARCEL, "01234567", EXPIRES)


def test_signature_is_the_first_16_bytes_of_hmac_sha256_base64url_without_padding() -> None:
    body = f"GZPK1.{PARCEL}.01234567.{int(EXPIRES.timestamp())}"
    tag = hmac.new(KEY, body.encode(), sha256).digest()[:16]
    expected = base64.urlsafe_b64encode(tag).rstrip(b"=").decode()
    assert PickupQrSigner(KEY).sign(PARCEL, "01234567", EXPIRES) == f"{body}.{expected}"


def test_the_code_is_not_in_the_repr() -> None:
    qr = PickupQrSigner(KEY).verify(PickupQrSigner(KEY).sign(PARCEL, "76543210", EXPIRES), NOW)
    assert "76543210" not in repr(qr)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "GZPK1",
        "hello world",
        "GZCR1.C-0001",
        f"GZPK2.{PARCEL}.01234567.1772400000.AAAAAAAAAAAAAAAAAAAAAA",
        f"GZPK1.{PARCEL}.0123456.1772400000.AAAAAAAAAAAAAAAAAAAAAA",
        f"GZPK1.{PARCEL}.01234567.abc.AAAAAAAAAAAAAAAAAAAAAA",
        f"GZPK1.{PARCEL}.01234567.1772400000.AAAA",
        f"GZPK1.{PARCEL}.01234567.1772400000.AAAAAAAAAAAAAAAAAAAAA=",
        "GZPK1..01234567.1772400000.AAAAAAAAAAAAAAAAAAAAAA",
        f"GZPK1.{PARCEL}.01234567.1772400000.AAAAAAAAAAAAAAAAAAAAAA.extra",
        "GZPK1.a/b.01234567.1772400000.AAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_malformed_payloads_are_refused_as_malformed(payload: str) -> None:
    with pytest.raises(PickupQrRejected) as refused:
        PickupQrSigner(KEY).verify(payload, NOW)
    assert refused.value.reason == "malformed"


def test_another_terminals_signature_is_refused() -> None:
    payload = PickupQrSigner(OTHER_KEY).sign(PARCEL, "01234567", EXPIRES)
    with pytest.raises(PickupQrRejected) as refused:
        PickupQrSigner(KEY).verify(payload, NOW)
    assert refused.value.reason == "signature"


@pytest.mark.parametrize("field_index", [1, 2, 3, 4])
def test_changing_any_field_breaks_the_signature(field_index: int) -> None:
    parts = PickupQrSigner(KEY).sign(PARCEL, "01234567", EXPIRES).split(".")
    replacement = {
        1: "1f3c9a2b7d5e4c1a8b6f0e2d4c6a8b0e",
        2: "01234568",
        3: str(int(EXPIRES.timestamp()) + 86400),
        4: ("B" if parts[4][0] != "B" else "C") + parts[4][1:],
    }[field_index]
    parts[field_index] = replacement
    with pytest.raises(PickupQrRejected) as refused:
        PickupQrSigner(KEY).verify(".".join(parts), NOW)
    assert refused.value.reason == "signature"


def test_expired_qr_is_refused_at_and_after_its_expiry() -> None:
    signer = PickupQrSigner(KEY)
    payload = signer.sign(PARCEL, "01234567", EXPIRES)
    assert signer.verify(payload, EXPIRES - timedelta(seconds=1)).parcel_id == PARCEL
    for moment in (EXPIRES, EXPIRES + timedelta(days=30)):
        with pytest.raises(PickupQrRejected) as refused:
            signer.verify(payload, moment)
        assert refused.value.reason == "expired"


def test_expired_and_forged_says_signature_first() -> None:
    payload = PickupQrSigner(OTHER_KEY).sign(PARCEL, "01234567", NOW - timedelta(days=1))
    with pytest.raises(PickupQrRejected) as refused:
        PickupQrSigner(KEY).verify(payload, NOW)
    assert refused.value.reason == "signature"


def test_signing_refuses_what_could_not_be_verified() -> None:
    signer = PickupQrSigner(KEY)
    with pytest.raises(ValueError, match="parcel id"):
        signer.sign("a.b", "01234567", EXPIRES)
    with pytest.raises(ValueError, match="eight digits"):
        signer.sign(PARCEL, "1234", EXPIRES)
    with pytest.raises(ValueError, match="aware"):
        signer.sign(PARCEL, "01234567", datetime(2026, 3, 8))  # naive on purpose
    with pytest.raises(ValueError, match="at least 32 bytes"):
        PickupQrSigner(b"short")


def test_looks_like_pickup_qr_is_only_the_prefix() -> None:
    assert looks_like_pickup_qr("GZPK1.anything")
    assert not looks_like_pickup_qr("GZCR1.C-0001")
    assert not looks_like_pickup_qr("12345678")
    assert not looks_like_pickup_qr("https://example.org/GZPK1.x")


@given(
    position=st.integers(min_value=0, max_value=200),
    replacement=st.characters(codec="ascii"),
)
def test_no_single_character_change_verifies(position: int, replacement: str) -> None:
    signer = PickupQrSigner(KEY)
    payload = signer.sign(PARCEL, "01234567", EXPIRES)
    index = position % len(payload)
    mutated = payload[:index] + replacement + payload[index + 1 :]
    if mutated == payload:
        return
    with pytest.raises(PickupQrRejected):
        signer.verify(mutated, NOW)


@given(
    parcel=st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
    code=st.from_regex(r"[0-9]{8}", fullmatch=True),
    noise=st.text(min_size=1, max_size=6),
    cut=st.integers(min_value=0, max_value=120),
)
def test_no_spliced_or_truncated_payload_verifies(
    parcel: str, code: str, noise: str, cut: int
) -> None:
    signer = PickupQrSigner(KEY)
    payload = signer.sign(parcel, code, EXPIRES)
    for mutated in (payload[: cut % len(payload)], payload[:cut] + noise + payload[cut:]):
        if mutated.strip() == payload:
            continue
        with pytest.raises(PickupQrRejected):
            signer.verify(mutated, NOW)


def test_key_store_creates_the_key_once_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "terminal.sqlite3"
    with Database.open(path) as database:
        first = TerminalKeyStore(database).pickup_qr_key()
        assert len(first) == 32
        assert TerminalKeyStore(database).pickup_qr_key() == first
    with Database.open(path) as database:
        assert TerminalKeyStore(database).pickup_qr_key() == first
    with Database.open(tmp_path / "other.sqlite3") as database:
        assert TerminalKeyStore(database).pickup_qr_key() != first


def test_the_schema_refuses_a_short_key(tmp_path: Path) -> None:
    with (
        Database.open(tmp_path / "terminal.sqlite3") as database,
        pytest.raises(ConstraintViolation),
        database.transaction() as tx,
    ):
        tx.execute("INSERT INTO terminal_secrets (name, secret) VALUES (?, ?)", ("x", b"short"))
