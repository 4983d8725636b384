"""`panelbot redact`: redact plain-text or JSON lines from a stream, one line out per line in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from bot.services.redaction import Redactor

_DENY_FIELD = "deny"
_TEXT_FIELD = "text"


def _strip_newline(line: str) -> str:
    """The line without its trailing line ending."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def _as_record(line: str) -> dict[str, Any] | None:
    """The line as a JSON object with a string `text` field, or None if it is plain text."""
    body = line.lstrip("\ufeff \t")
    if not body.startswith("{"):
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and isinstance(value.get(_TEXT_FIELD), str):
        return value
    return None


def _deny_list(record: dict[str, Any]) -> list[str]:
    """The string items of the record's optional `deny` list."""
    deny = record.get(_DENY_FIELD)
    if not isinstance(deny, list):
        return []
    return [item for item in deny if isinstance(item, str)]


def _utf8_safe(text: str) -> str:
    """Replace lone surrogates so the output can always be written as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _redact_line(redactor: Redactor, line: str) -> str:
    """One output line (without its line ending) for one input line."""
    if not line:
        return ""
    record = _as_record(line)
    if record is None:
        return redactor.redact(line).text
    deny = _deny_list(record)
    output = {key: value for key, value in record.items() if key != _DENY_FIELD}
    output[_TEXT_FIELD] = redactor.redact(record[_TEXT_FIELD], deny).text
    return json.dumps(output, ensure_ascii=False)


def redact_stream(lines: Iterable[str], out: TextIO) -> int:
    """Redact each line to `out` (JSON objects keep their other fields); return the line count."""
    redactor = Redactor()
    count = 0
    for line in lines:
        out.write(_utf8_safe(_redact_line(redactor, _strip_newline(line))) + "\n")
        count += 1
    return count
