"""Safe Markdown for untrusted text.

Everything a report shows from the document, the model or a reviewer goes through :func:`text` (or :func:`link`),
so none of it can open a heading, a list, a table cell, a link, an image, raw HTML or a code span. ``<``, ``>`` and
``&`` become entities, which every Markdown flavour decodes as plain characters; the other specials are
backslash-escaped, which CommonMark and GitHub honour for any ASCII punctuation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

_SPECIALS = "\\`*_[](){}#+-!|~$"
_TABLE: dict[int, str] = {ord(c): "\\" + c for c in _SPECIALS}
_TABLE |= {ord("<"): "&lt;", ord(">"): "&gt;", ord("&"): "&amp;", ord("\t"): " "}
# Every line break a renderer might honour, and the other control characters, become a space: untrusted text must
# never reach the start of a line, where it could open a heading, a list or a table row.
_TABLE |= {c: " " for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029] if c != ord("\t")}

_SPECIAL = re.compile("[" + re.escape("".join(sorted(chr(c) for c in _TABLE))) + "]")
_REPLACEMENT = {chr(c): replacement for c, replacement in _TABLE.items()}

_SAFE_HOST = re.compile(r"[A-Za-z0-9.\-_~%:@!$&'*+,;=]+")
# Percent-encoded in link destinations: spaces, parentheses, brackets and angle brackets would end or break them.
_URL_SAFE = "/?#@!$&'*+,;=:%-._~"


def text(value: str) -> str:
    """``value`` as inline Markdown that reads as exactly those characters and nothing else."""
    return _SPECIAL.sub(lambda match: _REPLACEMENT[match.group()], value)


def safe_url(url: str) -> str | None:
    """``url`` made safe as a link destination, or None unless it is an absolute http(s) address."""
    url = url.strip()
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not _SAFE_HOST.fullmatch(parts.netloc):
        return None
    rest = quote(url[len(parts.scheme) + 3 + len(parts.netloc) :], safe=_URL_SAFE)
    return f"{parts.scheme.lower()}://{parts.netloc}{rest}"


def link(label: str, url: str) -> str:
    """A link when ``url`` is http(s), else the label and the address as plain text."""
    target = safe_url(url)
    if target is None:
        shown = text(label) if label == url else f"{text(label)} ({text(url)})"
        return f"{shown} (not linked: only http and https addresses are)"
    return f"[{text(label)}]({target})"


def anchor(claim_id: str) -> str:
    """The fragment id of a claim's section: what GitHub, pandoc and Python-Markdown all derive from its heading."""
    return "claim-" + (re.sub(r"[^a-z0-9]+", "-", claim_id.lower()).strip("-") or "x")


def heading_of(claim_id: str) -> str:
    """The heading text whose derived fragment id is :func:`anchor` of the claim."""
    return anchor(claim_id).replace("claim-", "Claim ", 1)


def cell(value: str) -> str:
    """A table cell; :func:`text` already escapes the pipe that would split it."""
    return text(value) or " "


def bar(parts: int, total: int, width: int = 20) -> str:
    """A bar of text, ``█`` for the share ``parts/total`` and ``░`` for the rest, readable in any viewer."""
    filled = 0 if total <= 0 else round(width * parts / total)
    if parts > 0 and filled == 0:
        filled = 1
    return "█" * filled + "░" * (width - filled)


def when(at: datetime) -> str:
    """A timestamp in UTC to the minute."""
    return as_utc(at).strftime("%Y-%m-%d %H:%M UTC")


def day(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%d")


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive time is taken to be UTC already."""
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
