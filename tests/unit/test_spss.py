"""The SPSS writer: files that pyreadstat (ReadStat, as used by R and Python) reads back."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyreadstat
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.spss import SavWriter, Variable, short_names

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def write(path: Path, variables: list[Variable], cases: list[list[object]]) -> None:
    writer = SavWriter(variables, len(cases), "Housing repairs")
    path.write_bytes(writer.header(NOW) + b"".join(writer.case(c) for c in cases))


def test_values_variable_labels_and_value_labels_come_back(tmp_path: Path) -> None:
    variables = [
        Variable("respondent", "Pseudonymous respondent", width=16),
        Variable("tenure", "Do you rent or own your home?", value_labels={1: "I rent", 2: "I own"}),
        Variable("wait_weeks", "Weeks waited"),
        Variable("anything_else", "Anything else (redacted)", width=255),
    ]
    cases = [
        ["a1b2c3d4e5f6a7b8", 1, 4, "Damp in the bedroom — ćma, نمی"],
        ["0f0f0f0f0f0f0f0f", 2, None, '\'=HYPERLINK("x")'],
    ]
    path = tmp_path / "set.sav"
    write(path, variables, cases)
    frame, meta = pyreadstat.read_sav(str(path))
    assert list(frame.columns) == ["respondent", "tenure", "wait_weeks", "anything_else"]
    assert frame["respondent"].tolist() == ["a1b2c3d4e5f6a7b8", "0f0f0f0f0f0f0f0f"]
    assert frame["tenure"].tolist() == [1.0, 2.0]
    assert frame["wait_weeks"].iloc[0] == 4.0 and frame["wait_weeks"].isna().iloc[1]
    assert frame["anything_else"].iloc[0] == "Damp in the bedroom — ćma, نمی"
    assert meta.column_names_to_labels["tenure"] == "Do you rent or own your home?"
    assert meta.variable_value_labels["tenure"] == {1.0: "I rent", 2.0: "I own"}
    assert meta.number_rows == 2


def test_short_names_are_unique_and_valid() -> None:
    names = short_names(["problems__damp_mould", "problems__heating", "1st", "problems__damp_x"])
    assert len(set(names)) == 4
    assert all(len(n) <= 8 and n[0].isalpha() for n in names)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(max_size=120), min_size=1, max_size=5))
def test_any_text_survives_up_to_its_width(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.sav"
        write(path, [Variable("text", "Text", width=255)], [[t] for t in texts])
        frame, _meta = pyreadstat.read_sav(str(path))
    got = ["" if v is None else v for v in frame["text"].tolist()]
    expected = [
        t.replace("\0", "").encode("utf-8")[:255].decode("utf-8", "ignore").rstrip(" ")
        for t in texts
    ]
    assert got == expected
