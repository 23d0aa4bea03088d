"""Links in chat messages: find them, reduce each to one canonical string, say what they are.

SPEC §3.1 and §4.4. Pure: no I/O and no clock. The only data read is the copy of the Public
Suffix List bundled with the ``publicsuffixlist`` package, loaded once, on first use.

One analysis per URL (``_analyze``, cached) yields the canonical form, the platform, the page key
and whether the link is one piece of content; the public functions are views of it, so that a
message's links cost one parse each however many of these functions the handler calls.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from encodings import idna as _idna
from typing import Iterable
from urllib.parse import unquote

from publicsuffixlist import PublicSuffixList

__all__ = [
    "MAX_CANONICAL_LENGTH",
    "NEWS_DOMAINS",
    "PLATFORMS",
    "canonicalize",
    "classify",
    "extract_links",
    "is_allowed",
    "is_post",
    "news_domains",
    "page_key",
]

MAX_CANONICAL_LENGTH = 2048
# Longer input is refused before any work: no real link is this long, and the cap bounds the
# time one hostile message can cost.
_MAX_INPUT_LENGTH = 16384
_CACHEABLE_LENGTH = 1024
# l.php may wrap l.php; two levels are seen in the wild, more is a loop or an attack.
_MAX_REDIRECT_DEPTH = 3

PLATFORMS = ("facebook", "zalo", "tiktok", "youtube", "instagram", "x", "news", "other")


# ---------------------------------------------------------------------------------------------
# Built-in data


# Vietnamese press outlets (national, sector and provincial papers). Subdomains count too
# (e.vnexpress.net, giadinh.suckhoedoisong.vn). Government portals (*.gov.vn) are deliberately
# absent: they are sources of official news but not press, and the plan tallies them as "other"
# (baodientu.chinhphu.vn, the government's newspaper before baochinhphu.vn, is listed by its host:
# the rest of chinhphu.vn stays a portal). zing.vn is VNG's portal; only news.zing.vn is press.
# Names of papers of provinces merged in 2025 are kept: old links stay in circulation for years.
NEWS_DOMAINS: frozenset[str] = frozenset(
    {
        # national and central press
        "vnexpress.net", "tuoitre.vn", "thanhnien.vn", "dantri.com.vn", "vietnamnet.vn",
        "nhandan.vn", "baochinhphu.vn", "giaoducthoidai.vn", "vtv.vn", "vov.vn",
        "vovgiaothong.vn", "tienphong.vn", "kenh14.vn", "baomoi.com", "laodong.vn", "qdnd.vn",
        "cand.com.vn", "zingnews.vn", "znews.vn", "vietnamplus.vn", "vnanet.vn", "baotintuc.vn",
        "nld.com.vn", "plo.vn", "sggp.org.vn", "hanoimoi.vn", "kinhtedothi.vn",
        "anninhthudo.vn", "congan.com.vn", "suckhoedoisong.vn", "dangcongsan.vn",
        "tapchicongsan.org.vn", "daibieunhandan.vn", "baodautu.vn", "baoquocte.vn", "toquoc.vn",
        "vtc.vn", "vietnamnews.vn", "vneconomy.vn", "baophapluat.vn", "phunuvietnam.vn",
        "phunuonline.com.vn", "tuoitrethudo.vn", "baogiaothong.vn", "baoxaydung.com.vn",
        "congthuong.vn", "nongnghiep.vn", "nongnghiepmoitruong.vn", "baovanhoa.vn",
        "thethaovanhoa.vn", "doisongphapluat.com.vn", "giadinhonline.vn", "infonet.vn",
        "vietq.vn", "baodansinh.vn", "dantocmiennui.vn", "baotainguyenmoitruong.vn",
        "thoibaotaichinhvietnam.vn", "vir.com.vn", "saigongiaiphong.vn", "baodongkhoi.vn",
        "24h.com.vn", "soha.vn", "cafef.vn", "cafebiz.vn", "genk.vn", "afamily.vn", "eva.vn",
        "ngoisao.vn", "vnmedia.vn", "baomoi.vn",
        "nhandan.com.vn", "baodientu.chinhphu.vn", "news.zing.vn", "doisongphapluat.com",
        "vtcnews.vn", "hanoimoi.com.vn", "thanhtra.com.vn", "thanhtravietnam.vn", "danviet.vn",
        "daidoanket.vn", "nguoiduatin.vn", "congly.vn", "baovephapluat.vn", "kiemsat.vn",
        "tapchitoaan.vn", "bienphong.com.vn", "baodantoc.vn", "laodongthudo.vn",
        "tuoitrenews.vn", "khoahocdoisong.vn", "bongda.com.vn", "htv.com.vn", "hanoionline.vn",
        "thesaigontimes.vn", "tinnhanhchungkhoan.vn", "thoibaonganhang.vn", "petrotimes.vn",
        "ictvietnam.vn", "baodauthau.vn", "vietnamfinance.vn", "cadn.com.vn",
        # education and youth press
        "giaoduc.net.vn", "tapchigiaoduc.edu.vn", "sinhvienvietnam.vn", "hoahoctro.vn",
        "thieunien.vn",
        # provincial and city papers
        "baohoabinh.com.vn", "baophutho.vn", "baovinhphuc.com.vn", "baothainguyen.vn",
        "baobackan.org.vn", "baocaobang.vn", "baolangson.vn", "baobacgiang.vn",
        "baobacgiang.com.vn", "baobacninh.vn", "baobacninhtv.vn", "baoquangninh.vn",
        "baohaiphong.vn", "baohaiphong.com.vn", "baohaiduong.vn", "baohungyen.vn",
        "baothaibinh.com.vn", "baohanam.com.vn", "baonamdinh.vn", "baoninhbinh.org.vn",
        "baothanhhoa.vn", "baonghean.vn", "baohatinh.vn", "baoquangbinh.vn", "baoquangtri.vn",
        "baothuathienhue.vn", "baohue.vn", "baodanang.vn", "baoquangnam.vn",
        "baoquangngai.vn", "baobinhdinh.vn", "baophuyen.vn", "baokhanhhoa.vn",
        "baoninhthuan.com.vn", "baobinhthuan.com.vn", "baokontum.com.vn", "baogialai.com.vn",
        "baodaklak.vn", "baodaknong.vn", "baolamdong.vn", "baobinhphuoc.com.vn",
        "baobinhduong.vn", "baodongnai.com.vn", "baobariavungtau.com.vn", "baotayninh.vn",
        "baolongan.vn", "baolongan.com.vn", "baoapbac.vn", "baotiengiang.vn",
        "baobentre.com.vn", "baovinhlong.com.vn", "baotravinh.vn", "baodongthap.vn",
        "baoangiang.com.vn", "baocantho.com.vn", "baohaugiang.com.vn", "baosoctrang.org.vn",
        "baobaclieu.vn", "baocamau.vn", "baokiengiang.vn", "baolaocai.vn", "baoyenbai.com.vn",
        "baohagiang.vn", "baotuyenquang.com.vn", "baodienbienphu.com.vn", "baolaichau.vn",
        "baosonla.org.vn", "baosonla.vn", "baodienbien.vn", "baoquangninh.com.vn",
        "baonamdinh.com.vn",
    }
)

# The platforms' own registrable domains. Every host under one of these is that platform.
_PLATFORM_DOMAINS: dict[str, str] = {
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "fb.watch": "facebook",
    "fb.me": "facebook",
    "zalo.me": "zalo",
    "zalo.vn": "zalo",
    "zaloapp.com": "zalo",
    "tiktok.com": "tiktok",
    "tiktokv.com": "tiktok",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "youtube-nocookie.com": "youtube",
    "youtubekids.com": "youtube",
    "instagram.com": "instagram",
    "instagr.am": "instagram",
    "x.com": "x",
    "twitter.com": "x",
    # Embed fixers: people paste these so that a tweet previews in chat; the id is X's own.
    "fxtwitter.com": "x",
    "vxtwitter.com": "x",
    "fixupx.com": "x",
    "fixvx.com": "x",
}

# Labels that phishing hosts imitate ("fаcebook" with a Cyrillic а, "faceb00k", "zalô").
_BRAND_LABELS = frozenset(
    {
        "facebook", "fb", "zalo", "zaloapp", "tiktok", "tiktokv", "youtube", "youtu",
        "instagram", "instagr", "twitter", "x", "messenger",
    }
)

# Special-use names (RFC 6761 and friends): never a public host even where the PSL lists them.
_SPECIAL_USE_TLDS = frozenset({"arpa", "onion", "local", "localhost", "test", "example", "invalid", "internal"})

# TLDs that are also common file extensions: "file.zip", "main.py", "README.md" written in a
# message are file names, not links, unless they carry a scheme, "www." or a path.
_FILE_LIKE_TLDS = frozenset({"zip", "mov", "py", "md", "sh", "rs", "pl", "ai", "ps", "cs", "pdf", "doc", "ml"})

# Query parameters that track the reader, never identify the content (ClearURLs/AdGuard rules and
# what Facebook, Zalo, TikTok and Instagram append to shared links). Used for sites whose query
# we do not know; on the big platforms only the identifying parameters are kept instead.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "li_fat_id", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "igsh", "igshid",
        "mibextid", "rdid", "share_url", "refid", "paipv", "eav", "_rdc", "_rdr", "__tn__",
        "sfnsn", "zarsrc", "gidzl", "ocid", "si", "is_from_webapp", "sender_device",
        "sender_web_id", "ref_src", "ref_url", "_ga", "_gl", "extid", "wtsid", "_openstat",
    }
)
_TRACKING_PREFIXES = ("utm_", "__cft__", "__xts__", "pk_", "mtm_", "hmb_")

# Identifying parameters of Facebook's generic pages (everything else on facebook.com tracks).
_FB_KEEP_PARAMS = frozenset({"id", "v", "fbid", "story_fbid", "set"})
_YT_KEEP_PARAMS = frozenset({"v", "list", "search_query"})

# Facebook host variants that serve the same content as www.facebook.com.
_FB_MIRROR_LABELS = frozenset(
    {"", "www", "m", "mbasic", "web", "touch", "mobile", "free", "d", "iphone", "business", "b-m", "upload"}
)
_FB_LANG_LABEL = re.compile(r"[a-z]{2}-[a-z]{2}")
_FB_REDIRECT_HOSTS = frozenset({"l.facebook.com", "lm.facebook.com", "l.messenger.com", "l.instagram.com"})

# First path segments of facebook.com that are not page names.
_FB_RESERVED = frozenset(
    {
        "groups", "share", "watch", "reel", "reels", "photo", "photo.php", "photos", "story.php",
        "permalink.php", "profile.php", "video.php", "events", "hashtag", "pages", "people",
        "pg", "p", "login", "login.php", "home.php", "marketplace", "gaming", "stories",
        "sharer", "sharer.php", "plugins", "dialog", "l.php", "flx", "help", "policies",
        "privacy", "settings", "notifications", "messages", "friends", "bookmarks", "search",
        "media", "notes", "live", "ads", "business", "recover", "checkpoint", "legal", "terms",
        "about", "fundraisers", "jobs", "saved", "memories", "feeds", "videos", "posts",
    }
)
_X_RESERVED = frozenset(
    {
        "i", "home", "search", "explore", "hashtag", "intent", "share", "settings", "messages",
        "notifications", "compose", "login", "signup", "tos", "privacy", "logout", "account",
        "statuses",
    }
)
_IG_RESERVED = frozenset(
    {
        "p", "reel", "reels", "tv", "stories", "explore", "accounts", "direct", "about", "developer", "legal",
        "web", "share", "s",
    }
)
_YT_VIDEO_PREFIXES = frozenset({"shorts", "embed", "live", "v", "e"})
# zalo.me/<name> is a person or an Official Account, except these: the app's own pages, group
# invitations (g), Mini Apps (s/<app id>) and the share dialog (article/share?url=).
_ZALO_RESERVED = frozenset({"g", "s", "pc", "article", "download", "app", "qr", "sticker", "help", "about"})
_X_CONTENT = frozenset({"broadcasts", "spaces", "events"})

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_PORT_ONLY_RE = re.compile(r"\d*(?:[/?#]|$)")
_AUTHORITY_RE = re.compile(r"//([^/?#]*)([^?#]*)(?:\?([^#]*))?")
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_IPV4_RE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SAFE_ID = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")
_DIGITS = re.compile(r"\d+")
_FB_NAME_WITH_ID = re.compile(r".*-(\d{5,})")
_FB_POST_ID = re.compile(r"\d+|pfbid[0-9A-Za-z]+")
_FB_USERNAME = re.compile(r"[a-z0-9][a-z0-9.]*")  # Facebook usernames: letters, digits, dots
_TIKTOK_V_HTML = re.compile(r"(\d+)\.html")
_NEWS_ARTICLE_ID = re.compile(r"\d{5,}")
# A numeric or pfbid id, then punctuation and whatever was typed after it ("123456.Thanks").
_ID_THEN_TEXT = re.compile(r"(\d+|pfbid[0-9A-Za-z]+)[.,;:!?'*)\]]")
_CODE_THEN_TEXT = re.compile(r"([A-Za-z0-9_\-]+)[.,;:!?'*)\]]")
_YT_ID = re.compile(r"[0-9A-Za-z_-]{11}(?![0-9A-Za-z_-])")
_HEX = re.compile(r"[0-9a-f]+")

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Browsers drop tab and newlines inside URLs (WHATWG); any other control character is refused.
_STRIP_CONTROLS = dict.fromkeys(map(ord, "\t\n\r"))
_CONTROL_RE = re.compile("[\x00-\x1f\x7f]")
_IDEOGRAPHIC_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/[]")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_PATH_FAST = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/\[\]]*")
_QUERY_FAST = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/\[\]?]*")
_SEGMENT_SAFE = _PATH_SAFE - {"/"}
_SEGMENT_FAST = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]]*")
_KEY_SAFE = _QUERY_SAFE - {"="}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


# ---------------------------------------------------------------------------------------------
# Public Suffix List


@functools.cache
def _psl() -> PublicSuffixList:
    # No argument: the list bundled with the package, read from disk once; never fetched.
    return PublicSuffixList()


@functools.lru_cache(maxsize=8192)
def _registrable(ace_host: str) -> str | None:
    """The registrable domain of an ASCII host under a listed public suffix, else None."""
    try:
        return _psl().privatesuffix(ace_host, accept_unknown=False)
    except Exception:  # the PSL library is strict about odd input; odd input is just "no"
        return None


# ---------------------------------------------------------------------------------------------
# Hosts: IDNA, scripts, look-alikes


_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i",
        "ј": "j", "к": "k", "ӏ": "l", "м": "m", "п": "n", "о": "o", "р": "p", "ԛ": "q", "г": "r",
        "ѕ": "s", "т": "t", "и": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ү": "y", "з": "3",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c",
        # Latin look-alikes that NFKD does not decompose
        "ı": "i", "ł": "l", "ɑ": "a", "ɡ": "g", "đ": "d", "ð": "d", "ø": "o", "ɩ": "i", "ƅ": "b",
        "ſ": "s", "ß": "b",
        # digits and letters that pass for one another in a URL bar
        "0": "o", "1": "l", "i": "l", "|": "l",
    }
)
_CONFUSABLE_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))


def _skeleton(label: str) -> str:
    decomposed = unicodedata.normalize("NFKD", label.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = bare.translate(_CONFUSABLES)
    for pair, single in _CONFUSABLE_PAIRS:
        bare = bare.replace(pair, single)
    return bare


_BRAND_SKELETONS = frozenset(_skeleton(b) for b in _BRAND_LABELS)

# Scripts that may share one label (UTS #39 "highly restrictive": Japanese, Chinese, Korean).
_SCRIPT_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)


def _mixes_scripts(label: str) -> bool:
    scripts = set()
    for ch in label:
        if ch.isascii():
            if ch.isalpha():
                scripts.add("LATIN")
            continue
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "UNKNOWN")
        script = name.split(" ", 1)[0]
        if "-" in script:  # e.g. KATAKANA-HIRAGANA PROLONGED SOUND MARK: shared by both
            continue
        scripts.add(script)
    if len(scripts) <= 1:
        return False
    return not any(scripts <= allowed for allowed in _SCRIPT_MIXES)


def _imitates_brand(label: str) -> bool:
    return label not in _BRAND_LABELS and _skeleton(label) in _BRAND_SKELETONS


@dataclass(frozen=True, slots=True)
class _Host:
    ace: str  # lower-case ASCII (IDNA) host, IPv6 in brackets
    registrable: str | None  # None for IP addresses


@functools.lru_cache(maxsize=8192)
def _check_host(raw: str) -> _Host | None:
    """Validate a host (SPEC §4.4 "Accepted") and return its canonical ASCII form."""
    if not raw:
        return None
    if raw.startswith("["):
        if not raw.endswith("]") or "%" in raw:  # zone ids name an interface of this machine
            return None
        try:
            ip6 = ipaddress.IPv6Address(raw[1:-1])
        except ValueError:
            return None
        return _Host(f"[{ip6.compressed}]", None) if _public_ip(ip6) else None

    host = raw.translate(_IDEOGRAPHIC_DOTS).lower()
    if host.endswith("."):
        host = host[:-1]
    if _IPV4_RE.fullmatch(host):
        try:
            ip4 = ipaddress.IPv4Address(host)
        except ValueError:
            return None
        return _Host(str(ip4), None) if _public_ip(ip4) else None

    labels = host.split(".")
    ace_labels: list[str] = []
    uni_labels: list[str] = []
    for label in labels:
        if not label:
            return None
        try:
            if label.isascii():
                ace = label
                uni = _idna.ToUnicode(label) if label.startswith("xn--") else label
            else:
                ace = _idna.ToASCII(label).decode("ascii").lower()
                uni = _idna.ToUnicode(ace)
        except (UnicodeError, ValueError):
            return None
        if not _LDH_LABEL.fullmatch(ace):
            return None
        ace_labels.append(ace)
        uni_labels.append(uni.lower())
    ace_host = ".".join(ace_labels)
    if len(ace_host) > 253 or ace_labels[-1].isdigit() or ace_labels[-1] in _SPECIAL_USE_TLDS:
        return None
    registrable = _registrable(ace_host)
    if registrable is None:
        return None
    # Labels left of the registrable domain's suffix: the ones a person chose, and could fake.
    own = len(ace_labels) - registrable.count(".")
    for uni in uni_labels[:own]:
        if _mixes_scripts(uni) or _imitates_brand(uni):
            return None
    return _Host(ace_host, registrable)


def _public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


# ---------------------------------------------------------------------------------------------
# Splitting and normalising


@dataclass(frozen=True, slots=True)
class _Url:
    host: _Host
    port: int | None  # None when default
    path: str  # normalised, "/" at least, no trailing slash
    query: tuple[tuple[str, str | None], ...]  # normalised (key, value); value None: "key" alone

    def param(self, name: str) -> str | None:
        """The first value of a query parameter (names compared case-insensitively)."""
        for key, value in self.query:
            if key.lower() == name:
                return value
        return None

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]


def _clean(url: str) -> str | None:
    """Trim, drop invisible characters; None when the string cannot be a link we accept."""
    if not isinstance(url, str) or len(url) > _MAX_INPUT_LENGTH:
        return None
    s = url.strip().translate(_ZERO_WIDTH).translate(_STRIP_CONTROLS)
    if not s or _CONTROL_RE.search(s) or _BIDI_RE.search(s):
        return None
    # A bidi override hidden as %E2%80%AE is shown decoded by some clients.
    if "%" in s and _BIDI_RE.search(unquote(s)):
        return None
    return s


def _with_scheme(s: str) -> tuple[str, str] | None:
    """(scheme, rest starting with //) or None for a non-hierarchical URI such as mailto:."""
    if s.startswith("//"):
        return "https", s
    m = _SCHEME_RE.match(s)
    if m:
        rest = s[m.end():]
        if rest.startswith("//"):
            return m.group()[:-1].lower(), rest
        if not _PORT_ONLY_RE.match(rest):  # "javascript:…", "tel:+1…": a scheme, not host:port
            return None
    return "https", "//" + s  # scheme-less, as people type them ("facebook.com/…")


def _norm_part(text: str, safe: frozenset[str], fast: re.Pattern[str]) -> str:
    """Percent-encoding normal form: unreserved decoded, other escapes upper-case, non-ASCII encoded."""
    if "%" not in text and fast.fullmatch(text):
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            if i + 2 < n and text[i + 1] in _HEX_DIGITS and text[i + 2] in _HEX_DIGITS:
                byte = int(text[i + 1 : i + 3], 16)
                decoded = chr(byte)
                out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
                i += 3
                continue
            out.append("%25")
        elif ch in safe:
            out.append(ch)
        else:
            try:  # a lone surrogate from unquote(errors="surrogateescape") is one raw byte
                data = ch.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                data = ch.encode("utf-8", "surrogatepass")
            out.append("".join(f"%{b:02X}" for b in data))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    out: list[str] = []
    for seg in path.split("/")[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    result = "/" + "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result


def _norm_path(raw: str) -> str:
    path = _norm_part(raw, _PATH_SAFE, _PATH_FAST)
    if not path.startswith("/"):
        path = "/" + path
    path = _remove_dot_segments(path).rstrip("/")
    return path or "/"


def _norm_query(raw: str | None) -> tuple[tuple[str, str | None], ...]:
    if not raw:
        return ()
    pairs: list[tuple[str, str | None]] = []
    for item in raw.split("&"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        while key[:4].lower() == "amp;":  # "&amp;" copied from HTML source separates, as "&" does
            key = key[4:]
        key = _norm_part(key, _KEY_SAFE, _QUERY_FAST)
        if not key and not value:
            continue
        pairs.append((key, _norm_part(value, _QUERY_SAFE, _QUERY_FAST) if sep else None))
    return tuple(pairs)


def _parse(url: str) -> _Url | None:
    """Split and validate one URL (SPEC §4.4 "Accepted")."""
    s = _clean(url)
    if s is None:
        return None
    split = _with_scheme(s)
    if split is None:
        return None
    scheme, rest = split
    if scheme not in ("http", "https"):
        return None
    # Telegram's own entity runs on through "…/posts/123.Cảm": the sentence is not the link.
    rest = _cut_text_tail(rest, 2)
    m = _AUTHORITY_RE.match(rest)
    if m is None:
        return None
    authority, raw_path, raw_query = m.groups()
    if "@" in authority or "\\" in authority:  # user-info, or a backslash browsers read as "/"
        return None
    host_part, port = authority, None
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return None
        host_part, tail = authority[: end + 1], authority[end + 1 :]
        if tail:
            if not tail.startswith(":"):
                return None
            port_text = tail[1:]
        else:
            port_text = ""
    else:
        host_part, _, port_text = authority.partition(":")
    if port_text:
        if not port_text.isdigit() or not port_text.isascii():
            return None
        port = int(port_text)
        if not 0 < port <= 65535:
            return None
        # Default of the scheme as written, and 443 because the canonical scheme is https.
        if port == 443 or (scheme == "http" and port == 80):
            port = None
    host = _check_host(host_part)
    if host is None:
        return None
    return _Url(host, port, _norm_path(raw_path), _norm_query(raw_query))


def _loose_host(url: str) -> str | None:
    """The host a string names, without validation (for classifying refused links)."""
    s = _clean(url)
    if s is None:
        return None
    split = _with_scheme(s)
    if split is None:
        return None
    m = _AUTHORITY_RE.match(split[1])
    if m is None:
        return None
    host = m.group(1).rpartition("@")[2]
    if not host.startswith("["):
        host = host.partition(":")[0]
    return host.translate(_IDEOGRAPHIC_DOTS).lower().rstrip(".") or None


# ---------------------------------------------------------------------------------------------
# Per-platform canonical forms


@dataclass(frozen=True, slots=True)
class _Info:
    canonical: str
    platform: str  # before news classification: "other" for every site we do not know
    host: str
    page_key: str | None
    is_post: bool


def _build(host: str, port: int | None, path_and_query: str) -> str:
    netloc = host if port is None else f"{host}:{port}"
    return f"https://{netloc}{path_and_query}"


def _lower_segment(seg: str) -> str:
    """Lower-case a path segment (a case-insensitive name) without touching %XX escapes."""
    if "%" not in seg:
        return seg.lower()
    return _norm_part(unquote(seg, errors="surrogateescape").lower(), _SEGMENT_SAFE, _SEGMENT_FAST)


def _safe_id(value: str | None) -> str | None:
    return value if value is not None and _SAFE_ID.fullmatch(value) else None


def _post_id(value: str | None) -> str | None:
    """A post or video id without the text typed after it: "123456.Thanks" is "123456"."""
    if value is None:
        return None
    m = _ID_THEN_TEXT.match(value)
    return m.group(1) if m else value


def _code(seg: str) -> str:
    """A share code or shortcode without the text typed after it: "19ZPWnwB73.Thanks"."""
    m = _CODE_THEN_TEXT.match(seg)
    return m.group(1) if m else seg


def _yt_id(value: str | None) -> str | None:
    """A YouTube video id (11 characters) without what follows it: ",mọi", "%26feature%3Dshare"."""
    if value is None:
        return None
    m = _YT_ID.match(value)
    return m.group() if m else _safe_id(value)


def _fb_page_key(name: str) -> str:
    # Pages without a username live at /Name-Of-Page-100063123456789/ or /p/Name-1000…/; their
    # posts use the numeric id alone, so the key is the id in both cases.
    decoded = unquote(name).lower()
    m = _FB_NAME_WITH_ID.fullmatch(decoded)
    return "facebook:" + (m.group(1) if m else decoded)


def _facebook(u: _Url) -> tuple[str, str, str | None, bool]:
    """(host, path-and-query, page key, is post) for facebook.com and its aliases."""
    host = u.host.ace
    segs = u.segments
    www = "www.facebook.com"

    if host == "fb.watch" or host.endswith(".fb.watch"):
        # fb.watch/<code> is a share link of one video; the code is case-sensitive.
        if segs:
            return "fb.watch", "/" + _code(segs[0]), None, True
        return "fb.watch", "/", None, False
    if host == "fb.me" or host.endswith(".fb.me"):
        if len(segs) >= 2 and segs[0] == "e":  # fb.me/e/<code>: a shared event
            return "fb.me", f"/e/{segs[1]}", None, False
        name = segs[0].lower() if len(segs) == 1 else ""
        if _FB_USERNAME.fullmatch(name) and name not in _FB_RESERVED:
            # fb.me/<username> opens that profile or page
            return www, "/" + name, _fb_page_key(name), False
        return "fb.me", u.path, None, False

    sub = host[: -len(u.host.registrable or "")].rstrip(".")
    if not (sub in _FB_MIRROR_LABELS or _FB_LANG_LABEL.fullmatch(sub)):
        # developers.facebook.com and the like are other services: no pages, no posts there.
        keep = [(k, v) for k, v in u.query if k.lower() in _FB_KEEP_PARAMS]
        return host, _build_path(u.path, keep), None, False
    if not segs:
        return www, "/", None, False
    first = segs[0].lower()

    if first in ("permalink.php", "story.php") or (first == "profile.php" and u.param("story_fbid")):
        # profile.php?story_fbid=…&id=… is what the app copies for a post on a personal profile.
        story = _safe_id(_post_id(u.param("story_fbid")))
        owner = _safe_id(u.param("id"))
        key = f"facebook:{owner.lower()}" if owner else None
        if story and owner:
            # The same post is reachable as /<owner id>/posts/<story>; that form is the canonical one.
            return www, f"/{owner}/posts/{story}", key, True
        if story:
            return www, f"/permalink.php?story_fbid={story}", None, True
        return www, "/profile.php" + (f"?id={owner}" if owner else ""), key, False

    if first in ("photo.php", "photo"):
        fbid = _safe_id(_post_id(u.param("fbid")))
        if fbid:
            # set=a.<album>, type=3 only say how the photo was reached.
            return www, f"/photo/?fbid={fbid}", None, True
        return www, "/photo", None, False

    if first == "video" and len(segs) == 2 and segs[1].lower() in ("video.php", "embed"):
        # The embedded player (/video/embed?video_id=) and the old /video/video.php?v=.
        v = _safe_id(_post_id(u.param("v") or u.param("video_id")))
        if v:
            return www, f"/watch/?v={v}", None, True

    if first in ("watch", "video.php"):
        v = _safe_id(_post_id(u.param("v")))
        if v and (first == "video.php" or segs[1:] in ([], ["live"])):
            return www, f"/watch/?v={v}", None, True
        return www, "/" + "/".join(_lower_segment(s) for s in segs), None, False

    if first in ("reel", "watchparty") and len(segs) >= 2:
        return www, f"/{first}/{_post_id(segs[1])}", None, True

    if first == "notes" and len(segs) >= 3 and _DIGITS.fullmatch(_post_id(segs[-1]) or ""):
        # /notes/<page>/<title>/<id>: an old-style note, one piece of content.
        name = _lower_segment(segs[1])
        path = "/".join([name, *segs[2:-1], _post_id(segs[-1]) or ""])
        return www, f"/notes/{path}", (_fb_page_key(name) if len(segs) >= 4 else None), True

    if first == "share":
        # /share/p|v|r/<code>: a post, a video, a reel. /share/<code> without a type is what
        # Facebook gives for a profile or page, /share/g/<code> for a group: not content.
        if len(segs) >= 3 and len(segs[1]) == 1:
            kind = segs[1].lower()
            return www, f"/share/{kind}/{_code(segs[2])}", None, kind in ("p", "v", "r")
        if len(segs) >= 2:
            return www, f"/share/{segs[1]}", None, False
        return www, "/share", None, False

    if first == "groups" and len(segs) >= 2:
        gid = _lower_segment(segs[1])
        key = f"facebook:groups/{unquote(gid)}"
        if len(segs) >= 4 and segs[2].lower() in ("permalink", "posts"):
            ids = segs[3:]
            if len(ids) >= 2 and _HEX.fullmatch(ids[0]) and _FB_POST_ID.fullmatch(_post_id(ids[1]) or ""):
                ids = ids[1:]  # /posts/d41d8cd9/<id>/: a hash before the id (yt-dlp's test case)
            return www, f"/groups/{gid}/posts/" + _join_with_post_id(ids), key, True
        mp = _safe_id(_post_id(u.param("multi_permalinks")))
        if len(segs) == 2 and not mp and (u.param("view") or "").lower() == "permalink":
            mp = _safe_id(_post_id(u.param("id")))  # the old /groups/<g>?view=permalink&id=<post>
        if len(segs) == 2 and mp:
            return www, f"/groups/{gid}/posts/{mp}", key, True
        rest = "/".join(segs[2:])
        return www, f"/groups/{gid}" + (f"/{rest}" if rest else ""), key, False

    if first == "profile.php":
        owner = _safe_id(u.param("id"))
        if owner:
            return www, f"/profile.php?id={owner}", f"facebook:{owner.lower()}", False
        return www, "/profile.php", None, False

    if first in ("people", "pages") and len(segs) >= 3 and _DIGITS.fullmatch(segs[2]):
        # /people/<Name>/<id>/ and the older /pages/<Name>/<id>/
        return www, f"/{first}/{_lower_segment(segs[1])}/{segs[2]}", f"facebook:{segs[2]}", False

    if first == "p" and len(segs) >= 2:
        name = _lower_segment(segs[1])
        m = _FB_NAME_WITH_ID.fullmatch(unquote(name))
        return www, f"/p/{name}", (f"facebook:{m.group(1)}" if m else None), False

    if first == "pg" and len(segs) >= 2:  # the old /pg/<page>/posts/ layout
        segs = segs[1:]
        first = segs[0].lower()

    if first == "stories" and len(segs) >= 3 and _DIGITS.fullmatch(segs[1]):
        return www, f"/stories/{segs[1]}/{segs[2]}", f"facebook:{segs[1]}", True

    if first in _FB_RESERVED:
        keep = [(k, v) for k, v in u.query if k.lower() in _FB_KEEP_PARAMS]
        return www, _build_path(u.path, keep), None, False

    # /<page or profile>/…
    name = _lower_segment(segs[0])
    key = _fb_page_key(name)
    rest = segs[1:]
    kind = rest[0].lower() if rest else ""
    if kind in ("posts", "permalink", "activity") and len(rest) >= 2:
        return www, f"/{name}/posts/" + _join_with_post_id(rest[1:]), key, True
    if kind in ("videos", "reels", "photos", "notes"):
        ids = [s for s in [*rest[1:-1], _post_id(rest[-1]) or ""] if _DIGITS.fullmatch(s)]
        if ids and kind in ("videos", "reels"):
            # Every video has one id whatever page shows it: /cnn/videos/<id> is /watch/?v=<id>.
            return www, f"/watch/?v={ids[-1]}", key, True
        if ids and kind == "photos":
            return www, f"/photo/?fbid={ids[-1]}", key, True
        if ids:
            return www, f"/{name}/notes/" + "/".join(rest[1:]), key, True
    tail = "/".join(_lower_segment(s) for s in rest)
    return www, f"/{name}" + (f"/{tail}" if tail else ""), key, False


def _join_with_post_id(segs: list[str]) -> str:
    """Path segments ending in a post id, without the text typed after the id."""
    return "/".join([*segs[:-1], _post_id(segs[-1]) or ""])


def _build_path(path: str, query: Iterable[tuple[str, str | None]]) -> str:
    q = "&".join(k if v is None else f"{k}={v}" for k, v in sorted(query, key=lambda kv: kv[0]))
    return path + (f"?{q}" if q else "")


def _youtube(u: _Url) -> tuple[str, str, str | None, bool]:
    host = u.host.ace
    segs = u.segments
    www = "www.youtube.com"
    if host == "youtu.be" or host.endswith(".youtu.be"):
        vid = _yt_id(segs[0]) if segs else None
        return (www, f"/watch?v={vid}", None, True) if vid else (www, "/", None, False)
    first = segs[0] if segs else ""
    lower = first.lower()
    if lower in ("watch", "watch_popup", ""):
        vid = _yt_id(u.param("v"))
        if vid:  # t, list, index, pp, feature, si, ab_channel: where and how, not what
            return www, f"/watch?v={vid}", None, True
    post = _safe_id(u.param("lb"))
    if post and segs[-1:] == ["community"]:
        # A channel's community tab opened on one post (?lb=): that post.
        return www, f"/post/{post}", _yt_channel_key(segs), True
    if lower in _YT_VIDEO_PREFIXES and len(segs) >= 2:
        vid = _yt_id(segs[1])
        if lower == "embed" and segs[1] == "videoseries":
            vid = None
        if vid:
            return www, f"/watch?v={vid}", None, True
    if lower == "playlist":
        lst = _safe_id(u.param("list"))
        return www, ("/playlist" + (f"?list={lst}" if lst else "")), None, False
    if first.startswith("@") and len(first) > 1:
        handle = _lower_segment(first)
        rest = "/".join(segs[1:])
        return www, f"/{handle}" + (f"/{rest}" if rest else ""), f"youtube:{unquote(handle)}", False
    if lower == "channel" and len(segs) >= 2:
        rest = "/".join(segs[2:])
        return www, f"/channel/{segs[1]}" + (f"/{rest}" if rest else ""), f"youtube:channel/{segs[1]}", False
    if lower in ("c", "user") and len(segs) >= 2:
        name = _lower_segment(segs[1])
        return www, f"/{lower}/{name}", f"youtube:{lower}/{unquote(name)}", False
    if lower in ("clip", "post") and len(segs) >= 2:
        return www, f"/{lower}/{segs[1]}", None, True
    keep = [(k, v) for k, v in u.query if k.lower() in _YT_KEEP_PARAMS]
    return www, _build_path(u.path, keep), None, False


def _yt_channel_key(segs: list[str]) -> str | None:
    first = segs[0] if segs else ""
    if first.startswith("@") and len(first) > 1:
        return f"youtube:{unquote(_lower_segment(first))}"
    if first.lower() == "channel" and len(segs) >= 2:
        return f"youtube:channel/{segs[1]}"
    return None


def _tiktok(u: _Url) -> tuple[str, str, str | None, bool]:
    host = u.host.ace
    segs = u.segments
    www = "www.tiktok.com"
    sub = host[: -len(u.host.registrable or "")].rstrip(".")
    if sub in ("vm", "vt") and u.host.registrable == "tiktok.com":
        # Short links: the code is case-sensitive and cannot be resolved offline.
        return (host, f"/{_code(segs[0])}", None, True) if segs else (host, "/", None, False)
    first = segs[0] if segs else ""
    lower = first.lower()
    user_key = None
    if first.startswith("@") and len(first) > 1 and first != "@_":
        user_key = f"tiktok:{unquote(first).lower()}"
    vid = None
    kind = "video"
    if first.startswith("@") and len(segs) >= 3 and segs[1].lower() in ("video", "photo"):
        vid, kind = segs[2], segs[1].lower()
    elif lower == "v" and len(segs) >= 2:  # m.tiktok.com/v/<id>.html
        m = _TIKTOK_V_HTML.fullmatch(segs[1])
        vid = m.group(1) if m else segs[1]
    elif lower == "embed" and len(segs) >= 2:
        vid = segs[-1]
    elif lower == "player" and len(segs) >= 3:  # the embed player: /player/v1/<id>
        vid = segs[-1]
    elif lower == "share" and len(segs) >= 3 and segs[1].lower() == "video":
        vid = segs[2]
    elif lower == "t" and len(segs) >= 2:
        return www, f"/t/{_code(segs[1])}", None, True
    vid = _post_id(vid)
    if vid and _DIGITS.fullmatch(vid):
        # The id alone names the video; TikTok ignores the user part, and "@_" is the usual
        # placeholder (yt-dlp's), so /@user/video/<id> and /embed/v2/<id> meet.
        return www, f"/@_/{kind}/{vid}", user_key, True
    if user_key:
        return www, "/" + _lower_segment(first), user_key, False
    return www, u.path, None, False


def _instagram(u: _Url) -> tuple[str, str, str | None, bool]:
    segs = u.segments
    www = "www.instagram.com"
    if not segs:
        return www, "/", None, False
    first = segs[0].lower()
    user_key = None
    if first not in _IG_RESERVED:
        user = _lower_segment(segs[0])
        user_key = f"instagram:{unquote(user)}"
        # New layout: /<user>/p/<code>/ and /<user>/reel/<code>/.
        if len(segs) >= 3 and segs[1].lower() in ("p", "reel", "reels", "tv"):
            return www, f"/p/{_code(segs[2])}", user_key, True
        return www, f"/{user}", user_key, False
    if first in ("reel", "reels") and len(segs) >= 3 and segs[1].lower() == "audio":
        return www, f"/reels/audio/{segs[2]}", None, False  # a sound and the reels using it
    if first in ("p", "reel", "reels", "tv") and len(segs) >= 2:
        # A reel, an IGTV video and a photo post share one shortcode space and all open at /p/.
        return www, f"/p/{_code(segs[1])}", None, True
    if first == "share" and len(segs) >= 2:
        # /share/<kind>/<code>: an opaque share code, not a shortcode; it names no account.
        kind = segs[1].lower()
        if len(segs) >= 3 and kind in ("p", "reel", "reels", "tv"):
            return www, f"/share/{kind}/{_code(segs[2])}", None, True
        return www, f"/share/{segs[1]}", None, False
    if first == "stories" and len(segs) >= 3 and segs[1].lower() == "highlights":
        return www, f"/stories/highlights/{segs[2]}", None, True
    if first == "stories" and len(segs) >= 3:
        user = _lower_segment(segs[1])
        return www, f"/stories/{user}/{segs[2]}", f"instagram:{unquote(user)}", True
    return www, u.path, None, False


def _x(u: _Url) -> tuple[str, str, str | None, bool]:
    segs = u.segments
    if not segs:
        return "x.com", "/", None, False
    first = segs[0].lower()
    key = f"x:{unquote(first)}" if first not in _X_RESERVED else None
    for i, seg in enumerate(segs[:-1]):
        status = _post_id(segs[i + 1]) or ""
        if seg.lower() in ("status", "statuses") and _DIGITS.fullmatch(status):
            # A tweet's id is global; the user part may be any spelling or /i/web/.
            return "x.com", f"/i/status/{status}", key, True
    if first == "i" and len(segs) >= 3 and segs[1].lower() in _X_CONTENT:
        # A live broadcast, a Space, an event: one piece of content each.
        return "x.com", f"/i/{segs[1].lower()}/{segs[2]}", None, True
    if key:
        return "x.com", "/" + _lower_segment(segs[0]), key, False
    return "x.com", u.path, None, False


def _zalo(u: _Url) -> tuple[str, str, str | None, bool]:
    host = u.host.ace
    if host == "www." + (u.host.registrable or ""):
        host = u.host.registrable or host
    segs = u.segments
    query = _strip_tracking(u.query)
    target = _build_path(u.path, query)
    if host == "oa.zalo.me" and len(segs) == 1 and _DIGITS.fullmatch(segs[0]):
        return host, target, f"zalo:{segs[0]}", False  # an Official Account's page
    if host != "zalo.me" or not segs:
        return host, target, None, False
    first = segs[0].lower()
    if first in _ZALO_RESERVED:  # a group invitation (g/<code>), a Mini App (s/<id>), the app
        return host, target, None, False
    if len(segs) == 1:  # zalo.me/<phone or Official Account id>: a person or an OA
        return host, target, f"zalo:{unquote(segs[0]).lower()}", False
    return host, target, None, True


def _strip_tracking(query: Iterable[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    kept = []
    for key, value in query:
        name = unquote(key).lower()
        if name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
            continue
        kept.append((key, value))
    return kept


def _generic(u: _Url) -> tuple[str, str, str | None, bool]:
    host = u.host.ace
    reg = u.host.registrable
    # www.example.vn and example.vn are one site; strip "www." only while a registrable name
    # remains (www.gov.vn is itself the registrable name).
    while reg and host.startswith("www.") and len(host) > len(reg):
        host = host[4:]
    query = _strip_tracking(u.query)
    is_post = u.path != "/" or bool(query)
    return host, _build_path(u.path, query), None, is_post


_HANDLERS = {
    "facebook": _facebook,
    "youtube": _youtube,
    "tiktok": _tiktok,
    "instagram": _instagram,
    "x": _x,
    "zalo": _zalo,
}


def _platform_of(host: _Host) -> str:
    return _PLATFORM_DOMAINS.get(host.registrable or "", "other")


def _redirect_target(u: _Url) -> str | None:
    """The destination of an outbound-link redirect (Facebook, Instagram, YouTube), when ``u`` is one."""
    host = u.host.ace
    reg = u.host.registrable
    if host in _FB_REDIRECT_HOSTS or (reg == "facebook.com" and u.path.lower() in ("/flx/warn", "/l.php")):
        target = u.param("u")
        return unquote(target) if target else ""
    if reg == "youtube.com" and u.path.lower() == "/redirect":
        target = u.param("q")  # links in video descriptions
        return unquote(target) if target else ""
    return None


def _embedded_target(u: _Url) -> str | None:
    """The post an embed page shows (Facebook's plugins, YouTube's attribution_link), if any."""
    reg = u.host.registrable
    path = u.path.lower()
    if reg == "facebook.com" and path in ("/plugins/video.php", "/plugins/post.php"):
        href = u.param("href")
        return unquote(href) if href else None
    if reg == "youtube.com" and path == "/attribution_link":
        target = unquote(u.param("u") or "")
        return "https://www.youtube.com" + target if target.startswith("/") else None
    return None


def _analyze(url: str, depth: int = 0) -> _Info | None:
    # Only ordinary-length links are cached: a few thousand hostile 16 kB strings must not
    # become resident memory (the running bot has a 150 MB budget).
    if len(url) <= _CACHEABLE_LENGTH:
        return _analyze_cached(url, depth)
    return _analyze_uncached(url, depth)


def _analyze_uncached(url: str, depth: int) -> _Info | None:
    parsed = _parse(url)
    if parsed is None:
        return None
    u = parsed
    target = _redirect_target(u)
    if target is not None:
        if not target or depth >= _MAX_REDIRECT_DEPTH:
            return None
        return _analyze(target, depth + 1)
    embedded = _embedded_target(u) if depth < _MAX_REDIRECT_DEPTH else None
    if embedded:
        info = _analyze(embedded, depth + 1)
        # Only a post of the same platform: plugins/like.php?href=<any site> is not that site.
        if info is not None and info.platform == _platform_of(u.host):
            return info
    platform = _platform_of(u.host)
    handler = _HANDLERS.get(platform, _generic)
    host, path_query, key, post = handler(u)
    port = u.port
    canonical = _build(host, port, path_query)
    if len(canonical) > MAX_CANONICAL_LENGTH:
        return None
    return _Info(canonical, platform, host, key, post)


_analyze_cached = functools.lru_cache(maxsize=8192)(_analyze_uncached)


# ---------------------------------------------------------------------------------------------
# News


def _norm_domain(domain: str) -> str | None:
    """A configured domain ("VnExpress.net", "https://www.baohoabinh.com.vn/") as an ASCII host."""
    if not isinstance(domain, str):
        return None
    d = domain.strip().lower()
    if "://" in d:
        d = d.split("://", 1)[1]
    d = d.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    d = d.partition(":")[0].lstrip("*.").rstrip(".")
    if d.startswith("www."):
        d = d[4:]
    if not d:
        return None
    try:
        return ".".join(_idna.ToASCII(label).decode("ascii").lower() for label in d.split("."))
    except (UnicodeError, ValueError):
        return None


@functools.lru_cache(maxsize=64)
def _news_set(extra: tuple[str, ...]) -> frozenset[str]:
    added = {d for d in map(_norm_domain, extra) if d}
    return NEWS_DOMAINS | added if added else NEWS_DOMAINS


def news_domains(extra: Iterable[str] = ()) -> frozenset[str]:
    """The built-in Vietnamese press domains plus ``extra`` (the [links] news_domains setting)."""
    return _news_set(tuple(extra))


def _under(host: str, domains: frozenset[str]) -> bool:
    if host in domains:
        return True
    dot = host.find(".")
    while dot >= 0:
        if host[dot + 1 :] in domains:
            return True
        dot = host.find(".", dot + 1)
    return False


def _is_news_article(info: _Info) -> bool:
    # Press articles carry a numeric id (…-4812345.html, …post766738.html, …/c/48123456.epi);
    # a path without one is a section front ("/giao-duc") unless it is a long slug.
    path, _, query = info.canonical.partition("://")[2].partition("/")[2].partition("?")
    if _NEWS_ARTICLE_ID.search(path) or _NEWS_ARTICLE_ID.search(query):
        return True
    last = path.rsplit("/", 1)[-1]
    return last.count("-") >= 3


# ---------------------------------------------------------------------------------------------
# Public functions


def canonicalize(url: str) -> str | None:
    """One canonical https string per post or page; None when the link is not one we accept."""
    info = _analyze(url) if isinstance(url, str) else None
    return info.canonical if info else None


def classify(url: str, extra_news_domains: Iterable[str] = ()) -> str:
    """The platform of a link: facebook|zalo|tiktok|youtube|instagram|x|news|other."""
    if not isinstance(url, str):
        return "other"
    news = _news_set(tuple(extra_news_domains)) if extra_news_domains else NEWS_DOMAINS
    info = _analyze(url)
    if info is not None:
        if info.platform != "other":
            return info.platform
        return "news" if _under(info.host, news) else "other"
    # A refused link still gets a label (for logs and the policy reply): by its host alone.
    host = _loose_host(url)
    if not host:
        return "other"
    labels = host.split(".")
    for i in range(len(labels) - 1):
        platform = _PLATFORM_DOMAINS.get(".".join(labels[i:]))
        if platform:
            return platform
    return "news" if _under(host, news) else "other"


def is_post(url: str) -> bool:
    """True when the link is one piece of content, not a page, profile, channel, group or invite."""
    info = _analyze(url) if isinstance(url, str) else None
    if info is None or not info.is_post:
        return False
    if info.platform == "other" and _under(info.host, NEWS_DOMAINS):
        return _is_news_article(info)
    return True


def page_key(url: str) -> str | None:
    """The page or account a link names ("facebook:thptkimboi", "x:user"); None when none."""
    info = _analyze(url) if isinstance(url, str) else None
    return info.page_key if info else None


@functools.lru_cache(maxsize=64)
def _allowed_set(domains: tuple[str, ...]) -> frozenset[str]:
    allowed: set[str] = set()
    for d in map(_norm_domain, domains):
        if not d:
            continue
        allowed.add(d)
        # Allowing facebook.com means allowing Facebook: its short and redirect hosts too.
        platform = next(
            (p for reg, p in _PLATFORM_DOMAINS.items() if d == reg or d.endswith("." + reg)), None
        )
        if platform:
            allowed.update(reg for reg, p in _PLATFORM_DOMAINS.items() if p == platform)
    return frozenset(allowed)


def is_allowed(url: str, allowed_domains: Iterable[str]) -> bool:
    """Whether the [links] allowed_domains policy lets the link count (an empty list allows all)."""
    # A list with no usable entry is treated as no list, as an empty one is.
    allowed = _allowed_set(tuple(allowed_domains))
    if not allowed:
        return True
    info = _analyze(url) if isinstance(url, str) else None
    if info is None:
        return False
    return _under(info.host, allowed)


# ---------------------------------------------------------------------------------------------
# Extraction from plain text

# Characters that may appear inside a link: RFC 3986's set, any letter or digit (Vietnamese
# diacritics continue a link, as in Telegram's own parser) and combining marks, for text typed
# with a decomposing input method (Unikey's "tổ hợp" mode). Bidi controls are taken in too, only
# so that a link holding one is seen whole and refused whole: stopping at the control would
# credit what follows it ("https://www.face<U+202E>book.com/…" is not "book.com/…").
_BIDI_CHARS = "\u202a-\u202e\u2066-\u2069"
_LINK_CHAR = r"[\w\u0300-\u036f\-.~:/?#\[\]@!$&'()*+,;=%" + _BIDI_CHARS + "]"
_LABEL_CHAR = r"[\w\u0300-\u036f" + _BIDI_CHARS + "]"
_LABEL = _LABEL_CHAR + r"(?:[\w\u0300-\u036f\-" + _BIDI_CHARS + "]*+)"
_LINK_RE = re.compile(
    # A scheme link; no look-behind, so "Link:https://…" and "xemhttps://…" are found too.
    r"[" + _BIDI_CHARS + r"]*+(?P<scheme>https?://)" + _LINK_CHAR + r"++"
    # A scheme-less link: a host not glued to a word, an e-mail local part, or another URL (not
    # even one whose scheme is broken: "ttps://l.facebook.com/l.php?u=https%3A%2F%2Ftuoitre.vn"
    # holds no "2ftuoitre.vn").
    r"|(?<![\w\u0300-\u036f@.\-/\\%=&?#~" + _BIDI_CHARS + r"])"
    r"(?P<host>(?>" + _LABEL + r"(?:\." + _LABEL + r")++))(?![@\w\u0300-\u036f])"
    r"(?P<port>:\d{1,5}(?!\w))?"
    r"(?P<rest>[/?#]" + _LINK_CHAR + r"*+)?",
    re.IGNORECASE,
)
# Two links pasted with only a comma (or the like) between them are two links: a new scheme, or
# "www." after a separator, starts the next one. "=" and "/" are not separators: l.php?u=https://…
# and web.archive.org/web/2024*/https://… are one link each.
_GLUED_RE = re.compile(
    r"(?:[,;.!'*|](?=[" + _BIDI_CHARS + r"]*https?://)|[,;!|](?=[" + _BIDI_CHARS + r"]*www\.))",
    re.IGNORECASE,
)
# Punctuation followed by a word with a Vietnamese letter ends a link: "…/posts/123.Cảm ơn",
# "…/videos/7301…,mọi người" were typed without the space. ASCII words ("a-1.htm", ".html") and
# "_" (Wikipedia's "Huế,_Việt_Nam") do not end it; ":" never does ("wiki/Thể_loại:Hà_Nội").
_TEXT_TAIL_RE = re.compile(r"[.,;!?](?=[^\W\d_]*(?:[^\W\d_\x00-\x7f]|[\u0300-\u036f]))")
_AUTHORITY_END_RE = re.compile(r"[/?#]")
_TRAILING = frozenset(".,;:!?'*")
_CLOSERS = {")": "(", "]": "["}


def _cut_text_tail(link: str, start: int) -> str:
    """``link`` without the sentence glued to it; ``start``: where its authority begins."""
    if link.isascii():
        return link
    m = _AUTHORITY_END_RE.search(link, start)
    if m is None:
        return link
    tail = _TEXT_TAIL_RE.search(link, m.start())
    return link[: tail.start()] if tail else link


def _trim(link: str) -> str:
    while link:
        last = link[-1]
        if last in _TRAILING:
            link = link[:-1]
        elif last in _CLOSERS and link.count(_CLOSERS[last]) < link.count(last):
            link = link[:-1]
        else:
            break
    return link


def _bare_host_ok(host: str, has_more: bool) -> bool:
    """Whether a host written without a scheme is a link (SPEC: it ends in a real public suffix)."""
    host = _BIDI_RE.sub("", host)  # a link holding one is refused later, whole; here: is it a link?
    labels = host.split(".")
    lower = host.lower()
    if not has_more and not lower.startswith("www."):
        # Without a path or "www." a dotted word is a link only if it looks like one typed by
        # hand: "Vnexpress.net" (capital from the keyboard) yes; abbreviations such as "P.GD",
        # "KT.HT" or a missing space in "xong.Link" no; nor file names such as "bai.zip".
        if any(not label.islower() and not label.isdigit() for label in labels[1:]):
            return False
        if labels[-1].lower() in _FILE_LIKE_TLDS:
            return False
    try:
        ace = ".".join(
            label if label.isascii() else _idna.ToASCII(label).decode("ascii") for label in lower.split(".")
        ).lower()
    except (UnicodeError, ValueError):
        return False
    return _registrable(ace) is not None


def _host_before_text(host: str) -> str | None:
    """"vnexpress.net.Cảm" (a host, then a sentence typed without a space): "vnexpress.net"."""
    labels = host.split(".")
    for end in range(len(labels) - 1, 1, -1):
        if not labels[end].isascii():
            candidate = ".".join(labels[:end])
            if _bare_host_ok(candidate, False):
                return candidate
    return None


def extract_links(text: str) -> list[str]:
    """Links in plain text, in order, duplicates kept, as written (minus invisible characters)."""
    if not isinstance(text, str) or not text:
        return []
    text = text.translate(_ZERO_WIDTH)
    # A space after the separator of two glued links; the links themselves are left as written.
    text = _GLUED_RE.sub(r"\g<0> ", text)
    links: list[str] = []
    for m in _LINK_RE.finditer(text):
        if m.group("scheme"):
            after_scheme = m.end("scheme") - m.start()
            link = _trim(_cut_text_tail(m.group(), after_scheme))
            if len(link) > after_scheme:
                links.append(link)
            continue
        host = m.group("host")
        link = _trim(_cut_text_tail(m.group(), 0))
        has_more = len(link) > len(host)
        if _bare_host_ok(host, has_more):
            links.append(link)
        elif not has_more and not host.isascii():
            shorter = _host_before_text(host)
            if shorter:
                links.append(shorter)
    return links
