"""Channel-neutral chat values: what a resident sent and what the bot answers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    """A button: its callback id (routed on) and its translated label (shown)."""

    id: str
    label: str


@dataclass(frozen=True)
class Document:
    """A file sent to the resident."""

    filename: str
    content: bytes
    mime_type: str = "application/json"


@dataclass(frozen=True)
class Reply:
    """One message from the bot, with optional buttons (rows) and an optional file."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    document: Document | None = None


@dataclass(frozen=True)
class Voice:
    """A voice note a resident sent: its bytes (empty when too big to take) and file suffix."""

    content: bytes
    suffix: str = "ogg"


@dataclass(frozen=True)
class Inbound:
    """Something a resident did: a command, some text, or a button press."""

    chat_id: int
    update_key: str
    command: str | None = None
    argument: str = ""
    text: str | None = None
    button: str | None = None
    client_language: str | None = None
    display_name: str | None = None  # never stored: only used to redact the resident's name
    voice: Voice | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The resident's own name as the channel gave it, to redact from what they write."""
        return (self.display_name,) if self.display_name else ()


@dataclass
class Outcome:
    """The bot's answer to one inbound event."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None  # a short toast for a button press
    edit: Reply | None = None  # new text and buttons for the message whose button was pressed
    stale: bool = False  # the pressed button belonged to a question already answered

    def say(self, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Append a message."""
        self.replies.append(Reply(text, buttons))
