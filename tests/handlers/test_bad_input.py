"""Bad input of every kind gets an answer or silence, never a crash or a half-written change."""

from __future__ import annotations

import random
from datetime import date

from bot.domain import texts_vi

PIECES = [
    "https://", "http://", "www.", "facebook.com/", "fb.watch/", "m.facebook.com/story.php?story_fbid=",
    "youtu.be/", "/toi", "/dangky", "/huy", "/huongdan", "@LanToaBot", " ", "\n", "\u200b", "\u202e", "%",
    "?", "&", "=", "#", "(", ")", "«", "»", "“", "”", "xn--", "..", "ạ", "Đ", "🔥", "\x00", "localhost",
    "127.0.0.1", "[::1]", "javascript:", "posts/", "123456789", "pfbid0abc", "tiktok.com/@a/video/1",
]


def nasty_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25))) for _ in range(n)]


async def test_random_messages_never_crash_a_handler(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    lan = harness.user("Lan")
    sent = []
    for i, text in enumerate(nasty_texts(400)):
        chat = g if i % 3 else harness.private(lan)
        sent.append(await harness.send(chat, lan, text))
        if i % 7 == 0:
            await harness.send(chat, lan, text[::-1], message_id=sent[-1].message_id, edited=True)
        if i % 11 == 0:
            await harness.send(chat, lan, "/huy " + text, reply_to=sent[i // 2])
    assert texts_vi.APOLOGY not in harness.messenger.texts()


async def test_huge_message_with_many_links_is_bounded(harness):
    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    text = " ".join(f"https://tuoitre.vn/bai-viet-{i}-2026112712{i:05d}.htm" for i in range(5000))
    await harness.send(g, harness.user("Lan"), text)
    assert await harness.scalar("select count(*) from submissions") == 10
    assert texts_vi.APOLOGY not in harness.messenger.texts()


def test_every_fixed_sentence_is_nfc_vietnamese():
    import unicodedata

    from bot.domain import texts_vi

    sentences = [v for k, v in vars(texts_vi).items() if isinstance(v, str) and not k.startswith("_")]
    sentences += [texts_vi.help_text(1, 10), texts_vi.already_credited(date(2026, 11, 27), True)]
    assert len(sentences) > 15
    for sentence in sentences:
        assert unicodedata.normalize("NFC", sentence) == sentence, sentence


async def test_what_the_bot_says_is_nfc(harness):
    import unicodedata

    g = harness.group()
    await harness.bind(g, "THCS-KIMBOI")
    # A name typed in decomposed form (NFD), as some phone keyboards send it.
    lan = harness.user(unicodedata.normalize("NFD", "Nguyễn Thị Lan"))
    await harness.send(g, lan, "https://www.facebook.com/thptkimboi")
    await harness.send(g, lan, "/toi")
    await harness.send(harness.private(lan), lan, "/huongdan")
    texts = harness.messenger.texts()
    assert len(texts) == 3
    for text in texts:
        assert unicodedata.normalize("NFC", text) == text, text
