"""Commands parsed from text: one table serves Telegram, Zalo and the console alike."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Awaitable, Callable

# "/cmd", "/cmd@SomeBot", then arguments. Telegram allows 1–32 of [A-Za-z0-9_] in a command.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # as typed, lower-case (an alias or the Vietnamese name)
    args: tuple[str, ...]
    raw_args: str
    addressed_to: str | None  # the @botname after the command, if any


def parse_command(text: str) -> ParsedCommand | None:
    """``/cmd@botname args`` → its parts; None when the text is not a command."""
    text = unicodedata.normalize("NFC", text or "").strip()
    match = _COMMAND.match(text)
    if match is None:
        return None
    raw_args = (match.group(3) or "").strip()
    return ParsedCommand(
        name=match.group(1).lower(),
        args=tuple(raw_args.split()),
        raw_args=raw_args,
        addressed_to=match.group(2),
    )


@dataclass(frozen=True)
class CommandSpec:
    """A command: its Vietnamese name, English alias, menu description and handler."""

    name: str
    alias: str
    description: str
    handler: Callable[..., Awaitable[None]]


class CommandTable:
    """Looks commands up by Vietnamese name or English alias."""

    def __init__(self, specs: list[CommandSpec]) -> None:
        self.specs = specs
        self._by_name: dict[str, CommandSpec] = {}
        for spec in specs:
            for key in (spec.name, spec.alias):
                if key in self._by_name:
                    raise ValueError(f"command /{key} defined twice")
                self._by_name[key] = spec

    def get(self, name: str) -> CommandSpec | None:
        return self._by_name.get(name.lower())

    def menu(self) -> list[tuple[str, str]]:
        """(command, description) pairs for the platform's command menu, Vietnamese names."""
        return [(spec.name, spec.description) for spec in self.specs]
