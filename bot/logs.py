"""Logging set-up, with the bot tokens scrubbed from every record (SPEC §3.7).

httpx logs each request URL at INFO and aiohttp's ClientResponseError prints the URL: on the Bot
API both contain the token. Scrubbing happens where records are *made* (a log record factory),
so it holds for every handler anyone installs later, test capture included; tracebacks are
formatted and scrubbed there too. httpx is also kept at WARNING so the URLs are never logged.
"""

from __future__ import annotations

import logging
import re
import sys

# A Telegram token: digits, a colon, 30+ characters of [A-Za-z0-9_-]. Matched anywhere, so a
# token inside a URL ("/bot123:ABC…/sendMessage") is caught even before it is registered.
_TELEGRAM_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
_secrets: set[str] = set()
_installed = False

REDACTED = "***"


def register_secret(secret: str) -> None:
    """Scrub this exact string from every log record from now on (any platform's token)."""
    if secret and len(secret) >= 8:
        _secrets.add(secret)
    install_redaction()


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _TELEGRAM_TOKEN.sub(REDACTED, text)


def install_redaction() -> None:
    """Wrap the log record factory once so every record is scrubbed when it is created."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: leave it to logging's own error handling
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    for name in ("httpx", "httpcore", "alembic", "aiosqlite"):  # aiosqlite logs every statement at DEBUG
        logging.getLogger(name).setLevel(logging.WARNING)


class JsonLinesFormatter(logging.Formatter):
    """One JSON object a line ([bot] log_format = "json"), for log collectors; scrubbed like text."""

    def format(self, record: logging.LogRecord) -> str:
        import json
        from datetime import datetime, timezone

        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False))


def setup_logging(*, console: bool = False, level: int = logging.INFO, json_lines: bool = False) -> None:
    """Log to stderr; the console and the CLI tools stay quiet unless something is wrong."""
    install_redaction()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if json_lines else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if console else level)
