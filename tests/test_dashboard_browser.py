"""The dashboard in a real headless Chromium (Debian's `chromium`, driven over the DevTools
protocol with aiohttp — nothing downloads a browser): sign in by pressing "Đăng nhập", land on
the office, open a school, log out; at 360×740 the page never scrolls sideways while the wide
table scrolls in its own box; screenshots at 360×740 and 1280×800 are kept as artefacts
(``LANTOA_ARTIFACTS``, default the test's temporary folder).

CI installs Chromium and sets LANTOA_REQUIRE_BROWSER=1, so there a missing browser fails."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.dashboard import build_dashboard
from bot.web import build_app
from tests.test_dashboard import add_teachers, officer_of, ok, web_link

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_path():
    if BROWSER is None:
        if os.environ.get("LANTOA_REQUIRE_BROWSER"):
            pytest.fail("LANTOA_REQUIRE_BROWSER is set but chromium is not installed")
        pytest.skip("chromium is not installed here (apt-get install chromium); CI installs it and runs this test")
    return BROWSER


class Page:
    """One browser tab over the DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    async def call(self, method: str, **params):
        msg_id = next(self.ids)
        await self.ws.send_str(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads((await asyncio.wait_for(self.ws.receive(), 30)).data)
            if msg.get("id") == msg_id:
                assert "error" not in msg, msg
                return msg.get("result", {})
            self.events.append(msg)

    async def wait_for(self, event: str) -> None:
        while True:
            if any(e.get("method") == event for e in self.events):
                self.events.clear()
                return
            self.events.append(json.loads((await asyncio.wait_for(self.ws.receive(), 30)).data))

    async def go(self, url: str) -> None:
        self.events.clear()
        await self.call("Page.navigate", url=url)
        await self.wait_for("Page.loadEventFired")

    async def eval(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def click(self, selector: str) -> None:
        self.events.clear()
        await self.eval(f"document.querySelector({json.dumps(selector)}).click()")
        await self.wait_for("Page.loadEventFired")

    async def size(self, width: int, height: int) -> None:
        await self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                        mobile=width < 600)

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


async def open_browser(path: str, profile: Path):
    proc = await asyncio.create_subprocess_exec(
        path, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-extensions", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
        f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    port = None
    while port is None:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode(errors="replace")
        if not line:
            raise RuntimeError("chromium exited before it listened")
        found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        port = int(found.group(1)) if found else None
    return proc, port


async def test_an_officer_on_a_phone_and_a_desktop(harness, browser_path, tmp_path):
    artefacts = Path(os.environ.get("LANTOA_ARTIFACTS", tmp_path))
    artefacts.mkdir(parents=True, exist_ok=True)
    await add_teachers(harness, "TH-KIMBOI", ["Nguyễn Thị Lan", "Trần Văn Bình"], links={"Nguyễn Thị Lan": 1})
    officer = await officer_of(harness, "PGD-KIMBOI")
    app = build_app(health=ok, dashboard=build_dashboard(harness.storage.uow, harness.dispatcher.config,
                                                         harness.clock))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    proc, port = await open_browser(browser_path, tmp_path / "profile")
    try:
        async with aiohttp.ClientSession() as http:
            targets = await (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
            tab = next(t for t in targets if t["type"] == "page")
            async with http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.call("Page.enable")
                await page.size(360, 740)
                _, secret = await web_link(harness, officer)
                base = str(server.make_url("")).rstrip("/")
                await page.go(f"{base}/web/login/{secret}")
                assert await page.eval("document.querySelector('form button').textContent") == "Đăng nhập"
                await page.click("form button")  # the POST, then /web/, then the office
                assert await page.eval("location.pathname") == "/web/u/PGD-KIMBOI"
                assert await page.eval("document.cookie") == ""  # HttpOnly: no script can read it
                layout = await page.eval(
                    "[document.documentElement.scrollWidth, document.documentElement.clientWidth,"
                    " document.querySelector('.box').scrollWidth, document.querySelector('.box').clientWidth]")
                page_width, viewport, table_width, box_width = layout
                assert page_width <= viewport == 360, layout  # no page-level horizontal scroll
                assert table_width > box_width, layout  # the wide table scrolls in its own box
                await page.screenshot(artefacts / "dashboard-office-360x740.png")

                await page.click("a[href^='/web/u/TH-KIMBOI']")
                assert await page.eval("document.querySelector('h1').textContent") == "Trường Tiểu học Kim Bôi"
                assert "Trần Văn Bình" in await page.eval("document.body.innerText")  # the laggard
                assert await page.eval("document.documentElement.scrollWidth") <= 360
                await page.screenshot(artefacts / "dashboard-school-360x740.png")

                await page.size(1280, 800)
                await page.go(f"{base}/web/u/PGD-KIMBOI")
                await page.screenshot(artefacts / "dashboard-office-1280x800.png")

                await page.click("header form button")  # logout
                assert "đã đăng xuất" in (await page.eval("document.body.innerText")).lower()
                await page.go(f"{base}/web/u/PGD-KIMBOI")
                assert "Đăng nhập" not in await page.eval("document.body.innerText")
                assert "chưa đăng nhập" in await page.eval("document.body.innerText")

                await page.go(f"{base}/web/login/{secret}")  # the link was spent by the first press
                assert "không còn dùng được" in await page.eval("document.body.innerText")
    finally:
        proc.kill()
        await proc.wait()
        await server.close()
    for name in ("dashboard-office-360x740.png", "dashboard-school-360x740.png", "dashboard-office-1280x800.png"):
        assert (artefacts / name).stat().st_size > 1000
