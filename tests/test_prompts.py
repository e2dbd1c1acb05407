"""Prompts are data: versioned files, hashed, rendered without ever re-reading what they are filled with."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import ROOT

from factcheck.errors import UserError
from factcheck.prompts import load_prompt, parse_prompt

PROMPT = "version: 7\ndescription: a test\n\n## system\nBe brief.\n\n## user\nDocument: $title\n\n$document\n"
EXTRACT_VALUES = {"title": "T", "chunk": "1", "chunks": "1", "fence": "abc", "document": "Text."}


def test_a_prompt_records_its_version_and_the_hash_of_its_file() -> None:
    prompt = load_prompt("extract")

    assert prompt.ref.name == "extract"
    assert prompt.ref.version == "1"
    assert prompt.ref.sha256 == hashlib.sha256((ROOT / "prompts" / "extract.md").read_bytes()).hexdigest()


def test_every_shipped_prompt_has_a_version_and_both_sections() -> None:
    for path in sorted((ROOT / "prompts").glob("*.md")):
        prompt = load_prompt(path.stem)

        assert prompt.version
        assert prompt.system
        assert prompt.user.template


def test_editing_a_prompt_changes_its_hash(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "p.md").write_text(PROMPT, encoding="utf-8")
    (second / "p.md").write_text(PROMPT.replace("Be brief.", "Be very brief."), encoding="utf-8")

    assert load_prompt("p", first).sha256 != load_prompt("p", second).sha256
    assert load_prompt("p", first).version == load_prompt("p", second).version == "7"


def test_prompts_are_read_from_the_folder_named_by_factcheck_prompts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "extract.md").write_text(PROMPT, encoding="utf-8")
    monkeypatch.setenv("FACTCHECK_PROMPTS", str(tmp_path))

    assert load_prompt("extract").version == "7"


def test_rendering_gives_a_system_and_a_user_message() -> None:
    messages = parse_prompt("p", PROMPT, sha256="0").render(title="Budget", document="The budget rose.")

    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Document: Budget\n\nThe budget rose."},
    ]


def test_a_missing_placeholder_value_is_an_error_naming_it() -> None:
    values = {k: v for k, v in EXTRACT_VALUES.items() if k != "fence"}

    with pytest.raises(UserError, match=r"prompt extract needs a value for \$fence"):
        load_prompt("extract").render(**values)


def test_document_text_with_placeholders_and_braces_is_not_rendered_again() -> None:
    text = "Costs ${title} and $chunk of {budget} {0} %s $$ in $document."

    messages = load_prompt("extract").render(**{**EXTRACT_VALUES, "title": "Budget", "document": text})

    assert text in messages[1]["content"]
    assert messages[1]["content"].count("Budget") == 1


def test_a_prompt_without_a_version_line_is_refused() -> None:
    with pytest.raises(UserError, match="no 'version:' line"):
        parse_prompt("p", PROMPT.replace("version: 7\n", ""), sha256="0")


def test_a_prompt_without_a_user_section_is_refused() -> None:
    with pytest.raises(UserError, match="one '## system' and one '## user'"):
        parse_prompt("p", PROMPT.split("## user")[0], sha256="0")


def test_a_missing_prompt_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is missing") as error:
        load_prompt("nonexistent", tmp_path)

    assert error.value.hint is not None
    assert "FACTCHECK_PROMPTS" in error.value.hint
