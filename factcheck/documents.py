"""Read a source document (plain text, Markdown or HTML, from a path or a URL), normalise it, give it a stable slug
and hash, and find its paragraphs."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

from factcheck.errors import DocumentError
from factcheck.models import Document, MediaType, Span
from factcheck.urls import without_userinfo

DEFAULT_MAX_BYTES = 10_000_000
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
_MARKDOWN_SUFFIXES = {".md", ".markdown"}
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")
_HARD_WRAP_WIDTH = 120


def max_bytes() -> int:
    """The largest document accepted, from ``FACTCHECK_MAX_BYTES``."""
    raw = os.environ.get("FACTCHECK_MAX_BYTES", "")
    try:
        return int(raw) if raw else DEFAULT_MAX_BYTES
    except ValueError:
        raise DocumentError(f"FACTCHECK_MAX_BYTES must be a whole number of bytes, not {raw!r}") from None


def is_web_url(source: str) -> bool:
    """Whether ``source`` names a web page (an http or https URL) rather than a file."""
    try:
        return urlparse(source).scheme in ("http", "https")
    except ValueError:  # such as an unclosed "[" where an IPv6 host would be: a path, then, that will not be found
        return False


def load_document(source: str, *, limit: int | None = None) -> Document:
    """Read ``source`` (a path or an http(s) URL) into a normalised :class:`Document`. A URL's credentials
    (``user:password@``) are used to fetch it and go no further: the document's source is the URL without them."""
    limit = max_bytes() if limit is None else limit
    if is_web_url(source):
        raw, media_type = _fetch_url(source, limit)
        source = without_userinfo(source)
    else:
        raw = _read_file(Path(source), limit)
        media_type = media_type_for(Path(source).suffix.lower(), raw)
    return document_from_bytes(raw, source=source, media_type=media_type)


def document_from_bytes(raw: bytes, *, source: str, media_type: MediaType) -> Document:
    text = decode(raw, source)
    if media_type == "text/html":
        html_title, text = html_to_text(text)
    else:
        html_title = None
    text = normalise_text(text)
    if not text.strip():
        raise DocumentError(f"{source}: the document has no text")
    paragraphs = find_paragraphs(text)
    return Document(
        slug=slug_for(source),
        title=html_title or title_of(text, paragraphs, media_type),
        source=source,
        media_type=media_type,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        paragraphs=paragraphs,
    )


def _read_file(path: Path, limit: int) -> bytes:
    if not path.exists():
        raise DocumentError(f"{path}: no such file")
    if path.is_dir():
        raise DocumentError(f"{path}: is a directory, not a document")
    if not path.is_file():  # a device such as /dev/zero never ends, a pipe may never answer
        raise DocumentError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size > limit:
        raise DocumentError(
            f"{path}: {size:,} bytes is over the limit of {limit:,} bytes",
            hint="raise it with FACTCHECK_MAX_BYTES",
        )
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # a file growing while it is read still stops at the limit
    except OSError as exc:
        raise DocumentError(f"{path}: cannot be read: {exc.strerror}") from None
    if len(raw) > limit:
        raise DocumentError(f"{path}: over the limit of {limit:,} bytes", hint="raise it with FACTCHECK_MAX_BYTES")
    return raw


def _fetch_url(url: str, limit: int) -> tuple[bytes, MediaType]:
    import httpx2

    fetching, url = url, without_userinfo(url)  # fetched with its credentials, named in messages without them
    try:
        with httpx2.Client(timeout=30, follow_redirects=True) as client, client.stream("GET", fetching) as response:
            if response.status_code >= 400:
                raise DocumentError(f"{url}: the server answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise DocumentError(
                        f"{url}: over the limit of {limit:,} bytes", hint="raise it with FACTCHECK_MAX_BYTES"
                    )
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except httpx2.HTTPError as exc:
        raise DocumentError(f"{url}: cannot be fetched: {exc}") from None
    raw = b"".join(chunks)
    suffix = Path(urlparse(url).path).suffix.lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        return raw, "text/html"
    if content_type == "text/markdown":
        return raw, "text/markdown"
    return raw, media_type_for(suffix, raw)


def media_type_for(suffix: str, raw: bytes) -> MediaType:
    if suffix in _HTML_SUFFIXES:
        return "text/html"
    if suffix in _MARKDOWN_SUFFIXES:
        return "text/markdown"
    if suffix in ("", ".txt", ".text") and re.match(rb"\s*(<!doctype html|<html)", raw[:512], re.IGNORECASE):
        return "text/html"
    return "text/plain"


def decode(raw: bytes, source: str) -> str:
    """Decode UTF-8 (with or without a BOM); refuse binary data and other encodings with a clear message."""
    if not raw.strip():
        raise DocumentError(f"{source}: the file is empty")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # "Unicode" as Windows Notepad saves it
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{source}: not valid UTF-16 (byte {exc.start})") from None
    if b"\x00" in raw[:8192]:
        raise DocumentError(f"{source}: looks like a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{source}: not valid UTF-8 (byte {exc.start})", hint="convert it, e.g. iconv -f latin1 -t utf-8"
        ) from None


def normalise_text(text: str) -> str:
    """NFC, Unix newlines, no trailing spaces, no runs of more than one blank line, no control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def find_paragraphs(text: str) -> list[Span]:
    """Paragraphs are blocks between blank lines; in a block that is not hard-wrapped, each line is one."""
    spans: list[Span] = []
    for block in re.finditer(r"[^\n](?:.|\n(?=[^\n]))*", text):  # a newline only joins two lines of one block
        lines = list(re.finditer(r"[^\n]+", block.group()))
        hard_wrapped = all(len(line.group()) <= _HARD_WRAP_WIDTH for line in lines)
        if hard_wrapped and len(lines) > 1:
            spans.append(Span(start=block.start(), end=block.end()))
            continue
        offset = block.start()
        spans.extend(Span(start=offset + m.start(), end=offset + m.end()) for m in lines if m.group().strip())
    return spans


def title_of(text: str, paragraphs: list[Span], media_type: str) -> str:
    if media_type == "text/markdown":
        heading = re.search(r"^#{1,2}\s+(.+)$", text, re.MULTILINE)
        if heading:
            return heading.group(1).strip()
    first = text[paragraphs[0].start : paragraphs[0].end].strip() if paragraphs else ""
    first = first.lstrip("#").strip()
    return first if 0 < len(first) <= 200 else first[:80].rsplit(" ", 1)[0] + "…"


def slug_for(source: str) -> str:
    """A filesystem-safe slug from a path's stem or a URL's last path segment; never contains a separator."""
    if is_web_url(source):
        parsed = urlparse(source)
        segments = [s for s in parsed.path.split("/") if s]
        stem = Path(segments[-1]).stem if segments else parsed.netloc.rpartition("@")[2]
    else:
        stem = Path(source).stem
    # Accented Latin letters keep their base letter ("declaración" -> "declaracion"); other scripts fall back on
    # a hash below rather than on a slug made of what is left.
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_UNSAFE.sub("-", ascii_stem.lower()).strip("-")[:80].strip("-")
    if not slug:
        slug = "document-" + hashlib.sha256(stem.encode("utf-8")).hexdigest()[:8]
    return slug


_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
    "article", "header", "footer", "blockquote", "pre", "hr", "figcaption", "dd", "dt", "main", "aside",
}  # fmt: skip
_DROPPED_TAGS = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._dropping = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _DROPPED_TAGS:
            self._dropping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _DROPPED_TAGS:
            self._dropping = max(0, self._dropping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._dropping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> tuple[str | None, str]:
    """The page's title and its visible text, one paragraph per block element; scripts and styles dropped."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = "\n".join(line.strip() for line in text.split("\n"))
    title = " ".join("".join(parser.title_parts).split()) or None
    return title, text
