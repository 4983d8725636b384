"""Free-text redaction: corpus recall, each identifier kind, properties, the stream CLI."""

from __future__ import annotations

import io
import json
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.redaction import KINDS, Redactor, Span, redact
from bot.services.redaction_cli import redact_stream

STORIES = Path(__file__).resolve().parents[1] / "fixtures" / "stories"
CORPORA = ("tuning", "heldout")
WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
SHAPE_334 = re.compile(r"(?<![0-9])[0-9]{3}[ .\-]?[0-9]{3}[ .\-]?[0-9]{4}(?![0-9])")
STRICT_KINDS = ("NHS_NUMBER", "EMAIL", "PHONE", "POSTCODE", "NAME (deny-list)")
LOOSE_KINDS = ("ADDRESS", "DATE_OF_BIRTH")
ROW_ORDER = (*STRICT_KINDS, *LOOSE_KINDS, "NAME (heuristic)")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def load(name: str) -> list[dict[str, Any]]:
    path = STORIES / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def check_digit(first_nine: str) -> int:
    """The NHS check digit for nine digits; 10 means no valid number exists."""
    check = 11 - sum(int(d) * w for d, w in zip(first_nine, WEIGHTS, strict=True)) % 11
    return 0 if check == 11 else check


def nhs_valid(digits: str) -> bool:
    return check_digit(digits[:9]) == int(digits[9])


def occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(needle)}(?![0-9A-Za-z])")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def covered(spans: tuple[Span, ...], start: int, end: int, text: str) -> bool:
    """Every letter and digit in text[start:end] lies inside some span."""
    return all(
        not text[i].isalnum() or any(s.start <= i < s.end for s in spans) for i in range(start, end)
    )


def row_for(entity: dict[str, str], deny: list[str]) -> str:
    if entity["kind"] != "NAME":
        return entity["kind"]
    denied = {w.lower() for item in deny for w in item.split()}
    words = nfkc(entity["text"]).lower().split()
    return "NAME (deny-list)" if all(w in denied for w in words) else "NAME (heuristic)"


@dataclass
class Score:
    found: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    spans: int = 0

    def recall(self, row: str) -> float:
        return self.found[row] / self.total[row] if self.total[row] else 1.0


def score(stories: list[dict[str, Any]]) -> Score:
    result = Score()
    redactor = Redactor()
    for story in stories:
        text = nfkc(story["text"])
        spans = redactor.find(story["text"], story["deny"])
        result.spans += len(spans)
        labelled: list[tuple[int, int]] = []
        for entity in story["entities"]:
            places = occurrences(text, nfkc(entity["text"]))
            labelled += places
            row = row_for(entity, story["deny"])
            result.total[row] += 1
            if all(covered(spans, s, e, text) for s, e in places):
                result.found[row] += 1
            else:
                result.misses.append(f"{story['id']} {row}: {entity['text']!r}")
        for span in spans:
            if not any(span.start < e and s < span.end for s, e in labelled):
                result.extras.append(f"{story['id']} {span.kind}: {text[span.start : span.end]!r}")
    return result


def table(name: str, result: Score) -> str:
    lines = [f"\n{name}: recall per kind (found/total)"]
    for row in ROW_ORDER:
        found, total = result.found[row], result.total[row]
        lines.append(f"  {row:18} {found:4}/{total:<4} {result.recall(row):7.1%}")
    lines.append(f"  extra spans (overlapping no labelled entity): {len(result.extras)}")
    lines += [f"    miss  {m}" for m in result.misses]
    lines += [f"    extra {x}" for x in result.extras]
    return "\n".join(lines)


# ------------------------------------------------------------------ the corpora


@pytest.mark.parametrize("name", CORPORA)
def test_corpus_is_well_formed(name: str) -> None:
    stories = load(name)
    assert len(stories) >= (50 if name == "tuning" else 25)
    assert len({s["id"] for s in stories}) == len(stories)
    kinds: Counter[str] = Counter()
    for story in stories:
        text = nfkc(story["text"])
        for entity in story["entities"]:
            assert entity["kind"] in KINDS
            assert occurrences(text, nfkc(entity["text"])), (story["id"], entity)
            kinds[entity["kind"]] += 1
            if entity["kind"] == "NHS_NUMBER":
                assert nhs_valid(re.sub(r"\D", "", nfkc(entity["text"]))), entity
    if name == "tuning":
        for kind in ("NAME", "PHONE", "NHS_NUMBER", "EMAIL", "POSTCODE"):
            assert kinds[kind] >= 40, kind
        assert kinds["ADDRESS"] >= 25
        assert kinds["DATE_OF_BIRTH"] >= 25


@pytest.mark.parametrize("name", CORPORA)
def test_corpus_recall(name: str) -> None:
    result = score(load(name))
    print(table(name, result))
    for row in STRICT_KINDS:
        assert result.recall(row) == 1.0, row
    for row in LOOSE_KINDS:
        assert result.recall(row) >= 0.95, row
    assert result.recall("NAME (heuristic)") >= 0.5
    assert len(result.extras) <= 0.1 * result.spans


@pytest.mark.parametrize("name", CORPORA)
def test_invalid_checksum_numbers_in_the_corpus_are_not_nhs_numbers(name: str) -> None:
    decoys = 0
    for story in load(name):
        text = nfkc(story["text"])
        spans = redact(story["text"], story["deny"]).spans
        for match in SHAPE_334.finditer(text):
            if not nhs_valid(re.sub(r"\D", "", match.group())):
                decoys += 1
                assert not any(
                    s.kind == "NHS_NUMBER" and s.start < match.end() and match.start() < s.end
                    for s in spans
                ), match.group()
    assert name == "heldout" or decoys >= 3


# ------------------------------------------------------------------ each kind


def kinds_of(text: str, deny: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    normalised = nfkc(text)
    return [(s.kind, normalised[s.start : s.end]) for s in redact(text, deny).spans]


@pytest.mark.parametrize(
    "number",
    ["943 476 5919", "9434765919", "943-476-5919", "943.476.5919", "943\u00a0476\u00a05919"],
)
def test_nhs_numbers_in_every_grouping(number: str) -> None:
    assert kinds_of(f"NHS no {number}.") == [("NHS_NUMBER", nfkc(number))]


def test_full_width_nhs_number_is_normalised_first() -> None:
    result = redact("番号 ９４３ ４７６ ５９１９")
    assert result.text == "番号 <NHS_NUMBER>"


@pytest.mark.parametrize("number", ["943 476 5918", "9434765910", "401 023 2030"])
def test_invalid_checksum_is_not_an_nhs_number(number: str) -> None:
    assert all(kind != "NHS_NUMBER" for kind, _ in kinds_of(f"ref {number}"))


@pytest.mark.parametrize(
    "phone",
    [
        "07700 900123",
        "07700900123",
        "07700-900-123",
        "+44 7700 900123",
        "+447700900123",
        "0044 7700 900123",
        "+44 (0)7700 900 123",
        "0113 496 0000",
        "(0161) 496 0000",
        "020 7946 0000",
        "+44 20 7946 0000",
        "0808 157 0192",
        "0800 123 4567",
        "01632 960123",
    ],
)
def test_uk_phone_formats(phone: str) -> None:
    assert kinds_of(f"call {phone} today") == [("PHONE", phone)]


@pytest.mark.parametrize("text", ["ring 999 or 111", "costs £12.50", "ref 123456", "0113 496"])
def test_short_numbers_are_not_phones(text: str) -> None:
    assert kinds_of(text) == []


@pytest.mark.parametrize(
    "email", ["a.b@example.com", "first.last+nhs@mail.example.org", "x_y@uni.example.ac.uk"]
)
def test_emails(email: str) -> None:
    assert kinds_of(f"mail me: {email}.") == [("EMAIL", email)]


@pytest.mark.parametrize("postcode", ["LS6 1AA", "ls61aa", "SW1A 1AA", "m14 5rb", "EC1A-1BB"])
def test_full_postcodes(postcode: str) -> None:
    assert kinds_of(f"I live at {postcode} now") == [("POSTCODE", postcode)]


def test_postcode_district_alone_is_kept() -> None:
    assert kinds_of("I live in LS6 near the park") == []


@pytest.mark.parametrize(
    "address",
    [
        "12 Oak Road",
        "12a Oak Road",
        "12-14 Cowper Street",
        "Flat 3, 12 Oak Road",
        "Apartment 2, 9 St Mark's Road",
        "12 oak road",
        "221b Baker St",
        "3 The Green",
    ],
)
def test_street_addresses(address: str) -> None:
    assert kinds_of(f"I live at {address}, Leeds") == [("ADDRESS", address)]


@pytest.mark.parametrize(
    "text",
    [
        "I waited 3 hours down the road",
        "it's a 10 minute walk up the hill",
        "we live 2 doors down the lane",
    ],
)
def test_distances_and_durations_are_not_addresses(text: str) -> None:
    assert kinds_of(text) == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("DOB 01/02/1950", "01/02/1950"),
        ("D.O.B. 1.2.50", "1.2.50"),
        ("date of birth: 1950-02-01", "1950-02-01"),
        ("she was born on 1st February 1950", "1st February 1950"),
        ("born Feb 1 1950", "Feb 1 1950"),
        ("b. 1 Feb '50", "1 Feb '50"),
        ("his birthday is 3rd May", "3rd May"),
        ("01/02/1950 (DOB)", "01/02/1950"),
    ],
)
def test_dates_of_birth(text: str, date: str) -> None:
    assert kinds_of(text) == [("DATE_OF_BIRTH", date)]


@pytest.mark.parametrize(
    "text",
    [
        "my appointment is on 12/03/2024",
        "she was born in 1950",
        "seen on Tuesday 3rd September 2024",
        "born in Leeds. On 12/03/2024 I went back",
    ],
)
def test_other_dates_and_bare_years_are_kept(text: str) -> None:
    assert kinds_of(text) == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("our GP Dr Patel was kind", ["Patel"]),
        ("Mrs O'Neill rang", ["O'Neill"]),
        ("my son Tom came", ["Tom"]),
        ("my daughter, Aisha Begum, came", ["Aisha Begum"]),
        ("my husband Raj and I", ["Raj"]),
        ("her carer Joy was late", ["Joy"]),
        ("my son tom came", ["tom"]),
        ("dr patel said no", ["patel"]),
        ("dr. patel said no", ["patel"]),
        ("My name is Kwame Mensah.", ["Kwame Mensah"]),
        ("I'm Priya and I'm 34", ["Priya"]),
        ("My children Tom and Ella visited", ["Tom", "Ella"]),
        ("Priya came round. Later Priya rang.", ["Priya", "Priya"]),
        ("Long wait.\nThanks, Margaret", ["Margaret"]),
        ("Long wait. — Bob", ["Bob"]),
    ],
)
def test_heuristic_names(text: str, names: list[str]) -> None:
    assert kinds_of(text) == [("NAME", n) for n in names]


@pytest.mark.parametrize(
    "text",
    [
        "I'm Worried about the GP and the NHS",
        "Went to A&E on Monday in March via WhatsApp",
        "We moved to Harrogate in May",
        "St James's Hospital, Elizabeth Ward",
        "I'm Diabetic and I'm British",
        "Will you ring me back?",
    ],
)
def test_content_words_are_not_names(text: str) -> None:
    assert kinds_of(text) == []


def test_deny_list_is_case_insensitive_and_whole_word() -> None:
    result = redact(
        "MARGARET said margaret's son and Margareta came; hughes too", ["Margaret", "Hughes"]
    )
    assert result.text == "<NAME> said <NAME>'s son and Margareta came; <NAME> too"


def test_deny_list_postcode_is_a_postcode() -> None:
    result = redact("post to ls6 1aa or LS61AA", ["LS6 1AA"])
    assert [s.kind for s in result.spans] == ["POSTCODE", "POSTCODE"]


def test_deny_list_items_keep_their_kind() -> None:
    deny = ["Zoë", "Flat 3, 12 Oak Road", "01/02/1950", "07700 900123", "zoe@example.com"]
    result = redact("Zoe at Flat 3, 12 oak road, DOB 01/02/1950, 07700900123", deny)
    assert result.text == "<NAME> at <ADDRESS>, DOB <DATE_OF_BIRTH>, <PHONE>"


def test_placeholders_and_spans_agree() -> None:
    text = "Mr Smith, 07700 900123, LS6 1AA"
    result = redact(text)
    assert result.text == "Mr <NAME>, <PHONE>, <POSTCODE>"
    assert [text[s.start : s.end] for s in result.spans] == ["Smith", "07700 900123", "LS6 1AA"]


def test_overlapping_candidates_become_one_span() -> None:
    result = redact("email margaret.hughes@example.com", ["Margaret"])
    assert result.text == "email <EMAIL>"


def test_redactor_constructs_quickly() -> None:
    start = time.perf_counter()
    Redactor()
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "unit",
    ["0", "0 ", "1/", "a@", "Mr ", "my son ", "12 oak ", "Tom Smith and ", "+44 ", "LS6 1", "😀"],
)
def test_hostile_20000_characters_stay_fast(unit: str) -> None:
    text = (unit * (20_000 // len(unit) + 1))[:20_000]
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 1.0


# ------------------------------------------------------------------ properties

SEPARATORS = ["", " ", "-", ".", "\u00a0", "\u202f", " - ", "\u2011", "  "]
nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def grouped(digits: str, first: str, second: str) -> str:
    return f"{digits[:3]}{first}{digits[3:6]}{second}{digits[6:]}"


@settings(max_examples=1000, deadline=None)
@given(nine_digits, st.integers(0, 9), st.sampled_from(SEPARATORS), st.sampled_from(SEPARATORS))
def test_invalid_checksums_are_never_nhs_numbers(
    first_nine: str, last: int, sep1: str, sep2: str
) -> None:
    if last == check_digit(first_nine):
        last = (last + 1) % 10
    number = grouped(first_nine + str(last), sep1, sep2)
    assert all(s.kind != "NHS_NUMBER" for s in redact(f"number {number} here").spans)


@settings(max_examples=300, deadline=None)
@given(
    nine_digits,
    st.sampled_from(SEPARATORS),
    st.sampled_from(SEPARATORS),
    st.booleans(),
    st.sampled_from(["NHS: {}", "{}", "my number is {}.", "({}) thanks"]),
)
def test_valid_checksums_are_always_nhs_numbers(
    first_nine: str, sep1: str, sep2: str, wide: bool, template: str
) -> None:
    check = check_digit(first_nine)
    if check == 10:
        return
    number = grouped(first_nine + str(check), sep1, sep2)
    if wide:
        number = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
    result = redact(template.format(number))
    assert [s.kind for s in result.spans] == ["NHS_NUMBER"]
    assert "<NHS_NUMBER>" in result.text


def labelled_identifiers() -> list[tuple[str, str, tuple[str, ...]]]:
    """(text to embed, identifier that must vanish, deny-list) for context-free kinds."""
    cases = []
    for story in load("tuning"):
        deny = tuple(story["deny"])
        for entity in story["entities"]:
            kind, ident = entity["kind"], nfkc(entity["text"])
            if kind == "DATE_OF_BIRTH":
                cases.append((f"DOB {ident}", ident, deny))
            elif kind != "NAME" or row_for(entity, story["deny"]) == "NAME (deny-list)":
                cases.append((ident, ident, deny))
    return cases


hostile_text = st.text(
    alphabet=st.characters(codec="utf-8")
    | st.sampled_from(["\x00", "\u202e", "\u200f", "😀", "\u0301", " ", "\n"]),
    max_size=200,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text, st.sampled_from(labelled_identifiers()), hostile_text)
def test_embedded_identifiers_never_survive(
    before: str, case: tuple[str, str, tuple[str, ...]], after: str
) -> None:
    embedded, ident, deny = case
    result = redact(f"{before} {embedded} {after}", deny)
    assert ident not in result.text


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_redaction_never_raises_and_is_idempotent(text: str) -> None:
    once = redact(text).text
    assert redact(once).text == once


@pytest.mark.parametrize("name", CORPORA)
def test_corpus_redaction_is_idempotent(name: str) -> None:
    for story in load(name):
        once = redact(story["text"], story["deny"]).text
        assert redact(once, story["deny"]).text == once, story["id"]


def test_long_text_never_raises() -> None:
    story = load("tuning")[0]["text"]
    text = (story + " \x00\u202e😀 ") * (20_000 // len(story) + 1)
    assert redact(text[:20_000]).text


# ------------------------------------------------------------------ the stream CLI


def test_redact_stream_handles_plain_json_and_malformed_lines() -> None:
    lines = [
        "Call me on 07700 900123\n",
        "\n",
        json.dumps({"id": 7, "text": "I'm Margaret from LS6 1AA", "deny": ["Margaret"]}) + "\n",
        json.dumps({"id": 8, "text": "Raj rang", "deny": ["Raj"], "score": 1.5}) + "\n",
        '{"text": "Mr Smith", broken\n',
        json.dumps({"id": 9, "body": "no text field"}) + "\n",
        "last line without newline, Dr Patel",
    ]
    out = io.StringIO()
    assert redact_stream(lines, out) == len(lines)
    got = out.getvalue().split("\n")
    assert got[-1] == ""
    got = got[:-1]
    assert len(got) == len(lines)
    assert got[0] == "Call me on <PHONE>"
    assert got[1] == ""
    assert json.loads(got[2]) == {"id": 7, "text": "I'm <NAME> from <POSTCODE>"}
    assert json.loads(got[3]) == {"id": 8, "text": "<NAME> rang", "score": 1.5}
    assert got[4] == '{"text": "Mr <NAME>", broken'
    assert json.loads(got[5]) == {"id": 9, "body": "no text field"}
    assert got[6] == "last line without newline, Dr <NAME>"


def test_redact_stream_output_is_always_utf8_encodable() -> None:
    out = io.StringIO()
    redact_stream(["bad \ud800 surrogate 07700 900123", '{"text": "x \udfff"}'], out)
    out.getvalue().encode("utf-8")
