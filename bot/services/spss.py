"""A streaming writer of SPSS system files (`.sav`, uncompressed, UTF-8).

Only what exports need: numeric variables with value labels, string variables up to 255 bytes,
variable labels, long variable names. The header and dictionary are written first; each case is
then written as it comes, so memory stays flat whatever the number of rows.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

SYSMIS = -sys.float_info.max
HIGHEST = sys.float_info.max
LOWEST = -1.7976931348623155e308  # the next double above SYSMIS
MAX_STRING = 255
NUMERIC_FORMAT = (5 << 16) | (8 << 8) | 2  # F8.2


@dataclass(frozen=True)
class Variable:
    """One variable: its name, label, and either a string width or numeric value labels."""

    name: str
    label: str
    width: int = 0  # 0: numeric; 1-255: a string of that many bytes
    value_labels: dict[float, str] = field(default_factory=dict)

    @property
    def segments(self) -> int:
        """How many 8-byte units a case's value takes."""
        return 1 if self.width == 0 else (self.width + 7) // 8


def short_names(names: Sequence[str]) -> list[str]:
    """Unique 8-character upper-case names (the format's own), from long names."""
    used: set[str] = set()
    shorts = []
    for index, name in enumerate(names, start=1):
        base = "".join(c for c in name.upper() if c.isalnum() or c == "_")[:8] or "V"
        if not base[0].isalpha():
            base = ("V" + base)[:8]
        short = base
        while short in used:
            short = f"V{index:07d}"[:8]
            index += 100_000
        used.add(short)
        shorts.append(short)
    return shorts


def _int(value: int) -> bytes:
    return struct.pack("<i", value)


def _padded(text: bytes, size: int) -> bytes:
    return text[:size].ljust(size, b" ")


class SavWriter:
    """Header and dictionary on construction of the bytes; then one case at a time."""

    def __init__(self, variables: Sequence[Variable], cases: int, label: str = "") -> None:
        self.variables = list(variables)
        self.shorts = short_names([v.name for v in self.variables])
        self.cases = cases
        self.label = label

    def header(self, now: datetime) -> bytes:
        """Everything before the first case."""
        parts = [self._file_header(now)]
        for variable, short in zip(self.variables, self.shorts, strict=True):
            parts.append(self._variable(variable, short))
        parts.extend(self._value_labels())
        parts.append(self._extension(3, 4, struct.pack("<8i", 20, 0, 0, -1, 1, 1, 2, 65001)))
        parts.append(self._extension(4, 8, struct.pack("<3d", SYSMIS, HIGHEST, LOWEST)))
        long_names = "\t".join(
            f"{s}={v.name}" for s, v in zip(self.shorts, self.variables, strict=True)
        )
        parts.append(self._extension(13, 1, long_names.encode("utf-8")))
        parts.append(self._extension(20, 1, b"UTF-8"))
        parts.append(_int(999) + _int(0))
        return b"".join(parts)

    def case(self, values: Sequence[object]) -> bytes:
        """One case: numbers as doubles (missing: system-missing), strings space-padded."""
        out = bytearray()
        for variable, value in zip(self.variables, values, strict=True):
            if variable.width == 0:
                number = SYSMIS if value is None or value == "" else float(value)  # type: ignore[arg-type]
                out += struct.pack("<d", number)
            else:
                text = str(value or "").replace("\0", "")  # readers stop at a NUL
                encoded = _truncate(text, variable.width)
                out += _padded(encoded, variable.segments * 8)
        return bytes(out)

    def _file_header(self, now: datetime) -> bytes:
        case_size = sum(v.segments for v in self.variables)
        return b"".join(
            [
                b"$FL2",
                _padded(b"@(#) SPSS DATA FILE Panelbot", 60),
                _int(2),  # layout code
                _int(case_size),
                _int(0),  # uncompressed
                _int(0),  # no weight variable
                _int(self.cases),
                struct.pack("<d", 100.0),  # compression bias
                now.strftime("%d %b %y").encode("ascii"),
                now.strftime("%H:%M:%S").encode("ascii"),
                _padded(self.label.encode("utf-8"), 64),
                b"\0\0\0",
            ]
        )

    @staticmethod
    def _variable(variable: Variable, short: str) -> bytes:
        label = variable.label.encode("utf-8")[: MAX_STRING * 4]
        formats = NUMERIC_FORMAT if variable.width == 0 else (1 << 16) | (variable.width << 8)
        record = b"".join(
            [
                _int(2),
                _int(variable.width),
                _int(1),  # has a label
                _int(0),  # no missing values
                _int(formats),
                _int(formats),
                _padded(short.encode("ascii"), 8),
                _int(len(label)),
                label.ljust((len(label) + 3) // 4 * 4, b" "),
            ]
        )
        for _ in range(variable.segments - 1):  # the rest of a long string
            record += _int(2) + _int(-1) + _int(0) + _int(0) + _int(0) + _int(0) + b" " * 8
        return record

    def _value_labels(self) -> list[bytes]:
        records = []
        index = 1
        for variable in self.variables:
            if variable.width == 0 and variable.value_labels:
                labels = b""
                for value, text in variable.value_labels.items():
                    encoded = text.encode("utf-8")[:120]
                    entry = bytes([len(encoded)]) + encoded
                    labels += struct.pack("<d", value) + entry.ljust(
                        (len(entry) + 7) // 8 * 8, b" "
                    )
                records.append(_int(3) + _int(len(variable.value_labels)) + labels)
                records.append(_int(4) + _int(1) + _int(index))
            index += variable.segments
        return records

    @staticmethod
    def _extension(subtype: int, size: int, data: bytes) -> bytes:
        return _int(7) + _int(subtype) + _int(size) + _int(len(data) // size) + data


def _truncate(text: str, width: int) -> bytes:
    """UTF-8 bytes of at most `width`, never cutting a character in half."""
    encoded = text.encode("utf-8")
    if len(encoded) <= width:
        return encoded
    return encoded[:width].decode("utf-8", errors="ignore").encode("utf-8")
