"""Files residents send (voice notes), kept under the data folder by an unguessable key."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}\.[a-z0-9]{1,8}$")
_SUFFIX = re.compile(r"^[a-z0-9]{1,8}$")


class FileStore:
    """Stores and removes files by key; keys never carry personal data."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, content: bytes, suffix: str) -> str:
        """Write a file and return its key."""
        self.root.mkdir(parents=True, exist_ok=True)
        suffix = suffix.lstrip(".").lower()
        key = f"{secrets.token_urlsafe(18)}.{suffix if _SUFFIX.match(suffix) else 'bin'}"
        (self.root / key).write_bytes(content)
        return key

    def path(self, key: str) -> Path:
        """Where a stored file lives; refuses keys that could escape the folder."""
        if not _KEY.match(key):
            raise ValueError("not a file key")
        return self.root / key

    def read(self, key: str) -> bytes:
        """A stored file's content."""
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove a stored file (absent is fine)."""
        self.path(key).unlink(missing_ok=True)
