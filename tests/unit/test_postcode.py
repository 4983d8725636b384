"""Postcode parsing: normalisation, validation, district extraction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.postcode import parse_postcode


@pytest.mark.parametrize(
    ("typed", "district", "full"),
    [
        ("LS6 1AA", "LS6", "LS6 1AA"),
        ("ls61aa", "LS6", "LS6 1AA"),
        ("  sw1a 1aa ", "SW1A", "SW1A 1AA"),
        ("M1 1AE", "M1", "M1 1AE"),
        ("B33 8TH", "B33", "B33 8TH"),
        ("CR2 6XH", "CR2", "CR2 6XH"),
        ("DN55 1PT", "DN55", "DN55 1PT"),
        ("W1A 0AX", "W1A", "W1A 0AX"),
        ("EC1A-1BB", "EC1A", "EC1A 1BB"),
        ("ＬＳ６　１ＡＡ", "LS6", "LS6 1AA"),  # full-width, as some keyboards send
        ("LS6", "LS6", None),
        ("cf10", "CF10", None),
    ],
)
def test_valid_postcodes(typed: str, district: str, full: str | None) -> None:
    postcode = parse_postcode(typed)
    assert postcode is not None
    assert postcode.district == district
    assert postcode.full == full


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "hello",
        "12345",
        "LS6 1A",
        "QS6 1AA",
        "LS6 1CA",
        "LS61AAA",
        "V1 1AA",
        "LS6 1AA LS6",
        "💙",
    ],
)
def test_invalid_postcodes(typed: str) -> None:
    assert parse_postcode(typed) is None


AREA = st.sampled_from(["L", "LS", "M", "SW", "EC", "B", "CF", "BT", "DN"])
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@given(
    area=AREA,
    district=st.integers(min_value=1, max_value=29),
    sector=st.integers(min_value=0, max_value=9),
    unit=st.text(alphabet=INWARD_LETTERS, min_size=2, max_size=2),
    spacing=st.sampled_from(["", " ", "  ", "-"]),
    lower=st.booleans(),
)
def test_any_spacing_or_case_gives_the_same_postcode(
    area: str, district: int, sector: int, unit: str, spacing: str, lower: bool
) -> None:
    canonical = f"{area}{district} {sector}{unit}"
    typed = f"{area}{district}{spacing}{sector}{unit}"
    postcode = parse_postcode(typed.lower() if lower else typed)
    assert postcode is not None
    assert postcode.full == canonical
    assert postcode.district == f"{area}{district}"
    assert parse_postcode(postcode.full) == postcode


@given(st.text(max_size=200))
def test_parser_never_crashes_and_output_is_canonical(text: str) -> None:
    postcode = parse_postcode(text)
    if postcode is not None:
        assert postcode.district == postcode.district.upper().strip()
        assert parse_postcode(postcode.district) is not None
