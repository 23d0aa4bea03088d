"""The bot's web server (aiohttp): Telegram's webhook and the health check (SPEC §3.6, §4.2)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Awaitable, Callable

from aiohttp import web

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_WEBHOOK_PATH = "/zalo/webhook"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"
# A Telegram update is a few KB; anything far larger is not one.
MAX_BODY = 1024 * 1024
# A balancer's health probe gives up after a few seconds; a database that does not answer within
# this time is as good as gone (PostgreSQL unreachable: asyncpg would wait a minute to connect).
HEALTH_TIMEOUT = 3.0

UpdateSink = Callable[[dict], Awaitable[bool]]
HealthCheck = Callable[[], Awaitable[bool]]


def build_app(*, health: HealthCheck, telegram: UpdateSink | None = None, secret: str = "",
              health_timeout: float = HEALTH_TIMEOUT, dashboard: web.Application | None = None,
              zalo: UpdateSink | None = None, zalo_secret: str = "") -> web.Application:
    """The aiohttp application: GET /healthz, and POST /telegram/webhook when given a sink.

    /healthz answers 200 only when ``health`` (a query on the database) succeeds within
    ``health_timeout``, else 503: a balancer then sends the updates to the other instances."""
    app = web.Application(client_max_size=MAX_BODY)

    async def healthz(_request: web.Request) -> web.Response:
        try:
            ok = await asyncio.wait_for(health(), health_timeout)
        except asyncio.TimeoutError:
            logger.warning("health check: the database did not answer within %.1fs", health_timeout)
            ok = False
        except Exception as exc:
            logger.warning("health check failed: %s: %s", type(exc).__name__, str(exc)[:200])
            ok = False
        return web.Response(status=200 if ok else 503, text="ok" if ok else "database unavailable")

    async def telegram_webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        # Compared in constant time; a missing or wrong secret is refused before anything is read.
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json(loads=json.loads)
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        if not isinstance(data, dict) or "update_id" not in data:
            return web.Response(status=400)
        assert telegram is not None
        # 2xx only once the update is committed: otherwise Telegram sends it again.
        if await telegram(data):
            return web.Response(status=200)
        return web.Response(status=503)

    async def zalo_webhook(request: web.Request) -> web.Response:
        given = request.headers.get(ZALO_SECRET_HEADER, "")
        if not zalo_secret or not hmac.compare_digest(given.encode(), zalo_secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json(loads=json.loads)
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        assert zalo is not None
        # 2xx only after the commit; a repeat of a handled message is recognised by its id.
        return web.Response(status=200 if await zalo(data) else 503)

    app.router.add_get("/healthz", healthz)
    if zalo is not None:
        app.router.add_post(ZALO_WEBHOOK_PATH, zalo_webhook)
    if telegram is not None:
        app.router.add_post(WEBHOOK_PATH, telegram_webhook)
    if dashboard is not None:  # the web dashboard under /web (bot.dashboard, SPEC §3.8)
        from bot.dashboard import mount

        mount(app, dashboard)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logger.info("web server on http://%s:%d", host, port)
    return runner
