"""Atomic writes: whole files or nothing, with the mode a file would have had anyway."""

from __future__ import annotations

from pathlib import Path

from factcheck.atomic import write_atomic


def test_a_new_file_gets_the_mode_open_would_give_it_not_0600(tmp_path: Path) -> None:
    write_atomic(tmp_path / "case.json", "{}")
    (tmp_path / "plain.json").write_text("{}")

    mode = (tmp_path / "case.json").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain.json").stat().st_mode & 0o777


def test_a_rewritten_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text("old")
    path.chmod(0o640)

    write_atomic(path, "new")

    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o640


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.json", b"{}")

    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
