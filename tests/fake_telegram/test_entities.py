"""The fake's entity helpers agree with Telegram: UTF-16 offsets and tdlib's HTML rules."""

from __future__ import annotations

import pytest

from tests.fake_telegram.entities import (
    EntityParseError,
    auto_entities,
    entity_text,
    parse_html,
    strip_whitespace,
    text_link,
    url_entities,
    utf16_len,
)

# Expectations of tdlib's own parse_html tests (the Bot API server's parser).
HTML_ERRORS = [
    ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
    ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
    (
        "🏟 🏟&lt;<i    aba>",
        'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13',
    ),
    ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
    ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
    ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
    ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'),
    ("<b>chưa đóng", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
]

HTML_PARSES = [
    ("&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", "<>&\"&laquo;&raquo;&#12345678;", []),
    ("➡️ ➡️<i>➡️ ➡️</i>", "➡️ ➡️➡️ ➡️", [("italic", 5, 5)]),
    ("➡️ ➡️<strong>➡️ ➡️</strong>", "➡️ ➡️➡️ ➡️", [("bold", 5, 5)]),
    ("➡️ ➡️<ins>➡️ ➡️</ins>", "➡️ ➡️➡️ ➡️", [("underline", 5, 5)]),
    ("➡️ ➡️<del>➡️ ➡️</del>", "➡️ ➡️➡️ ➡️", [("strikethrough", 5, 5)]),
    ("🏟 🏟<i>🏟 &lt🏟</i>", "🏟 🏟🏟 <🏟", [("italic", 5, 6)]),
    (
        "🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>",
        "🏟 🏟🏟 ><🏟",
        [("italic", 5, 7), ("bold", 9, 3)],
    ),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.>a</i>", "🏟 🏟<a", [("italic", 6, 1)]),
    ("🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>", "🏟 🏟<a", [("italic", 6, 1)]),
    ("🏟 🏟&lt;<b></b>", "🏟 🏟<", []),
    ("<i>\n</i>", "\n", [("italic", 0, 1)]),
    ("<a href=telegram.org>\t</a>", "\t", [("text_link", 0, 1, "http://telegram.org/")]),
    (
        "<a   href=  'telegram.org?&lt;'   > </a>",
        " ",
        [("text_link", 0, 1, "http://telegram.org/?<")],
    ),
    ("<a> </a>", " ", []),
    ("<a>telegram.org </a>", "telegram.org ", []),
    ("<a>telegram.org</a>", "telegram.org", [("text_link", 0, 12, "http://telegram.org/")]),
    ("🏟 🏟&lt;<pre><code>🏟 🏟&lt;</code></>", "🏟 🏟<🏟 🏟<", [("pre", 6, 6), ("code", 6, 6)]),
    (
        '🏟 🏟&lt;<pre><code class="language-fift">🏟 🏟&lt;</></>',
        "🏟 🏟<🏟 🏟<",
        [("pre", 6, 6, "fift")],
    ),
    (
        '🏟 🏟&lt;<code class="language-fift"><pre>🏟 🏟&lt;</></>',
        "🏟 🏟<🏟 🏟<",
        [("pre", 6, 6, "fift")],
    ),
    (
        '🏟 🏟&lt;<pre> <code class="language-fift">🏟 🏟&lt;</></>',
        "🏟 🏟< 🏟 🏟<",
        [("pre", 6, 7), ("code", 7, 6)],
    ),
    (
        "<code><i><b> </b></i></code><i><b><code> </code></b></i>",
        "  ",
        [("code", 0, 1), ("bold", 0, 1), ("italic", 0, 1), ("code", 1, 1), ("bold", 1, 1),
         ("italic", 1, 1)],
    ),
    ('<span class="tg-spoiler">bí mật</span>', "bí mật", [("spoiler", 0, 6)]),
    (
        "<blockquote expandable>Trích dẫn</blockquote>",
        "Trích dẫn",
        [("expandable_blockquote", 0, 9)],
    ),
]


def _shape(entity: dict) -> tuple:
    """Reduce an entity dict to (type, offset, length[, url or language])."""
    extra = entity.get("url") or entity.get("language")
    base = (entity["type"], entity["offset"], entity["length"])
    return base + (extra,) if extra else base


@pytest.mark.parametrize(("source", "message"), HTML_ERRORS)
def test_html_errors_match_telegram(source: str, message: str) -> None:
    """Malformed markup is refused with the Bot API's words and UTF-8 byte offsets."""
    with pytest.raises(EntityParseError) as raised:
        parse_html(source)
    assert str(raised.value) == message


@pytest.mark.parametrize(("source", "text", "entities"), HTML_PARSES)
def test_html_parses_like_telegram(source: str, text: str, entities: list[tuple]) -> None:
    """Well-formed markup yields tdlib's text and entities (offsets in UTF-16 units)."""
    parsed = parse_html(source)
    assert parsed.text == text
    assert sorted(map(_shape, parsed.entities)) == sorted(entities)


def test_mention_by_id_uses_known_user() -> None:
    """``tg://user?id=`` becomes a text_mention carrying the user when the server knows them."""
    known = {42: {"id": 42, "is_bot": False, "first_name": "Lan", "last_name": "Nguyễn"}}
    parsed = parse_html('Cảm ơn <a href="tg://user?id=42">cô Lan</a>!', known)
    (mention,) = parsed.entities
    assert (mention["type"], mention["user"]["last_name"]) == ("text_mention", "Nguyễn")
    assert entity_text(parsed.text, mention) == "cô Lan"


def test_url_entities_after_vietnamese_and_emoji() -> None:
    """Precomposed letters count one unit, emoji two; trailing punctuation is not in the link."""
    text = "Thầy cô 👉 https://fb.watch/abc/"
    assert url_entities(text) == [{"offset": 11, "length": 21, "type": "url"}]
    text = "🔥 Xem: https://www.facebook.com/share/p/1AbC/, (https://youtu.be/x?si=a) nhé."
    links = [entity_text(text, e) for e in url_entities(text)]
    assert links == ["https://www.facebook.com/share/p/1AbC/", "https://youtu.be/x?si=a"]
    assert url_entities("Trang https://vi.wikipedia.org/wiki/Huế_(định_hướng) hay") != []
    assert [entity_text("x https://vi.wikipedia.org/wiki/A_(B).", e) for e in url_entities(
        "x https://vi.wikipedia.org/wiki/A_(B).")] == ["https://vi.wikipedia.org/wiki/A_(B)"]


def test_auto_entities_detect_commands_tags_and_mentions() -> None:
    """Commands, #hashtags with Vietnamese letters and @usernames are found like a client does."""
    text = "/dangky@LanToaBot ABCD2345 #trang_tin #thôngbáo @colan_thcs https://t.me/x#y"
    found = [(e["type"], entity_text(text, e)) for e in auto_entities(text)]
    assert found == [
        ("bot_command", "/dangky@LanToaBot"),
        ("hashtag", "#trang_tin"),
        ("hashtag", "#thôngbáo"),
        ("mention", "@colan_thcs"),
        ("url", "https://t.me/x#y"),
    ]


def test_text_link_and_strip() -> None:
    """text_link finds the words; trimming shifts entities as the Bot API does."""
    text = "Mọi người xem bài này nhé 👍"
    link = text_link(text, "bài này", "https://fb.com/p/9")
    assert (link["offset"], link["length"], entity_text(text, link)) == (14, 7, "bài này")
    with pytest.raises(ValueError):
        text_link(text, "không có", "https://x.vn")
    stripped, entities = strip_whitespace("  \n" + text + "  ", [{**link, "offset": 17}])
    assert stripped == text and entities[0]["offset"] == 14
    assert utf16_len("👍ệ") == 3
