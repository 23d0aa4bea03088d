"""SPEC §3.5: Zalo cannot send files, so /baocao there answers with a download link valid 24 hours
when [web] public_url is set (made on demand, so any instance serves it), else one line."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer

from bot.dashboard import build_dashboard
from bot.domain.types import ChatKind, ChatRef, UserRef
from bot.web import build_app
from tests.conftest import FakeMessenger

LINK = re.compile(r"https://lantoa\.example\.vn(/web/tai/\S+)")


async def ok() -> bool:
    return True


async def zalo_admin(harness):
    zalo = FakeMessenger(platform="zalo")
    harness.dispatcher.attach(zalo, inline=True)
    user = UserRef("zalo", "a1b2c3", "Hiệu trưởng Zalo")
    chat = ChatRef("zalo", "a1b2c3", ChatKind.PRIVATE)
    _, admin_code = await harness.codes("THCS-KIMBOI")
    await harness.send(chat, user, f"/dangky {admin_code}")
    return zalo, user, chat


async def test_baocao_on_zalo_gives_a_24_hour_link_that_downloads_the_report(harness):
    config = replace(harness.dispatcher.config,
                     web=replace(harness.dispatcher.config.web, public_url="https://lantoa.example.vn"))
    harness.dispatcher.config = config
    zalo, user, chat = await zalo_admin(harness)
    await harness.send(chat, user, "/baocao thang")
    text = zalo.texts()[-1]
    assert text.startswith("Báo cáo tháng 11/2026 của Trường THCS Kim Bôi: tải tại https://lantoa.example.vn/web/tai/")
    path = LINK.search(text).group(1)
    app = build_app(health=ok, dashboard=build_dashboard(harness.storage.uow, config, harness.clock))
    async with TestClient(TestServer(app)) as client:
        response = await client.get(path)
        assert response.status == 200
        assert "baocao_THCS-KIMBOI_2026-11.xlsx" in response.headers["Content-Disposition"]
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(await response.read()), read_only=True)
        assert book.sheetnames[0] == "Tóm tắt"
        # Any other secret, or the same one a day later, finds nothing.
        assert (await client.get(path + "x")).status == 404
        harness.advance(hours=24, seconds=1)
        assert (await client.get(path)).status == 404


async def test_baocao_on_zalo_without_a_public_address_says_where_reports_are(harness):
    zalo, user, chat = await zalo_admin(harness)
    await harness.send(chat, user, "/baocao")
    assert zalo.texts()[-1].startswith("Nền tảng này không gửi được tệp")
