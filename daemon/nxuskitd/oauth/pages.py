"""The small page the browser shows after the redirect, and the HTTP answer that carries it.

Whatever the page echoes (a provider's error text) is HTML-escaped; the answer is never
cached, never framed, sends no referrer and loads nothing.
"""

from __future__ import annotations

import html
from http import HTTPStatus

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}}
h1{{font-size:1.4em}}.ok{{color:#17603a}}.bad{{color:#9b1c1c}}</style></head>
<body><h1 class="{tone}">{title}</h1><p>{message}</p></body></html>
"""

HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
    ("Connection", "close"),
)


def render(title: str, message: str, ok: bool) -> bytes:
    """The page, with ``title`` and ``message`` escaped."""
    text = _PAGE.format(
        title=html.escape(title), message=html.escape(message), tone="ok" if ok else "bad"
    )
    return text.encode("utf-8")


def response(status: int, title: str, message: str) -> bytes:
    """A complete HTTP/1.1 answer with the page as its body."""
    body = render(title, message, status == HTTPStatus.OK)
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in HEADERS]
    lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    return head + body


def not_found() -> bytes:
    """The answer for any path but the callback (a favicon request, say)."""
    return response(HTTPStatus.NOT_FOUND, "Not found", "This address only serves the login.")
