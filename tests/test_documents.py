"""Reading a source document: formats, encodings, refusals with clear messages, paragraphs and slugs."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SEED
from fakeserver import FakeWebSite

from factcheck.documents import is_web_url, load_document, slug_for
from factcheck.errors import DocumentError
from factcheck.store import case_dir

LONG_LINE = "The council said on Monday that the city budget rose by twelve percent, the largest rise in a decade, " * 2


def write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


def paragraph_texts(source: str) -> list[str]:
    document = load_document(source)
    return [document.text[p.start : p.end] for p in document.paragraphs]


# ----------------------------------------------------------------------------------------------- formats


def test_a_text_file_is_read_with_its_first_line_as_title(tmp_path: Path) -> None:
    document = load_document(write(tmp_path, "note.txt", "City budget rises\n\nThe budget rose by 12 percent.\n"))

    assert document.media_type == "text/plain"
    assert document.title == "City budget rises"
    assert document.text == "City budget rises\n\nThe budget rose by 12 percent.\n"
    assert document.sha256 == hashlib.sha256(document.text.encode()).hexdigest()


def test_a_markdown_file_takes_its_title_from_the_first_heading(tmp_path: Path) -> None:
    source = write(tmp_path, "note.md", "Draft, do not publish\n\n# City budget rises\n\nThe budget rose.\n")

    document = load_document(source)

    assert document.media_type == "text/markdown"
    assert document.title == "City budget rises"


def test_an_html_page_keeps_its_visible_text_and_drops_scripts_and_styles(tmp_path: Path) -> None:
    html = (
        "<!doctype html><html><head><title>City budget rises</title><style>p { color: red }</style>"
        "<script>var tracking = 'do not keep';</script></head><body>"
        "<h1>Budget</h1><p>The budget rose by <b>12&nbsp;percent</b>.</p>"
        "<script>alert('nor this')</script><noscript>Enable JS</noscript><p>Taxes stay flat.</p></body></html>"
    )

    document = load_document(write(tmp_path, "page.html", html))

    assert document.media_type == "text/html"
    assert document.title == "City budget rises"
    assert paragraph_texts(write(tmp_path, "page.html", html)) == [
        "Budget",
        "The budget rose by 12 percent.",
        "Taxes stay flat.",
    ]
    for hidden in ("tracking", "color", "nor this", "Enable JS"):
        assert hidden not in document.text


def test_an_html_page_saved_as_txt_is_read_as_html(tmp_path: Path) -> None:
    document = load_document(write(tmp_path, "page.txt", "<!DOCTYPE html><title>T</title><p>Body text here.</p>"))

    assert document.media_type == "text/html"
    assert document.text == "Body text here.\n"


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    document = load_document(write(tmp_path, "bom.txt", b"\xef\xbb\xbfCity budget rises\n"))

    assert document.text == "City budget rises\n"
    assert document.title == "City budget rises"


def test_windows_line_endings_become_unix_ones(tmp_path: Path) -> None:
    document = load_document(write(tmp_path, "crlf.txt", b"First paragraph.\r\n\r\nSecond paragraph.\r\n"))

    assert document.text == "First paragraph.\n\nSecond paragraph.\n"
    assert "\r" not in document.text


def test_the_sample_seed_is_read_without_trailing_blank_lines() -> None:
    document = load_document(str(SEED))

    assert document.text.endswith("What's Your Reaction?\n")
    assert document.slug == "tren-de-aragua-terrorist-designation"


# ----------------------------------------------------------------------------------------------- refusals


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="empty"):
        load_document(write(tmp_path, "empty.txt", b""))


def test_a_file_of_only_whitespace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"empty|no text"):
        load_document(write(tmp_path, "blank.txt", " \n\t\r\n  \n"))


def test_an_html_page_without_visible_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no text"):
        load_document(write(tmp_path, "blank.html", "<html><head><title>T</title></head><body> </body></html>"))


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="binary"):
        load_document(write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))


def test_a_latin1_file_is_refused_with_a_hint_to_convert_it(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="not valid UTF-8") as error:
        load_document(write(tmp_path, "latin.txt", "Le budget a augmenté de 12 %.\n".encode("latin-1")))

    assert error.value.hint is not None
    assert "iconv" in error.value.hint


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="is a directory"):
        load_document(str(tmp_path))


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        load_document(str(tmp_path / "missing.txt"))


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTCHECK_MAX_BYTES", "1000")

    with pytest.raises(DocumentError, match="over the limit of 1,000 bytes") as error:
        load_document(write(tmp_path, "big.txt", "x" * 1001))

    assert "FACTCHECK_MAX_BYTES" in str(error.value)


def test_a_size_limit_that_is_not_a_number_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_MAX_BYTES", "lots")

    with pytest.raises(DocumentError, match="FACTCHECK_MAX_BYTES"):
        load_document(write(tmp_path, "note.txt", "Some text.\n"))


# ----------------------------------------------------------------------------------------------- URLs


@pytest.fixture
def site() -> Iterator[FakeWebSite]:
    with FakeWebSite() as running:
        yield running


@pytest.fixture
def web(site: FakeWebSite) -> dict[str, tuple[int, str, bytes]]:
    """A web server on loopback: fill the dict with path -> (status, content type, body)."""
    site.pages["__base__"] = (0, "", site.origin.encode())
    return site.pages


def base(pages: dict[str, tuple[int, str, bytes]]) -> str:
    return pages["__base__"][2].decode()


def test_a_url_is_fetched_and_read_as_html(web: dict[str, tuple[int, str, bytes]]) -> None:
    page = b"<html><head><title>Budget news</title></head><body><p>The budget rose by 12 percent.</p></body></html>"
    web["/news/2025/budget-rises"] = (200, "text/html; charset=utf-8", page)
    url = base(web) + "/news/2025/budget-rises"

    document = load_document(url)

    assert document.source == url
    assert document.media_type == "text/html"
    assert document.title == "Budget news"
    assert document.text == "The budget rose by 12 percent.\n"
    assert document.slug == "budget-rises"


def test_a_url_answering_an_error_is_refused_with_its_status(web: dict[str, tuple[int, str, bytes]]) -> None:
    with pytest.raises(DocumentError, match="HTTP 404"):
        load_document(base(web) + "/gone.html")


def test_a_url_over_the_size_limit_is_refused(web: dict[str, tuple[int, str, bytes]]) -> None:
    web["/big.txt"] = (200, "text/plain", b"x" * 5000)

    with pytest.raises(DocumentError, match="over the limit of 1,000 bytes"):
        load_document(base(web) + "/big.txt", limit=1000)


def test_credentials_in_a_url_fetch_it_and_are_kept_out_of_the_document(site: FakeWebSite) -> None:
    site.pages["/news/budget.html?id=7"] = (200, "text/html", b"<p>The budget rose by 12 percent this year.</p>")
    url = site.origin.replace("http://", "http://desk:secret@") + "/news/budget.html?id=7"

    document = load_document(url)

    assert site.authorizations == ["Basic " + base64.b64encode(b"desk:secret").decode()]
    assert document.source == site.origin + "/news/budget.html?id=7"  # the query names the article: it stays
    assert "secret" not in document.model_dump_json()


def test_credentials_in_a_url_are_left_out_of_its_slug_and_of_errors(site: FakeWebSite) -> None:
    assert "secret" not in slug_for("https://desk:secret@example.org/")
    with pytest.raises(DocumentError) as error:
        load_document(site.origin.replace("http://", "http://desk:secret@") + "/gone.html")
    assert "HTTP 404" in str(error.value) and "secret" not in str(error.value)


@pytest.mark.parametrize(
    ("source", "is_web"),
    [("https://example.org/a.html", True), ("HTTP://example.org/a", True), ("ftp://example.org/a", False),
     ("notes/a.txt", False), ("C:/notes/a.txt", False), ("http://[::1/a", False)],
)  # fmt: skip
def test_only_http_and_https_urls_are_web_pages(source: str, is_web: bool) -> None:
    assert is_web_url(source) is is_web


def test_an_unreachable_url_is_refused_without_a_traceback() -> None:
    with pytest.raises(DocumentError, match="cannot be fetched"):
        load_document("http://127.0.0.1:9/nothing.html")


# ----------------------------------------------------------------------------------------------- paragraphs


def test_each_long_line_of_an_unwrapped_text_is_a_paragraph(tmp_path: Path) -> None:
    text = f"Title line\n{LONG_LINE}one.\n{LONG_LINE}two.\n\n{LONG_LINE}three.\n"

    paragraphs = paragraph_texts(write(tmp_path, "unwrapped.txt", text))

    assert paragraphs == ["Title line", f"{LONG_LINE}one.", f"{LONG_LINE}two.", f"{LONG_LINE}three."]


def test_a_hard_wrapped_text_keeps_each_block_as_one_paragraph(tmp_path: Path) -> None:
    text = (
        "The council said on Monday that the city\nbudget rose by twelve percent this year.\n\n"
        "Taxes will stay flat, the mayor said,\nand fees for parking will double.\n"
    )

    paragraphs = paragraph_texts(write(tmp_path, "wrapped.txt", text))

    assert paragraphs == [
        "The council said on Monday that the city\nbudget rose by twelve percent this year.",
        "Taxes will stay flat, the mayor said,\nand fees for parking will double.",
    ]


def test_paragraphs_of_the_sample_seed_are_its_lines() -> None:
    document = load_document(str(SEED))
    lines = [line for line in document.text.split("\n") if line.strip()]

    assert [document.text[p.start : p.end] for p in document.paragraphs] == lines


def test_every_offset_falls_in_the_paragraph_that_holds_it() -> None:
    document = load_document(str(SEED))
    quote = "Tren de Aragua is estimated to have around 5,000 members"
    span = document.paragraphs[document.paragraph_index(document.text.index(quote))]

    assert quote in document.text[span.start : span.end]


# ----------------------------------------------------------------------------------------------- slugs


@pytest.mark.parametrize(
    ("source", "slug"),
    [
        ("reports/My Report (final).TXT", "my-report-final"),
        ("../../etc/passwd", "passwd"),
        ("https://example.com/news/2025/story.html?utm=1#top", "story"),
        ("https://example.com/", "example-com"),
        ("declaración.txt", "declaracion"),
        ("Überprüfung – Ärger.md", "uberprufung-arger"),
    ],
)
def test_a_slug_is_made_of_safe_characters_only(source: str, slug: str) -> None:
    assert slug_for(source) == slug


@pytest.mark.parametrize("source", ["....txt", "---.md", "日本語.txt", "Überraschung – Ärger.md", "..", "https://example.com/..", "C:\\x\\..\\"])
def test_a_source_with_no_usable_name_still_gets_a_safe_slug(source: str, tmp_path: Path) -> None:
    slug = slug_for(source)

    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert case_dir(slug, tmp_path).parent == tmp_path


def test_two_unnamed_sources_get_different_slugs() -> None:
    assert slug_for("日本語.txt") != slug_for("中文.txt")
