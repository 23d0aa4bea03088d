"""Link shapes real sharing produces beyond the shared corpus (issue 13 item 4, SPEC §3.1, §4.4).

The cases live in tests/data/url_cases_extra.json, in the style of url_cases.json: one test per
entry, so that a failure names the case. The tables below hold what JSON states badly (the bidi
rule as a property of every position, and what one message of glued links credits).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.links import NEWS_DOMAINS, canonicalize, classify, extract_links, is_post, page_key

CASES_PATH = Path(__file__).resolve().parents[1] / "data" / "url_cases_extra.json"
CASES = json.loads(CASES_PATH.read_text(encoding="utf-8"))
SECTIONS = ("equivalent_groups", "distinct_pairs", "invalid", "platform", "extract", "is_post", "canonical", "page_key")


def _short(text: str, limit: int = 70) -> str:
    text = text.encode("unicode_escape").decode("ascii") if not text.isascii() else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _params(key: str) -> list:
    return [pytest.param(item, id=f"{key}[{i}]:{_short(str(item))}") for i, item in enumerate(CASES[key])]


def test_every_section_is_present():
    for key in SECTIONS:
        assert CASES.get(key), f"url_cases_extra.json has no {key!r} section"


@pytest.mark.parametrize("group", _params("equivalent_groups"))
def test_equivalent_group_has_one_canonical_form(group):
    forms = {url: canonicalize(url) for url in group}
    assert None not in forms.values(), f"refused: {[u for u, c in forms.items() if c is None]}"
    assert len(set(forms.values())) == 1, json.dumps(forms, indent=1, ensure_ascii=False)
    assert all(is_post(url) for url in group)


@pytest.mark.parametrize("pair", _params("distinct_pairs"))
def test_distinct_pair_stays_distinct(pair):
    a, b = pair
    ca, cb = canonicalize(a), canonicalize(b)
    assert ca is not None and cb is not None
    assert ca != cb


@pytest.mark.parametrize("url", _params("invalid"))
def test_invalid_is_refused(url):
    assert canonicalize(url) is None
    assert is_post(url) is False
    assert page_key(url) is None


@pytest.mark.parametrize("entry", _params("platform"))
def test_platform(entry):
    url, platform = entry
    assert classify(url) == platform
    canonical = canonicalize(url)
    assert canonical is not None
    assert classify(canonical) == platform
    assert canonicalize(canonical) == canonical


@pytest.mark.parametrize("entry", _params("extract"))
def test_extract(entry):
    text, expected = entry
    assert extract_links(text) == expected


@pytest.mark.parametrize("entry", _params("is_post"))
def test_is_post(entry):
    url, expected = entry
    assert is_post(url) is expected
    canonical = canonicalize(url)
    assert canonical is not None
    assert is_post(canonical) is expected


@pytest.mark.parametrize("entry", _params("canonical"))
def test_canonical(entry):
    url, expected = entry
    assert canonicalize(url) == expected
    assert canonicalize(expected) == expected


@pytest.mark.parametrize("entry", _params("page_key"))
def test_page_key(entry):
    url, expected = entry
    assert page_key(url) == expected


# ---------------------------------------------------------------------------------------------
# Bidi controls (SPEC §4.4): wherever one sits in or against a link, nothing in it is creditable

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
LINKS = [
    "https://www.facebook.com/thptkimboi/posts/123456789",
    "facebook.com/thptkimboi/posts/123456789",
    "www.tuoitre.vn/bai-viet-20261127123456789.htm",
    "https://youtu.be/dQw4w9WgXcQ?si=abc",
]


def _creditable(text: str) -> list[str]:
    return [c for c in map(canonicalize, extract_links(text)) if c is not None]


@pytest.mark.parametrize("link", LINKS, ids=_short)
def test_a_bidi_control_anywhere_in_a_link_leaves_nothing_creditable(link):
    assert _creditable(f"Bài mới {link} nhé") != []  # the clean link counts
    for char in BIDI:
        for i in range(len(link) + 1):
            tainted = link[:i] + char + link[i:]
            assert _creditable(f"Bài mới {tainted} nhé") == [], _short(tainted)
            assert canonicalize(tainted) is None


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(LINKS), st.sampled_from(BIDI), st.integers(min_value=0, max_value=200), st.text(max_size=8))
def test_a_bidi_control_never_leaves_a_creditable_remainder(link, char, at, around):
    i = at % (len(link) + 1)
    text = f"{around} {link[:i]}{char}{link[i:]} {around}"
    clean = {canonicalize(x) for x in extract_links(f"{around} {around}")}
    assert set(_creditable(text)) <= clean - {None}


def test_a_bidi_control_elsewhere_in_the_message_does_not_taint_a_link():
    text = "\u202bالرابط\u202c: https://www.facebook.com/thptkimboi/posts/123456789 nhé"
    assert _creditable(text) == ["https://www.facebook.com/thptkimboi/posts/123456789"]


# ---------------------------------------------------------------------------------------------
# Glued links and Vietnamese text after a post id


def test_two_links_glued_by_punctuation_credit_two_posts():
    for sep in ",;.!":
        text = f"https://www.facebook.com/thptkimboi/posts/1{sep}https://www.facebook.com/thptkimboi/posts/2"
        assert _creditable(text) == [
            "https://www.facebook.com/thptkimboi/posts/1",
            "https://www.facebook.com/thptkimboi/posts/2",
        ], sep


@pytest.mark.parametrize("tail", [".Cảm ơn", ",mọi người", ";Đã xem", "!Tuyệt", "?Ai xem chưa", ".Ca\u0309m ơn"])
def test_a_post_id_followed_by_punctuation_and_vietnamese_is_the_same_post(tail):
    for link, canonical in [
        ("https://www.facebook.com/thptkimboi/posts/123456", "https://www.facebook.com/thptkimboi/posts/123456"),
        ("https://www.facebook.com/thptkimboi/videos/7301234567890123", "https://www.facebook.com/watch/?v=7301234567890123"),
        ("https://www.tiktok.com/@truongthcs/video/7301234567890123456", "https://www.tiktok.com/@_/video/7301234567890123456"),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ]:
        assert _creditable(f"{link}{tail}") == [canonical]
        # Telegram marks the whole run as the link (its parser continues through letters).
        assert canonicalize(f"{link}{tail.split(' ')[0]}") == canonical


# ---------------------------------------------------------------------------------------------
# The press list


def test_the_national_press_named_in_the_issue_is_listed():
    named = {
        "vnexpress.net", "tuoitre.vn", "thanhnien.vn", "dantri.com.vn", "vietnamnet.vn", "nhandan.vn",
        "baochinhphu.vn", "giaoducthoidai.vn", "vtv.vn", "vov.vn", "tienphong.vn", "kenh14.vn", "baomoi.com",
        "laodong.vn", "nld.com.vn", "plo.vn", "sggp.org.vn", "qdnd.vn", "cand.com.vn", "congan.com.vn",
        "zingnews.vn", "znews.vn", "24h.com.vn", "vietnamplus.vn", "baotintuc.vn", "vnanet.vn",
        "suckhoedoisong.vn", "giaoduc.net.vn", "toquoc.vn", "doisongphapluat.com", "afamily.vn", "soha.vn",
        "cafef.vn", "cafebiz.vn", "vtcnews.vn", "hanoimoi.com.vn", "baodautu.vn", "thanhtra.com.vn",
        "tapchigiaoduc.edu.vn", "baohoabinh.com.vn",
    }
    assert named <= NEWS_DOMAINS, sorted(named - NEWS_DOMAINS)
    assert len(NEWS_DOMAINS) >= 150
    assert not any(d.endswith(".gov.vn") or d in {"chinhphu.vn", "zing.vn"} for d in NEWS_DOMAINS)
