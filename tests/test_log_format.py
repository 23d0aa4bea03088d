"""[bot] log_format (SPEC §4.2): "text" or "json", one JSON object a line, the token scrubbed in both."""

from __future__ import annotations

import json
import logging

import pytest

from bot.config import ConfigError, load_config
from bot.logs import JsonLinesFormatter, register_secret

TOKEN = "123456789:AAH-this-is-a-secret-token-abcdefghijk"


def test_json_lines_are_one_object_each_and_scrubbed():
    register_secret(TOKEN)
    logger = logging.getLogger("lantoa.test.json")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1,
                               "POST https://api.telegram.org/bot%s/sendMessage failed: %s", (TOKEN, "Hà Nội"), None)
    line = JsonLinesFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line and entry["level"] == "WARNING" and entry["logger"] == "lantoa.test.json"
    assert TOKEN not in line and "Hà Nội" in entry["message"]


def test_log_format_is_checked_and_named(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[bot]\nlog_format = "json"\n', encoding="utf-8")
    assert load_config(path).bot.log_format == "json"
    path.write_text('[bot]\nlog_format = "xml"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "log_format" in str(info.value)
