"""URLs as they may be written down: the parts of a URL that can carry a secret are taken out before it is shown or
saved anywhere. Nothing here imports the rest of factcheck."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def without_userinfo(url: str) -> str:
    """``url`` without ``user:password@``; path and query stay, since they name the page."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL that can be taken apart, so not one with credentials to take out
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def public_url(url: str) -> str:
    """A server's URL as it may be shown: no ``user:password@``, no query or fragment (API keys travel there too)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc and not parts.query and not parts.fragment:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
