"""The web dashboard (SPEC §3.8): server-rendered Vietnamese pages under /web, no JavaScript.

Sign-in: a one-use, 10-minute link (``/web`` in a private chat, or ``python -m bot web link``)
opens a page whose "Đăng nhập" button POSTs it — a preview robot that fetches the link spends
nothing. The POST spends the link and sets a session cookie (HttpOnly, SameSite=Lax, Secure
behind https), valid 8 hours by the server's own clock; logout ends it. A person sees their
units and everything below; anything else, and anything that does not exist, is the same 404.
Every page is read from the database when asked, so units imported while running show at once.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from bot.config import Config
from bot.domain import texts_vi
from bot.domain.periods import parse_period
from bot.domain.types import Clock, Period
from handlers import dashboard_data as data
from handlers.web_login import SESSION_LIFETIME, dashboard_roots
from storage import web_tokens
from storage.models import Unit
from storage.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

PREFIX = "/web"
COOKIE = "lantoa_session"
# No script may run at all; styles are inline in the page; nothing is loaded from elsewhere.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
LIST_LIMIT = 300  # names on one page; a unit's own staff rarely exceed it

# (uow, config, unit, period, person_id, now) -> (file name, .xlsx bytes)
ReportBuilder = Callable[[UnitOfWork, Config, Unit, Period, int, datetime], Awaitable[tuple[str, bytes]]]

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:16px;
line-height:1.45;color:#1b1f24;background:#f4f6f8;overflow-wrap:anywhere}
header{display:flex;flex-wrap:wrap;gap:8px;align-items:center;justify-content:space-between;
padding:8px 12px;background:#0b5cab;color:#fff}
header a{color:#fff;font-weight:600;text-decoration:none}
main{max-width:1100px;margin:0 auto;padding:12px}
h1{font-size:1.3em;margin:.3em 0}
h2{font-size:1.1em;margin:1.2em 0 .4em}
a{color:#0b5cab}
nav.trail{font-size:.9em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:8px 10px}
.card b{display:block;font-size:1.35em}
.box{max-width:100%;overflow-x:auto;-webkit-overflow-scrolling:touch;background:#fff;
border:1px solid #dde1e6;border-radius:8px}
table{border-collapse:collapse;width:100%}
th,td{padding:6px 8px;border-bottom:1px solid #e6e9ed;text-align:left;white-space:nowrap;vertical-align:middle}
td.name{white-space:normal;min-width:9em}
td.num,th.num{text-align:right}
tr.empty td{color:#6b7280}
form{margin:0}
form.inline{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:.5em 0}
input[type=text]{flex:1 1 9em;min-width:0;font-size:1em;padding:8px}
button{font-size:1em;padding:8px 16px;border-radius:6px;border:1px solid #0b5cab;background:#0b5cab;color:#fff}
header button{background:transparent;border-color:#fff;padding:4px 10px}
.quick a{display:inline-block;margin:0 .6em .3em 0}
ul.names{columns:14em;padding-left:1.2em}
.muted{color:#6b7280}
.note{background:#fff8e1;border:1px solid #f0d98a;border-radius:6px;padding:6px 10px}
svg.trend{display:block}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def unit_href(unit: Unit, **query: str) -> str:
    base = f"{PREFIX}/u/{quote(unit.code, safe='')}"
    extra = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items() if v)
    return f"{base}?{extra}" if extra else base


def _page(title: str, body: str, *, signed_in: bool = False) -> str:
    logout = (f'<form method="post" action="{PREFIX}/logout"><button type="submit">{_e(texts_vi.WEB_LOGOUT)}'
              f"</button></form>") if signed_in else ""
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f'<header><a href="{PREFIX}/">Lan Tỏa</a>{logout}</header><main>{body}</main></body></html>'
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def not_found_page() -> web.Response:
    """One 404 for a unit outside the person's scope, a unit that does not exist, and any path."""
    return _html(_page(texts_vi.WEB_NOT_FOUND, f"<h1>{_e(texts_vi.WEB_NOT_FOUND)}</h1>"
                       f'<p><a href="{PREFIX}/">{_e(texts_vi.WEB_BACK_HOME)}</a></p>'), status=404)


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _sign_in_first() -> web.Response:
    return _html(_page(texts_vi.WEB_TITLE, f"<p>{_e(texts_vi.WEB_SIGN_IN_FIRST)}</p>"), status=401)


def _figure(a: int, b: int) -> str:
    return texts_vi.figure(a, b)


def _percent(a: int, b: int) -> str:
    return f"{round(100 * a / b)}%" if b else "—"


def trend_svg(points: list[data.TrendPoint]) -> str:
    """Twelve bars, oldest first: the share of people held to the week who met it. Holiday
    weeks show a flat grey mark, weeks nobody was held to show nothing."""
    bar, gap, height = 6, 2, 24
    width = len(points) * (bar + gap)
    parts = [f'<svg class="trend" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{_e(texts_vi.WEB_TREND_OWN)}" xmlns="http://www.w3.org/2000/svg">'
             f'<rect width="{width}" height="{height}" fill="#eef1f4"/>']
    for i, p in enumerate(points):
        x = i * (bar + gap)
        label = texts_vi.period_label("week", p.week.key, p.week.first_day, p.week.last_day)
        share = p.share
        if p.holiday:
            title = f"{label}: {texts_vi.WEB_HOLIDAY_WEEK}"
            parts.append(f'<rect x="{x}" y="{height - 2}" width="{bar}" height="2" fill="#c4c9d0">'
                         f"<title>{_e(title)}</title></rect>")
            continue
        if share is None:
            continue
        h = max(1, round(share * height))
        colour = "#1a7f37" if share >= 0.9 else "#d4a017" if share >= 0.6 else "#c62828"
        title = texts_vi.web_trend_point(label, p.met, p.expected)
        parts.append(f'<rect x="{x}" y="{height - h}" width="{bar}" height="{h}" fill="{colour}">'
                     f"<title>{_e(title)}</title></rect>")
    parts.append("</svg>")
    return "".join(parts)


def render_unit_page(page: data.UnitPage, ky: str, sort: str, period_note: str | None,
                     with_report: bool) -> str:
    unit, view = page.unit, page.view
    fig = view.rollup[unit.id]
    out: list[str] = []
    if page.trail:
        out.append('<nav class="trail">' + " › ".join(
            f'<a href="{_e(unit_href(u, ky=ky))}">{_e(u.name)}</a>' for u in page.trail) + "</nav>")
    out.append(f"<h1>{_e(unit.name)}</h1><p class=\"muted\">{_e(view.label)}</p>")
    if period_note:
        out.append(f'<p class="note">{_e(period_note)}</p>')
    quick = " ".join(f'<a href="{_e(unit_href(unit, ky=k, sx=sort if sort != "hoanthanh" else ""))}">{_e(k)}</a>'
                     for k in ("tuan", "thang", "hocky", "namhoc"))
    out.append(
        f'<form class="inline" method="get" action="{_e(unit_href(unit))}">'
        f'<label for="ky">{_e(texts_vi.WEB_PERIOD)}</label>'
        f'<input type="text" id="ky" name="ky" value="{_e(ky)}" title="{_e(texts_vi.WEB_PERIOD_HINT)}">'
        f'<button type="submit">{_e(texts_vi.WEB_SHOW)}</button></form>'
        f'<div class="quick">{quick}</div>')
    if view.holiday:
        out.append(f"<p>{_e(texts_vi.HOLIDAY_PERIOD)}</p>")
    else:
        cards = [(texts_vi.WEB_PAGE_POSTS, _figure(fig.page_posts, fig.page_target))]
        if fig.expected:
            cards.append((texts_vi.WEB_SHARED, _figure(fig.shared, fig.expected)))
            if view.rules.staff_weekly > 0:
                cards.append((texts_vi.WEB_MET, _figure(fig.met, fig.expected)))
        if fig.party_expected:
            cards.append((texts_vi.WEB_PARTY, _figure(fig.party_met, fig.party_expected)))
        focus = view.focus_figures(unit.id) if hasattr(view, "focus_figures") else None
        if focus is not None and focus.applies:  # once the week's focus items exist (/tieudiem)
            cards.append((texts_vi.WEB_FOCUS, _figure(focus.done, focus.expected)))
        if unit.staff:
            cards.append((texts_vi.WEB_JOINED, _figure(view.own[unit.id].known, unit.staff)))
        out.append('<div class="cards">' + "".join(
            f'<div class="card">{_e(label)}<b>{_e(value)}</b></div>' for label, value in cards) + "</div>")
        if not fig.expected:
            out.append(f'<p class="muted">{_e(texts_vi.NOBODY_EXPECTED)}</p>')
    out.append(f"<h2>{_e(texts_vi.WEB_TREND_OWN)}</h2>{trend_svg(page.trend)}")

    if page.children:
        def head(label: str, key: str) -> str:
            if key == sort:
                return f"<b>{_e(label)}</b>"
            return f'<a href="{_e(unit_href(unit, ky=ky, sx=key if key != "hoanthanh" else ""))}">{_e(label)}</a>'

        rows = []
        for row in page.children:
            f = row.figures
            link = f'<a href="{_e(unit_href(row.unit, ky=ky))}">{_e(row.unit.name)}</a>'
            if row.empty is not None:
                why = texts_vi.WEB_NO_GROUP if row.empty == "no_group" else texts_vi.WEB_NO_PEOPLE
                rows.append(f'<tr class="empty"><td>—</td><td class="name">{link} <span class="muted">({_e(why)})'
                            f'</span></td><td class="num">—</td><td class="num">—</td><td class="num">—</td>'
                            f"<td>—</td></tr>")
                continue
            rows.append(
                f'<tr><td>{row.rank}</td><td class="name">{link}</td>'
                f'<td class="num">{_e(_figure(f.met, f.expected))} ({_e(_percent(f.met, f.expected))})</td>'
                f'<td class="num">{_e(_figure(f.page_posts, f.page_target))}</td>'
                f'<td class="num">{_e(_figure(f.shared, f.expected))} ({_e(_percent(f.shared, f.expected))})</td>'
                f"<td>{trend_svg(row.trend)}</td></tr>")
        out.append(
            f"<h2>{_e(texts_vi.WEB_CHILDREN)}</h2><div class=\"box\"><table><thead><tr>"
            f"<th>{_e(texts_vi.WEB_RANK)}</th><th>{_e(texts_vi.WEB_UNIT)}</th>"
            f'<th class="num">{head(texts_vi.WEB_MET, "hoanthanh")}</th>'
            f'<th class="num">{head(texts_vi.WEB_PAGE_POSTS, "trang")}</th>'
            f'<th class="num">{head(texts_vi.WEB_SHARED, "thamgia")}</th>'
            f"<th>{_e(texts_vi.WEB_TREND)}</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")

    if not view.holiday and view.rules.staff_weekly > 0 and view.own[unit.id].expected:
        out.append(f"<h2>{_e(texts_vi.WEB_LAGGARDS)} ({len(page.laggards)})</h2>")
        out.append(_names([p.name for p in page.laggards]) if page.laggards
                   else f"<p>{_e(texts_vi.WEB_ALL_MET)}</p>")
    if page.party_names is not None and view.own[unit.id].party_expected:
        out.append(f"<h2>{_e(texts_vi.WEB_PARTY_SHORT)}</h2>")
        out.append(_names(page.party_names) if page.party_names else f"<p>{_e(texts_vi.WEB_PARTY_ALL_MET)}</p>")

    if with_report:
        out.append(
            f'<h2>{_e(texts_vi.WEB_REPORT)}</h2><form class="inline" method="get" '
            f'action="{_e(unit_href(unit))}/baocao"><label for="rky">{_e(texts_vi.WEB_PERIOD)}</label>'
            f'<input type="text" id="rky" name="ky" value="{_e(ky if ky != "tuan" else "thang")}" '
            f'title="{_e(texts_vi.WEB_PERIOD_HINT)}"><button type="submit">{_e(texts_vi.WEB_REPORT)}</button></form>')
    return _page(f"{unit.name} — {texts_vi.WEB_TITLE}", "".join(out), signed_in=True)


def _names(names: list[str]) -> str:
    shown = "".join(f"<li>{_e(n)}</li>" for n in names[:LIST_LIMIT])
    more = f"<p>{_e(texts_vi.and_more(len(names) - LIST_LIMIT))}</p>" if len(names) > LIST_LIMIT else ""
    return f'<ul class="names">{shown}</ul>{more}'


_AUTO = object()


def build_dashboard(uow: UnitOfWorkFactory, config: Config, clock: Clock, *,
                    report: ReportBuilder | None | object = _AUTO) -> web.Application:
    """The dashboard as an aiohttp sub-application, to be mounted at /web. ``report``: how a unit
    page's report is made (default: handlers.reports, the file /baocao sends); None: no download."""
    if report is _AUTO:
        report = data.report_builder()
    secure = config.web.public_url.lower().startswith("https://")

    @web.middleware
    async def guard(request: web.Request, handler):
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = not_found_page()
        except web.HTTPMethodNotAllowed:
            response = not_found_page()
        response.headers.update(SECURITY_HEADERS)
        return response

    app = web.Application(middlewares=[guard])

    async def session_person(request: web.Request, uow_: UnitOfWork) -> int | None:
        secret = request.cookies.get(COOKIE, "")
        return await web_tokens.valid(uow_.session, web_tokens.SESSION, secret, clock.now()) if secret else None

    async def home(request: web.Request) -> web.StreamResponse:
        async with uow() as u:
            person = await session_person(request, u)
            if person is None:
                return _sign_in_first()
            roots = await dashboard_roots(u, config, person)
        if len(roots) == 1:
            return _see_other(unit_href(roots[0]))
        items = "".join(f'<li><a href="{_e(unit_href(r))}">{_e(r.name)}</a></li>' for r in roots)
        body = f"<h1>{_e(texts_vi.WEB_MY_UNITS)}</h1><ul>{items}</ul>"
        return _html(_page(texts_vi.WEB_TITLE, body, signed_in=True))

    async def login_form(request: web.Request) -> web.Response:
        # Reading only: a link preview fetching this page spends nothing.
        secret = request.match_info["secret"]
        async with uow() as u:
            person = await web_tokens.valid(u.session, web_tokens.LOGIN, secret, clock.now())
        if person is None:
            return _html(_page(texts_vi.WEB_TITLE, f"<p>{_e(texts_vi.WEB_LINK_INVALID)}</p>"), status=410)
        body = (f"<h1>{_e(texts_vi.WEB_LOGIN_HEAD)}</h1><p>{_e(texts_vi.WEB_LOGIN_EXPLAIN)}</p>"
                f'<form method="post" action="{PREFIX}/login"><input type="hidden" name="t" value="{_e(secret)}">'
                f'<button type="submit">{_e(texts_vi.WEB_LOGIN_BUTTON)}</button></form>')
        return _html(_page(texts_vi.WEB_LOGIN_HEAD, body))

    async def login(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        secret = form.get("t")
        now = clock.now()
        async with uow() as u:
            person = await web_tokens.spend(u.session, web_tokens.LOGIN, secret, now) \
                if isinstance(secret, str) else None
            session = await web_tokens.issue(u.session, web_tokens.SESSION, person, now, SESSION_LIFETIME) \
                if person is not None else None
        if session is None:
            return _html(_page(texts_vi.WEB_TITLE, f"<p>{_e(texts_vi.WEB_LINK_INVALID)}</p>"), status=410)
        response = _see_other(f"{PREFIX}/")
        response.set_cookie(COOKIE, session, max_age=int(SESSION_LIFETIME.total_seconds()), path=PREFIX,
                            httponly=True, samesite="Lax", secure=secure)
        return response

    async def logout(request: web.Request) -> web.Response:
        secret = request.cookies.get(COOKIE, "")
        if secret:
            async with uow() as u:
                await web_tokens.spend(u.session, web_tokens.SESSION, secret, clock.now())
        response = _html(_page(texts_vi.WEB_TITLE, f"<p>{_e(texts_vi.WEB_SIGNED_OUT)}</p>"))
        response.del_cookie(COOKIE, path=PREFIX, httponly=True, samesite="Lax", secure=secure)
        return response

    def _period(ky: str, now: datetime) -> tuple[Period, str | None]:
        try:
            return parse_period(ky, now, config.bot.tz, config.calendar), None
        except ValueError as exc:
            return parse_period("tuan", now, config.bot.tz, config.calendar), texts_vi.web_bad_period(str(exc))

    async def unit_view(request: web.Request) -> web.Response:
        now = clock.now()
        ky = (request.query.get("ky") or "tuan").strip()[:40] or "tuan"
        sort = request.query.get("sx", "hoanthanh")
        async with uow() as u:
            person = await session_person(request, u)
            if person is None:
                return _sign_in_first()
            found = await data.visible_unit(u, config, person, request.match_info["code"])
            if found is None:
                return not_found_page()
            unit, roots = found
            period, note = _period(ky, now)
            page = await data.unit_page(u, config, person, unit, roots, period, now, sort)
        return _html(render_unit_page(page, ky if note is None else "tuan",
                                      sort if sort in data.SORTS else "hoanthanh", note, report is not None))

    async def report_download(request: web.Request) -> web.StreamResponse:
        if report is None:
            return not_found_page()
        now = clock.now()
        async with uow() as u:
            person = await session_person(request, u)
            if person is None:
                return _sign_in_first()
            found = await data.visible_unit(u, config, person, request.match_info["code"])
            if found is None:
                return not_found_page()
            unit, _roots = found
            try:
                period = parse_period((request.query.get("ky") or "thang")[:40], now, config.bot.tz, config.calendar)
            except ValueError as exc:
                return _html(_page(texts_vi.WEB_TITLE, f'<p class="note">{_e(str(exc))}</p>'
                                   f'<p><a href="{_e(unit_href(unit))}">{_e(unit.name)}</a></p>', signed_in=True),
                             status=400)
            filename, body = await report(u, config, unit, period, person, now)
        return _xlsx(filename, body)

    app.router.add_get("/", home)
    app.router.add_get("/login/{secret}", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/u/{code}", unit_view)
    app.router.add_get("/u/{code}/baocao", report_download)

    async def link_download(request: web.Request) -> web.StreamResponse:
        """A report link sent where files cannot go (Zalo): valid 24 hours, made on demand."""
        if report is None:
            return not_found_page()
        from handlers.reports import download_subject

        now = clock.now()
        async with uow() as u:
            found = await download_subject(u, config, request.match_info["secret"], now)
            if found is None:
                return not_found_page()
            person_id, unit, period = found
            filename, body = await report(u, config, unit, period, person_id, now)
        return _xlsx(filename, body)

    app.router.add_get("/tai/{secret}", link_download)
    return app


def _xlsx(filename: str, body: bytes) -> web.Response:
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    return web.Response(body=body, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
    })


def mount(app: web.Application, dashboard: web.Application) -> None:
    """Mount the dashboard at /web (and send a bare /web to it)."""
    async def bare(_request: web.Request) -> web.Response:
        return _see_other(f"{PREFIX}/")

    app.router.add_get(PREFIX, bare)
    app.add_subapp(PREFIX, dashboard)
