"""Message entities as Telegram computes them: UTF-16 offsets, link detection and HTML parse mode.

Telegram measures entity offsets and lengths in UTF-16 code units, so an emoji before a link
shifts the link by two and a precomposed Vietnamese letter by one. The HTML parser follows the
rules (and error messages) of the Bot API server, which uses tdlib's ``parse_html``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "EntityParseError",
    "ParsedText",
    "auto_entities",
    "command_entities",
    "entity_text",
    "hashtag_entities",
    "mention_entities",
    "parse_html",
    "strip_whitespace",
    "text_link",
    "url_entities",
    "utf16_len",
    "utf16_offset",
]


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, the unit of Telegram offsets."""
    return len(text.encode("utf-16-le")) // 2


def utf16_offset(text: str, index: int) -> int:
    """Return the UTF-16 offset of the Python (code point) index ``index`` in ``text``."""
    return utf16_len(text[:index])


def entity_text(text: str, entity: dict[str, Any]) -> str:
    """Return the part of ``text`` an entity dict covers, decoding its UTF-16 offsets."""
    units = text.encode("utf-16-le")
    start = entity["offset"] * 2
    return units[start : start + entity["length"] * 2].decode("utf-16-le")


def _entity(kind: str, text: str, start: int, end: int, **extra: Any) -> dict[str, Any]:
    """Build an entity dict (Telegram's key order) from Python indexes into ``text``."""
    offset = utf16_offset(text, start)
    return {"offset": offset, "length": utf16_len(text[start:end]), "type": kind, **extra}


_URL_RE = re.compile(r"(?i)(?<![\w@/])https?://[^\s<>\"'«»]+")
_URL_TRAILING = ".,;:!?'\")]}…"
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z][A-Za-z0-9_]{2,31})?(?![\w@/])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")


def _trim_url(candidate: str) -> str:
    """Drop punctuation that ends a sentence rather than a link, keeping balanced brackets."""
    while candidate and candidate[-1] in _URL_TRAILING:
        last = candidate[-1]
        if last == ")" and candidate.count("(") >= candidate.count(")"):
            break
        candidate = candidate[:-1]
    return candidate


def url_entities(text: str) -> list[dict[str, Any]]:
    """Return a ``url`` entity for every http(s) link in ``text``, with UTF-16 offsets."""
    found = []
    for match in _URL_RE.finditer(text):
        url = _trim_url(match.group())
        if "." in urlsplit(url).netloc or urlsplit(url).hostname == "localhost":
            found.append(_entity("url", text, match.start(), match.start() + len(url)))
    return found


def command_entities(text: str) -> list[dict[str, Any]]:
    """Return a ``bot_command`` entity for every ``/command`` or ``/command@bot`` in ``text``."""
    return [_entity("bot_command", text, m.start(), m.end()) for m in _COMMAND_RE.finditer(text)]


def mention_entities(text: str) -> list[dict[str, Any]]:
    """Return a ``mention`` entity for every ``@username`` in ``text``."""
    return [_entity("mention", text, m.start(), m.end()) for m in _MENTION_RE.finditer(text)]


def hashtag_entities(text: str) -> list[dict[str, Any]]:
    """Return a ``hashtag`` entity for every ``#tag`` in ``text`` (Vietnamese letters included)."""
    return [_entity("hashtag", text, m.start(), m.end()) for m in _HASHTAG_RE.finditer(text)]


def auto_entities(text: str | None) -> list[dict[str, Any]]:
    """Return the entities a Telegram client detects itself: links, commands, @mentions, #tags."""
    if not text:
        return []
    kept: list[dict[str, Any]] = []
    for candidate in (
        url_entities(text) + command_entities(text) + mention_entities(text)
        + hashtag_entities(text)
    ):
        start, end = candidate["offset"], candidate["offset"] + candidate["length"]
        if all(end <= k["offset"] or start >= k["offset"] + k["length"] for k in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda e: e["offset"])


def text_link(text: str, substring: str, url: str, occurrence: int = 0) -> dict[str, Any]:
    """Return a ``text_link`` entity hiding ``url`` behind ``substring`` (its n-th occurrence)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.find(substring, start + 1)
        if start < 0:
            raise ValueError(f"{substring!r} does not occur {occurrence + 1} time(s) in the text")
    return _entity("text_link", text, start, start + len(substring), url=url)


def strip_whitespace(
    text: str, entities: list[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """Trim text as the Bot API does, shifting and clipping entities; drop empty ones."""
    stripped = text.strip()
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --- HTML parse mode --------------------------------------------------------------------------

_TAGS = {
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
    "span", "pre", "code", "blockquote",
}
_SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_SPACES = " \t\r\n\f\v"
_TG_USER_RE = re.compile(r"(?i)^tg://user\?id=(\d+)$")


def _is_token_char(char: str) -> bool:
    """Tell whether ``char`` may appear in an unquoted attribute value."""
    return char.isascii() and char.isalnum() or char in ".-"


class EntityParseError(ValueError):
    """The Bot API refused the markup; ``str(error)`` follows "can't parse entities: "."""


@dataclass
class ParsedText:
    """Text and entities produced by a parse mode."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Open:
    """A start tag waiting for its end tag."""

    name: str
    argument: str
    offset: int
    text_start: int
    expandable: bool = False


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity at ``source[pos] == '&'`` like tdlib; ``;`` is optional."""
    end = pos + 1
    if source.startswith("&#", pos):
        end += 1
        hexadecimal = source.startswith("x", end)
        if hexadecimal:
            end += 1
        digits = end
        allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < len(source) and source[end] in allowed:
            end += 1
        if end == digits or end - pos >= 10:
            return None
        value = int(source[digits:end], 16 if hexadecimal else 10)
        if value == 0 or value >= 0x10FFFF:
            return None
        char = chr(value)
    else:
        while end < len(source) and source[end].isascii() and source[end].isalpha():
            end += 1
        char = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(source[pos + 1 : end], "")
        if not char:
            return None
    if source.startswith(";", end):
        end += 1
    return char, end


def _checked_link(url: str) -> str:
    """Normalise an ``href`` roughly like Telegram: add ``http://``, drop what is not a link."""
    if not url or any(c in url for c in _SPACES):
        return ""
    if url.lower().startswith("tg://"):
        return url
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https", "ftp", "tonsite"} or "." not in parts.netloc:
        return ""
    if not parts.path:
        url = parts._replace(path="/").geturl()
    return url


def parse_html(source: str, known_users: dict[int, dict[str, Any]] | None = None) -> ParsedText:
    """Parse Telegram HTML into text and entities; raise ``EntityParseError`` like the API."""

    def byte_offset(index: int) -> int:
        """Return the UTF-8 byte offset of ``source[index]``, the unit of the API's messages."""
        return len(source[:index].encode("utf-8"))

    out: list[str] = []
    offset = 0
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    size = len(source)
    i = 0
    while i < size:
        char = source[i]
        if char == "&":
            decoded = _decode_entity(source, i)
            if decoded:
                out.append(decoded[0])
                offset += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if char != "<":
            out.append(char)
            offset += utf16_len(char)
            i += 1
            continue
        begin = i
        i += 1
        if i < size and source[i] == "/":
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            i += 1
            while i < size and source[i] not in _SPACES and source[i] != ">":
                i += 1
            end_name = source[begin + 2 : i].lower()
            while i < size and source[i] in _SPACES:
                i += 1
            if i >= size or source[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i += 1
            opened = stack[-1]
            if end_name and end_name != opened.name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, expected "
                    f'"</{opened.name}>", found "</{end_name}>"'
                )
            stack.pop()
            if offset > opened.offset:
                _close(opened, offset, "".join(out), entities, known_users or {})
            continue
        while i < size and source[i] not in _SPACES and source[i] != ">":
            i += 1
        if i >= size:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[begin + 1 : i].lower()
        if name not in _TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}'
            )
        argument, expandable = "", False
        while i < size and source[i] != ">":
            while i < size and source[i] in _SPACES:
                i += 1
            if i < size and source[i] == ">":
                break
            attr_begin = i
            while i < size and source[i] not in _SPACES and source[i] not in "=>":
                i += 1
            attr = source[attr_begin:i].lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}'
                )
            while i < size and source[i] in _SPACES:
                i += 1
            if name == "blockquote" and attr == "expandable" and (i >= size or source[i] != "="):
                expandable = True
                continue
            if i >= size or source[i] != "=":
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {byte_offset(begin)}'
                )
            i += 1
            while i < size and source[i] in _SPACES:
                i += 1
            if i >= size:
                raise EntityParseError(
                    f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}'
                )
            if source[i] not in "'\"":
                token = i
                while i < size and _is_token_char(source[i]):
                    i += 1
                value = source[token:i].lower()
                if i < size and source[i] not in _SPACES and source[i] != ">":
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {byte_offset(token)}"
                    )
            else:
                quote = source[i]
                i += 1
                chars = []
                while i < size and source[i] != quote:
                    decoded = _decode_entity(source, i) if source[i] == "&" else None
                    if decoded:
                        chars.append(decoded[0])
                        i = decoded[1]
                    else:
                        chars.append(source[i])
                        i += 1
                i += 1
                value = "".join(chars)
            if i >= size:
                raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if (name, attr) in {("a", "href"), ("tg-emoji", "emoji-id")}:
                argument = value
            elif name == "code" and attr == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif name == "span" and attr == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
        if name == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
            )
        i += 1
        stack.append(_Open(name, argument, offset, len(out), expandable))
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    for entity in entities:
        entity.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities)


def _close(
    opened: _Open,
    offset: int,
    text: str,
    entities: list[dict[str, Any]],
    known_users: dict[int, dict[str, Any]],
) -> None:
    """Turn a closed tag spanning ``opened.offset..offset`` into an entity appended to the list."""
    span = {"offset": opened.offset, "length": offset - opened.offset}
    name = opened.name
    if name in _SIMPLE or name == "span":
        entities.append({**span, "type": _SIMPLE.get(name, "spoiler")})
    elif name == "blockquote":
        kind = "expandable_blockquote" if opened.expandable else "blockquote"
        entities.append({**span, "type": kind})
    elif name == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append({**span, "type": "custom_emoji", "custom_emoji_id": opened.argument})
    elif name == "a":
        url = opened.argument or text[opened.text_start :]
        user = _TG_USER_RE.match(url)
        if user:
            user_id = int(user.group(1))
            label = text[opened.text_start :]
            who = known_users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": label}
            entities.append({**span, "type": "text_mention", "user": who})
        elif url := _checked_link(url):
            entities.append({**span, "type": "text_link", "url": url})
    elif name in {"pre", "code"}:
        last = entities[-1] if entities else None
        same = last is not None and (last["offset"], last["length"]) == (
            span["offset"], span["length"],
        )
        if name == "pre" and same and last["type"] == "code" and last.get("_language"):
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        elif name == "code" and same and last["type"] == "pre" and opened.argument:
            last["language"] = opened.argument
        elif name == "code":
            entities.append({**span, "type": "code", "_language": opened.argument})
        else:
            entities.append({**span, "type": "pre"})
