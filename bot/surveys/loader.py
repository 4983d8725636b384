"""Strict survey loader: reads YAML and reports every problem with its place and line."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.surveys.model import (
    DEFAULT_MAX_LENGTH,
    FORMAT,
    NUMBER_LIMIT,
    QUESTION_TYPES,
    AllOf,
    AnyOf,
    Audience,
    Choice,
    Condition,
    InRange,
    Matches,
    Not,
    Number,
    Question,
    QuestionType,
    Reminders,
    Status,
    Survey,
    Text,
)

DEFINITIONS = Path(__file__).parent / "definitions"
ID = re.compile(r"[a-z0-9_]{1,48}")
LANGUAGE = re.compile(r"[a-z]{2,3}")
RESERVED_QUESTION_IDS = frozenset({"any", "all", "not"})
RESERVED_CHOICE_IDS = frozenset({"answered", "skipped"})
MAX_CHOICES = 20
MAX_SCALE_STEPS = 10
MAX_DEPTH = 40
MAX_SPOTS = 100_000
MAX_LENGTH_LIMIT = 100_000

SURVEY_KEYS = frozenset({"id", "version", "languages", "title", "questions"})
SURVEY_OPTIONAL = frozenset({"format", "intro", "opens", "closes", "audience", "reminders"})
QUESTION_KEYS = frozenset({"id", "type", "text"})
COMMON_OPTIONAL = frozenset({"when", "required", "validation"})
TYPE_OPTIONAL: Mapping[str, frozenset[str]] = {
    "choice": COMMON_OPTIONAL | {"choices"},
    "multi_choice": COMMON_OPTIONAL | {"choices", "max_selected"},
    "scale": COMMON_OPTIONAL | {"min", "max", "min_label", "max_label"},
    "number": COMMON_OPTIONAL | {"min", "max", "decimals"},
    "text": COMMON_OPTIONAL | {"max_length"},
    "story": COMMON_OPTIONAL | {"max_length"},
    "yes_no": COMMON_OPTIONAL,
    "note": frozenset({"when"}),
}
TYPE_REQUIRED: Mapping[str, frozenset[str]] = {
    "choice": frozenset({"choices"}),
    "multi_choice": frozenset({"choices"}),
    "scale": frozenset({"min", "max"}),
}
ALL_QUESTION_KEYS = QUESTION_KEYS.union(*TYPE_OPTIONAL.values())


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a survey file, at a place like `questions[3].choices[1].text.cy`."""

    place: str
    message: str
    line: int | None = None
    source: str = ""

    def __str__(self) -> str:
        """Render as `source:line: place: message`."""
        where = ":".join(part for part in (self.source, str(self.line or "")) if part)
        head = f"{where}: " if where else ""
        return f"{head}{self.place or '(top)'}: {self.message}"


class SurveyError(ValueError):
    """A survey file has problems; `problems` lists every one of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        """Keep the problems and list them in the message."""
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def load_survey(path: Path | str) -> Survey:
    """Load and validate a survey file; raise SurveyError listing every problem."""
    survey, problems = _read_file(Path(path))
    if survey is None:
        raise SurveyError(problems)
    return survey


def load_survey_text(text: str, source: str = "<string>") -> Survey:
    """Load and validate survey YAML text; raise SurveyError listing every problem."""
    survey, problems = _parse(text, source)
    if survey is None:
        raise SurveyError(problems)
    return survey


def check_survey(path: Path | str) -> list[Problem]:
    """Every problem in a survey file (empty when it is valid)."""
    return _read_file(Path(path))[1]


def load_surveys(directory: Path | str = DEFINITIONS) -> dict[str, Survey]:
    """Load every `*.yaml` survey in a directory by id; raise SurveyError listing all problems."""
    surveys: dict[str, Survey] = {}
    problems: list[Problem] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        survey, found = _read_file(path)
        problems.extend(found)
        if survey is not None and survey.id in surveys:
            problems.append(
                Problem("id", f"survey id `{survey.id}` is used twice", None, str(path))
            )
        elif survey is not None:
            surveys[survey.id] = survey
    if problems:
        raise SurveyError(problems)
    return surveys


def _read_file(path: Path) -> tuple[Survey | None, list[Problem]]:
    """Read a file and parse it, turning read errors into problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [Problem("", f"cannot read the file: {error}", None, str(path))]
    return _parse(text, str(path))


def _parse(text: str, source: str) -> tuple[Survey | None, list[Problem]]:
    """Parse YAML text into a survey, collecting every problem."""
    try:
        node, data = _compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [Problem("", f"not valid YAML: {error}", line, source)]
    spots: dict[str, _Spot] = {}
    twice: list[str] = []
    _index(node, "", spots, twice)
    reader = _Reader(source, spots)
    for place in twice:
        reader.problem(place, f"`{place.rsplit('.', 1)[-1]}` is written twice here")
    survey = reader.survey(data)
    problems = sorted(reader.problems, key=lambda problem: problem.line or 0)
    return (survey if not problems else None), problems


def _compose(text: str) -> tuple[yaml.Node | None, object]:
    """The YAML node tree (for line numbers) and the data built from it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data


@dataclass(frozen=True)
class _Spot:
    """Where a place is written: its line, and the node of its value."""

    line: int
    node: yaml.Node


def _index(node: yaml.Node | None, place: str, spots: dict[str, _Spot], twice: list[str]) -> None:
    """Map every place to its spot; note keys written twice in one mapping."""
    if place.count(".") + place.count("[") > MAX_DEPTH or len(spots) > MAX_SPOTS:
        return
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = _join(place, str(key.value))
            if child in spots:
                twice.append(child)
            spots[child] = _Spot(int(key.start_mark.line) + 1, value)
            _index(value, child, spots, twice)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{place}[{i}]"
            spots[child] = _Spot(int(item.start_mark.line) + 1, item)
            _index(item, child, spots, twice)


def _join(place: str, key: str) -> str:
    """The place of a mapping entry."""
    return f"{place}.{key}" if place else key


def _parent(place: str) -> str:
    """The place enclosing another ("" for a top-level key)."""
    if place.endswith("]") and "[" in place:
        return place[: place.rindex("[")]
    return place.rpartition(".")[0]


def _shown(value: object) -> str:
    """A short rendering of a YAML value for messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass
class _Reader:
    """Reads raw YAML data into the model, collecting problems on the way."""

    source: str
    spots: Mapping[str, _Spot]
    problems: list[Problem] = field(default_factory=list)
    languages: tuple[str, ...] = ()

    def problem(self, place: str, message: str) -> None:
        """Record a problem, with the line of the nearest known place."""
        self.problems.append(Problem(place, message, self._line(place), self.source))

    def _line(self, place: str) -> int | None:
        """The line of a place, or of its nearest enclosing place."""
        while place:
            spot = self.spots.get(place)
            if spot is not None:
                return spot.line
            place = _parent(place)
        return 1 if self.spots else None

    def _written(self, place: str) -> str | None:
        """The text as written at a place, for scalar values."""
        spot = self.spots.get(place)
        return str(spot.node.value) if spot and isinstance(spot.node, yaml.ScalarNode) else None

    # -- generic readers ---------------------------------------------------------------

    def mapping(
        self,
        raw: object,
        place: str,
        required: frozenset[str],
        optional: frozenset[str],
        kind: str = "",
    ) -> dict[str, object] | None:
        """A mapping with text keys; reports missing, unknown and misplaced keys."""
        if not isinstance(raw, dict):
            self.problem(place, f"expected a mapping of keys, found {_shown(raw)}")
            return None
        for key in raw:
            if not isinstance(key, str):
                self.problem(place, f"key {_shown(key)} must be text: quote it")
            elif key not in required | optional:
                self.problem(_join(place, key), _unknown_key(key, required | optional, kind))
        for key in sorted(required - raw.keys()):
            self.problem(_join(place, key), f"`{key}` is missing")
        return {key: value for key, value in raw.items() if isinstance(key, str)}

    def identifier(self, raw: object, place: str, what: str = "id") -> str | None:
        """An id: quoted text of lowercase letters, digits and underscores."""
        if raw is None:
            self.problem(place, f"expected an {what}, found nothing")
        elif not isinstance(raw, str):
            written = self._written(place)
            self.problem(place, f"quote this {what}: write '{written}' (YAML reads it as {raw!r})")
        elif not ID.fullmatch(raw):
            self.problem(place, f"{what} {_shown(raw)} must be 1-48 lowercase letters, digits or _")
        else:
            return raw
        return None

    def integer(self, raw: object, place: str, low: int, high: int) -> int | None:
        """A whole number within bounds."""
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.problem(place, f"expected a whole number, found {_shown(raw)}")
        elif not low <= raw <= high:
            self.problem(place, f"must be between {low} and {high}, found {raw}")
        else:
            return raw
        return None

    def number(self, raw: object, place: str) -> Number | None:
        """A number between -1e12 and 1e12."""
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.problem(place, f"expected a number, found {_shown(raw)}")
        elif not -NUMBER_LIMIT <= raw <= NUMBER_LIMIT:
            self.problem(place, f"numbers must lie between -{NUMBER_LIMIT} and {NUMBER_LIMIT}")
        else:
            return raw
        return None

    def boolean(self, raw: object, place: str) -> bool | None:
        """true or false."""
        if isinstance(raw, bool):
            return raw
        self.problem(place, f"expected true or false, found {_shown(raw)}")
        return None

    def text(self, raw: object, place: str) -> Text | None:
        """Human text with a translation for every survey language."""
        if not isinstance(raw, dict):
            example = ", ".join(f"{lang}: '...'" for lang in self.languages)
            self.problem(place, f"give the text in every language, like {{{example}}}")
            return None
        before = len(self.problems)
        for key, value in raw.items():
            where = _join(place, str(key))
            if key not in self.languages:
                self.problem(where, f"`{key}` is not one of the survey's languages")
            elif not isinstance(value, str) or not value.strip():
                self.problem(where, f"expected text in quotes, found {_shown(value)}")
        for lang in self.languages:
            if lang not in raw:
                self.problem(_join(place, lang), f"missing the `{lang}` translation")
        if len(self.problems) > before:
            return None
        return Text({lang: str(raw[lang]).strip() for lang in self.languages})

    def optional_text(self, top: Mapping[str, object], key: str, place: str) -> Text | None:
        """Text under `key`, if there is any."""
        return self.text(top[key], _join(place, key)) if key in top else None

    def listing(self, raw: object, place: str, low: int, high: int) -> list[object] | None:
        """A list with a length within bounds."""
        if not isinstance(raw, list):
            self.problem(place, f"expected a list, found {_shown(raw)}")
            return None
        if not low <= len(raw) <= high:
            self.problem(place, f"expected {low} to {high} items, found {len(raw)}")
        return raw

    def unique(self, ids: Iterable[tuple[str | None, str]], what: str) -> None:
        """Report ids used more than once."""
        seen: set[str] = set()
        for value, place in ids:
            if value is not None and value in seen:
                self.problem(place, f"{what} `{value}` is used more than once")
            if value is not None:
                seen.add(value)

    # -- the survey ------------------------------------------------------------------------

    def survey(self, raw: object) -> Survey | None:
        """The whole survey."""
        top = self.mapping(raw, "", SURVEY_KEYS, SURVEY_OPTIONAL)
        if top is None:
            return None
        if "format" in top and (isinstance(top["format"], bool) or top["format"] != FORMAT):
            self.problem("format", f"this Panelbot reads format {FORMAT}, found {top['format']!r}")
        survey_id = self.identifier(top["id"], "id") if "id" in top else None
        version = self.integer(top["version"], "version", 1, 10**9) if "version" in top else None
        self.languages = self._languages(top.get("languages"))
        title = self.optional_text(top, "title", "")
        intro = self.optional_text(top, "intro", "")
        opens, closes = self._window(top)
        audience = self._audience(top["audience"]) if "audience" in top else None
        reminders = self._reminders(top["reminders"]) if "reminders" in top else Reminders()
        questions = self._questions(top["questions"]) if "questions" in top else None
        if survey_id is None or version is None or title is None or questions is None:
            return None
        return Survey(
            id=survey_id,
            version=version,
            languages=self.languages,
            title=title,
            questions=questions,
            intro=intro,
            opens=opens,
            closes=closes,
            audience=audience,
            reminders=reminders,
        )

    def _languages(self, raw: object) -> tuple[str, ...]:
        """The survey languages as ISO 639 codes; the first is the fallback."""
        found: list[str] = []
        for i, item in enumerate(self.listing(raw, "languages", 1, 50) or ()):
            place = f"languages[{i}]"
            if not isinstance(item, str) or not LANGUAGE.fullmatch(item):
                written = self._written(place)
                self.problem(place, f"expected a 2- or 3-letter ISO 639 code, found '{written}'")
            elif item in found:
                self.problem(place, f"language `{item}` is listed twice")
            else:
                found.append(item)
        return tuple(found)

    def _window(self, top: Mapping[str, object]) -> tuple[datetime | None, datetime | None]:
        """When the survey opens and closes (a closing date includes that whole day)."""
        opens = self._moment(top["opens"], "opens", 0) if "opens" in top else None
        closes = self._moment(top["closes"], "closes", 1) if "closes" in top else None
        if opens is not None and closes is not None and opens >= closes:
            self.problem("closes", "the survey must close after it opens")
        return opens, closes

    def _moment(self, raw: object, place: str, days_after: int) -> datetime | None:
        """An ISO date or datetime as an aware UTC datetime."""
        if isinstance(raw, str):
            raw = _iso(raw)
        if isinstance(raw, datetime):
            return raw.replace(tzinfo=UTC) if raw.tzinfo is None else raw.astimezone(UTC)
        if isinstance(raw, date):
            return datetime.combine(raw, time(), UTC) + timedelta(days=days_after)
        self.problem(place, f"expected an ISO date like 2026-12-31, found {_shown(raw)}")
        return None

    def _audience(self, raw: object) -> Audience | None:
        """Which members a survey is for."""
        top = self.mapping(raw, "audience", frozenset(), frozenset({"localities", "profile"}))
        if top is None:
            return None
        localities = (
            self._ids(top["localities"], "audience.localities") if "localities" in top else ()
        )
        profile = self._profile(top.get("profile", {}), "audience.profile")
        return Audience(localities, profile)

    def _profile(self, raw: object, place: str) -> dict[str, tuple[str, ...]]:
        """Profile features, each with the values that match."""
        if not isinstance(raw, dict):
            self.problem(
                place, f"expected features like {{age_band: ['65_74']}}, found {_shown(raw)}"
            )
            return {}
        found: dict[str, tuple[str, ...]] = {}
        for feature, values in raw.items():
            where = _join(place, str(feature))
            if self.identifier(feature, where, "feature") is not None:
                found[str(feature)] = self._ids(values, where)
        return found

    def _ids(self, raw: object, place: str) -> tuple[str, ...]:
        """A non-empty list of quoted value ids."""
        items = self.listing(raw, place, 1, 500) or []
        found = (self.identifier(item, f"{place}[{i}]", "value") for i, item in enumerate(items))
        return tuple(value for value in found if value is not None)

    def _reminders(self, raw: object) -> Reminders:
        """How often to remind."""
        top = self.mapping(raw, "reminders", frozenset(), frozenset({"max", "after_hours"})) or {}
        default = Reminders()
        limit = self.integer(top.get("max", default.max), "reminders.max", 0, 10)
        hours = self.integer(top.get("after_hours", 48), "reminders.after_hours", 1, 24 * 30)
        return Reminders(default.max if limit is None else limit, hours or default.after_hours)

    # -- questions -------------------------------------------------------------------------

    def _questions(self, raw: object) -> tuple[Question, ...] | None:
        """Every question, with unique ids and conditions on earlier questions only."""
        items = self.listing(raw, "questions", 1, 500)
        if items is None:
            return None
        ids = [self._question_id(item, f"questions[{i}]") for i, item in enumerate(items)]
        self.unique(((qid, f"questions[{i}].id") for i, qid in enumerate(ids)), "question id")
        built: dict[str, Question | None] = {}
        for i, item in enumerate(items):
            scope = _Scope(built, frozenset(x for x in ids[i:] if x))
            question = self._question(item, f"questions[{i}]", scope)
            if ids[i] is not None:
                built.setdefault(ids[i] or "", question)
        if len(built) < len(items) or any(q is None for q in built.values()):
            return None
        return tuple(q for q in built.values() if q is not None)

    def _question_id(self, raw: object, place: str) -> str | None:
        """A question's id, read first so that conditions can refer to it."""
        if not isinstance(raw, dict) or "id" not in raw:
            return None
        found = self.identifier(raw["id"], _join(place, "id"))
        if found in RESERVED_QUESTION_IDS:
            self.problem(_join(place, "id"), f"`{found}` is a word conditions use; choose another")
            return None
        return found

    def _question(self, raw: object, place: str, scope: _Scope) -> Question | None:
        """One question (its id was read already)."""
        kind = self._type(raw, place)
        required = QUESTION_KEYS | TYPE_REQUIRED.get(kind or "", frozenset())
        optional = TYPE_OPTIONAL[kind] if kind else ALL_QUESTION_KEYS
        top = self.mapping(raw, place, required, optional, kind or "")
        if top is None or kind is None:
            return None
        before = len(self.problems)
        text = self.optional_text(top, "text", place)
        fields = _FIELD_READERS[kind](self, top, place)
        answer_required = self.boolean(top.get("required", True), _join(place, "required"))
        validation = self.optional_text(top, "validation", place)
        sound = len(self.problems) == before
        when = (
            _ConditionReader(self, scope).condition(top["when"], _join(place, "when"))
            if "when" in top
            else None
        )
        question_id = top.get("id")
        if not sound or not isinstance(question_id, str) or text is None:
            return None
        return Question(
            id=question_id,
            type=kind,
            text=text,
            required=bool(answer_required) and kind != "note",
            when=when,
            validation=validation,
            **fields,
        )

    def _type(self, raw: object, place: str) -> QuestionType | None:
        """A question's type."""
        if not isinstance(raw, dict) or "type" not in raw:
            return None
        kind = raw["type"]
        found = next((known for known in QUESTION_TYPES if kind == known), None)
        if found is None:
            names = ", ".join(QUESTION_TYPES)
            self.problem(_join(place, "type"), f"unknown type {_shown(kind)} (use one of {names})")
        return found

    # -- type-specific fields --------------------------------------------------------------

    def _choice_fields(self, top: Mapping[str, object], place: str) -> dict[str, Any]:
        """choices, and max_selected for multi_choice."""
        choices = self._choices(top["choices"], _join(place, "choices")) if "choices" in top else ()
        most = len(choices) or MAX_CHOICES
        limit = top.get("max_selected")
        place = _join(place, "max_selected")
        chosen = self.integer(limit, place, 1, most) if limit is not None else None
        return {"choices": choices, "max_selected": chosen}

    def _choices(self, raw: object, place: str) -> tuple[Choice, ...]:
        """The options of a choice question."""
        found: list[Choice] = []
        ids: list[tuple[str | None, str]] = []
        for i, item in enumerate(self.listing(raw, place, 2, MAX_CHOICES) or []):
            where = f"{place}[{i}]"
            top = self.mapping(item, where, frozenset({"id", "text"}), frozenset()) or {}
            choice_id = self._choice_id(top, where)
            text = self.optional_text(top, "text", where)
            ids.append((choice_id, _join(where, "id")))
            if choice_id is not None and text is not None:
                found.append(Choice(choice_id, text))
        self.unique(ids, "choice id")
        return tuple(found)

    def _choice_id(self, top: Mapping[str, object], place: str) -> str | None:
        """A choice's id (not a word that conditions use)."""
        if "id" not in top:
            return None
        found = self.identifier(top["id"], _join(place, "id"))
        if found in RESERVED_CHOICE_IDS:
            self.problem(_join(place, "id"), f"`{found}` is a word conditions use; choose another")
            return None
        return found

    def _scale_fields(self, top: Mapping[str, object], place: str) -> dict[str, Any]:
        """Whole-number ends 1 to 10 apart, with optional labels."""
        low, high = (
            self.integer(top[key], _join(place, key), -100, 100) if key in top else None
            for key in ("min", "max")
        )
        if low is not None and high is not None and not 1 <= high - low <= MAX_SCALE_STEPS:
            self.problem(_join(place, "max"), f"max must be 1 to {MAX_SCALE_STEPS} above min")
        return {
            "min": low,
            "max": high,
            "min_label": self.optional_text(top, "min_label", place),
            "max_label": self.optional_text(top, "max_label", place),
        }

    def _number_fields(self, top: Mapping[str, object], place: str) -> dict[str, Any]:
        """Optional bounds, and whether decimals are allowed."""
        decimals = self.boolean(top.get("decimals", False), _join(place, "decimals"))
        low, high = (self._bound(top, key, place, bool(decimals)) for key in ("min", "max"))
        if low is not None and high is not None and low >= high:
            self.problem(_join(place, "max"), "max must be above min")
        return {"min": low, "max": high, "decimals": bool(decimals)}

    def _bound(
        self, top: Mapping[str, object], key: str, place: str, decimals: bool
    ) -> Number | None:
        """One optional bound of a number question."""
        if key not in top:
            return None
        value = self.number(top[key], _join(place, key))
        if isinstance(value, float) and not decimals and not value.is_integer():
            self.problem(_join(place, key), "use a whole number, or set `decimals: true`")
        return value

    def _length_fields(self, top: Mapping[str, object], place: str) -> dict[str, Any]:
        """The longest answer accepted."""
        raw = top.get("max_length", DEFAULT_MAX_LENGTH[str(top["type"])])
        return {"max_length": self.integer(raw, _join(place, "max_length"), 1, MAX_LENGTH_LIMIT)}

    def _no_fields(self, top: Mapping[str, object], place: str) -> dict[str, Any]:
        """Types without extra fields."""
        del top, place
        return {}


_FIELD_READERS: Mapping[str, Callable[[_Reader, Mapping[str, object], str], dict[str, Any]]] = {
    "choice": _Reader._choice_fields,
    "multi_choice": _Reader._choice_fields,
    "scale": _Reader._scale_fields,
    "number": _Reader._number_fields,
    "text": _Reader._length_fields,
    "story": _Reader._length_fields,
    "yes_no": _Reader._no_fields,
    "note": _Reader._no_fields,
}


@dataclass(frozen=True)
class _Scope:
    """What a condition may refer to: the earlier questions (None when broken)."""

    earlier: Mapping[str, Question | None]
    later: frozenset[str]


@dataclass
class _ConditionReader:
    """Reads a `when` condition, checking every reference against earlier questions."""

    reader: _Reader
    scope: _Scope

    def condition(self, raw: object, place: str) -> Condition | None:
        """A mapping of tests that must all hold (`any`, `all` and `not` combine them)."""
        if place.count(".") + place.count("[") > MAX_DEPTH:
            self.reader.problem(place, "conditions nest too deeply")
            return None
        if not isinstance(raw, dict) or not raw:
            self.reader.problem(
                place, f"expected a condition like {{question: value}}, found {_shown(raw)}"
            )
            return None
        parts = [self._entry(key, value, _join(place, str(key))) for key, value in raw.items()]
        found = tuple(part for part in parts if part is not None)
        if len(found) < len(parts):
            return None
        return found[0] if len(found) == 1 else AllOf(found)

    def _entry(self, key: object, value: object, place: str) -> Condition | None:
        """One key of a condition mapping."""
        if key in ("any", "all"):
            parts = self._list(value, place)
            return None if parts is None else AnyOf(parts) if key == "any" else AllOf(parts)
        if key == "not":
            inner = self.condition(value, place)
            return None if inner is None else Not(inner)
        question = self._reference(key, place)
        return None if question is None else self._test(question, value, place)

    def _list(self, raw: object, place: str) -> tuple[Condition, ...] | None:
        """A non-empty list of conditions."""
        items = self.reader.listing(raw, place, 1, 50)
        parts = [self.condition(item, f"{place}[{i}]") for i, item in enumerate(items or [])]
        found = tuple(part for part in parts if part is not None)
        return found if items and len(found) == len(items) else None

    def _reference(self, key: object, place: str) -> Question | None:
        """The earlier question a condition reads."""
        if not isinstance(key, str):
            self.reader.problem(place, f"quote the question id: write '{key}'")
        elif key in self.scope.later:
            self.reader.problem(
                place,
                f"`{key}` is not asked before this question: conditions may only use earlier ones",
            )
        elif key not in self.scope.earlier:
            self.reader.problem(place, f"no question has the id `{key}`")
        elif (question := self.scope.earlier[key]) is not None and question.type == "note":
            self.reader.problem(place, f"`{key}` is a note and has no answer")
        else:
            return question
        return None

    def _test(self, question: Question, raw: object, place: str) -> Condition | None:
        """The test on one question: value(s), answered/skipped, not, min/max."""
        if raw in ("answered", "skipped"):
            return Status(question.id, raw == "answered")
        if isinstance(raw, dict):
            return self._operator(question, raw, place)
        values = self._values(question, raw, place)
        return None if values is None else Matches(question.id, values)

    def _operator(
        self, question: Question, raw: Mapping[object, object], place: str
    ) -> Condition | None:
        """`{not: value(s)}` or `{min: n, max: n}`."""
        if set(raw) == {"not"}:
            values = self._values(question, raw["not"], _join(place, "not"))
            return None if values is None else Matches(question.id, values, negate=True)
        unknown = [key for key in raw if key not in ("min", "max")]
        for key in unknown:
            self.reader.problem(
                _join(place, str(key)), f"`{key}` is not a test: use not, or min and max"
            )
        if not raw:
            self.reader.problem(place, "expected {not: ...} or {min: ..., max: ...}")
        if unknown or not raw:
            return None
        if question.type not in ("scale", "number"):
            self.reader.problem(place, "min and max only apply to scale and number questions")
            return None
        low, high = (self._bound(raw, key, place) for key in ("min", "max"))
        if (low is None) == ("min" in raw) or (high is None) == ("max" in raw):
            return None
        return InRange(question.id, low, high)

    def _bound(self, raw: Mapping[object, object], key: str, place: str) -> Number | None:
        """One optional bound of a min/max test."""
        return self.reader.number(raw[key], _join(place, key)) if key in raw else None

    def _values(
        self, question: Question, raw: object, place: str
    ) -> tuple[str | Number, ...] | None:
        """One value or a non-empty list, each a possible answer of the question."""
        if isinstance(raw, list):
            items = list(enumerate(raw))
            places = [f"{place}[{i}]" for i, _ in items]
        else:
            items, places = [(0, raw)], [place]
        if not items:
            self.reader.problem(place, "expected at least one value")
        checked = [
            self._value(question, item, where)
            for (_, item), where in zip(items, places, strict=True)
        ]
        found = tuple(value for value in checked if value is not None)
        return found if items and len(found) == len(items) else None

    def _value(self, question: Question, raw: object, place: str) -> str | Number | None:
        """One possible answer of the question."""
        if question.type in ("scale", "number"):
            return self._numeric(question, raw, place)
        if question.type in ("text", "story"):
            self.reader.problem(place, "text answers can only be tested with answered or skipped")
            return None
        written = self.reader.identifier(raw, place, "value")
        options = question.options()
        if written is not None and written not in options:
            listed = ", ".join(options)
            self.reader.problem(
                place, f"`{written}` is not an answer of `{question.id}` ({listed})"
            )
            return None
        return written

    def _numeric(self, question: Question, raw: object, place: str) -> Number | None:
        """A number a scale or number answer can equal."""
        value = self.reader.number(raw, place)
        if value is not None and question.type == "scale" and str(value) not in question.options():
            self.reader.problem(place, f"{value} is not a point of the scale `{question.id}`")
            return None
        return value


def _iso(text: str) -> date | datetime | str:
    """Parse an ISO date or datetime, or give the text back."""
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(text.strip())
        except ValueError:
            continue
    return text


def _unknown_key(key: str, known: frozenset[str], kind: str) -> str:
    """Why a key is not accepted, with a hint."""
    if kind and key in ALL_QUESTION_KEYS:
        return f"`{key}` does not apply to a {kind} question"
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    return f"unknown key `{key}`{hint}"
