"""Commands parsed from text: one table serves Telegram, Zalo and the console alike."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Awaitable, Callable, Collection

# A Telegram bot username: 5–32 of [A-Za-z0-9_] (3–64 accepted, as Zalo's are not documented).
_BOT_USERNAME = re.compile(r"[A-Za-z0-9_]{3,64}")
# A command name once diacritics are folded. Telegram's own limit is 32; a longer name is still
# answered as an unknown command rather than read as a plain message.
_FOLDED_NAME = re.compile(r"[a-z0-9_]{1,64}")
# "/tôi." or "/toi?" as typed at the end of a sentence.
_TRAILING_PUNCTUATION = ".,;:!?…"
# The head word, then the rest. Words merged into a multi-word name ("/tình hình") are separated
# by spaces on the same line only.
_HEAD = re.compile(r"/(\S+)(.*)", re.DOTALL)
_NEXT_WORD = re.compile(r"[ \t\u00a0]+(\S+)")
# "/bỏ đảng viên" is the longest name a Telex keyboard splits: three words.
_MAX_WORDS = 3


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # lower-case ASCII, diacritics folded (an alias or the Vietnamese name)
    args: tuple[str, ...]
    raw_args: str
    addressed_to: str | None  # the @botname after the command, if any
    typed: str = ""  # the name as typed ("tình hình"), for answers that repeat it


def fold(word: str) -> str:
    """``Tình`` → ``tinh``, ``ĐĂNG`` → ``dang``: how Telex keyboards write a command name."""
    word = unicodedata.normalize("NFKD", word)
    word = "".join(c for c in word if not unicodedata.combining(c))
    return word.replace("đ", "d").replace("Đ", "D").lower()


def _fold_name(word: str) -> str:
    return fold(word).rstrip(_TRAILING_PUNCTUATION)


def _split_bot(word: str) -> tuple[str, str | None] | None:
    """``toi@LanToaBot`` → (``toi``, ``LanToaBot``); None when what follows ``@`` is no bot name."""
    if "@" not in word:
        return word, None
    name, _, bot = word.partition("@")
    if not _BOT_USERNAME.fullmatch(bot):
        return None
    return name, bot


def parse_command(text: str, known: Collection[str] = ()) -> ParsedCommand | None:
    """``/cmd@botname args`` → its parts; None when the text is not a command.

    Diacritics are folded (``/tôi`` is ``/toi``, ``/đăngký`` is ``/dangky``). A name a Telex
    keyboard split in words (``/tình hình``) is joined only when the joined name is one of
    ``known`` and the first word alone is not, so that ``/toi abc`` keeps ``abc`` as an argument.
    """
    text = unicodedata.normalize("NFC", text or "").strip()
    match = _HEAD.fullmatch(text)
    if match is None:
        return None
    head, rest = match.group(1), match.group(2)
    split = _split_bot(head)
    if split is None:
        return None
    typed, addressed_to = split
    name = _fold_name(typed)
    if not _FOLDED_NAME.fullmatch(name):
        return None
    if addressed_to is None and name not in known:
        merged = _merge_words(name, rest, known)
        if merged is not None:
            name, addressed_to, more_typed, rest = merged
            typed = f"{typed} {more_typed}"
    raw_args = rest.strip()
    return ParsedCommand(name=name, args=tuple(raw_args.split()), raw_args=raw_args,
                         addressed_to=addressed_to, typed=typed)


def _merge_words(name: str, rest: str, known: Collection[str]):
    """(name, bot, the words as typed, what follows) for the longest known multi-word name."""
    words: list[tuple[str, int]] = []  # (word, where the text after it starts)
    at = 0
    for _ in range(_MAX_WORDS - 1):
        match = _NEXT_WORD.match(rest, at)
        if match is None:
            break
        at = match.end()
        words.append((match.group(1), at))
    for count in range(len(words), 0, -1):
        taken = [w for w, _ in words[:count]]
        split = _split_bot(taken[-1])
        if split is None:
            continue
        taken[-1], bot = split
        candidate = name + "".join(_fold_name(w) for w in taken)
        if candidate in known:
            return candidate, bot, " ".join(taken), rest[words[count - 1][1]:]
    return None


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
        return self._by_name.get(fold(name))

    def names(self) -> frozenset[str]:
        """Every name and alias, as parse_command compares them."""
        return frozenset(self._by_name)

    def parse(self, text: str) -> ParsedCommand | None:
        return parse_command(text, self._by_name)

    def menu(self) -> list[tuple[str, str]]:
        """(command, description) pairs for the platform's command menu, Vietnamese names."""
        return [(spec.name, spec.description) for spec in self.specs]


# --- links inside a command message -------------------------------------------------------------

class LinksInCommand:
    """What becomes of links typed in a command message (see ``links_in_command``)."""

    CREDIT = "credit"  # credited as if sent alone
    ARGUMENT = "argument"  # the command's own argument (a page, a focus post): never credited
    REFUSE = "refuse"  # not credited, and one line says why


# Commands whose arguments are links: crediting them would credit an admin for naming a page.
_LINKS_ARE_ARGUMENTS = frozenset({"trang", "tieudiem", "guilen"})
# /huy withdraws: crediting the link typed with it would do the opposite of what was asked.
_LINKS_REFUSED = frozenset({"huy"})
# Commands that change what a credit counts for (the group's unit, the person's home unit) run
# before the links of their message are credited, and /huy answers before saying why its link is
# not; every other command reads after the credit, so that "/toi <link>" shows the link it came with.
_RUN_BEFORE_CREDIT = frozenset({"dangky", "lienket", "huy"})


def links_in_command(name: str) -> str:
    """``name`` is the command's Vietnamese name (or, for an unknown command, as parsed)."""
    if name in _LINKS_ARE_ARGUMENTS:
        return LinksInCommand.ARGUMENT
    if name in _LINKS_REFUSED:
        return LinksInCommand.REFUSE
    return LinksInCommand.CREDIT


def runs_before_credit(name: str) -> bool:
    return name in _RUN_BEFORE_CREDIT
