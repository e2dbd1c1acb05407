"""Case -> Markdown / JSON / ClaimReview, and the index of every case.

The renderers are pure functions of a folded :class:`~factcheck.models.ReviewState` and its rating scale; the
functions here load a case folder and write the files next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from factcheck.atomic import write_atomic
from factcheck.claimreview import Publisher, build_claimreviews, load_publisher, render_claimreview
from factcheck.errors import FactcheckError, UserError
from factcheck.models import RatingScale, ReviewState
from factcheck.ratings import load_scale
from factcheck.report_data import IndexEntry, render_index, render_json
from factcheck.report_md import render_markdown
from factcheck.review import load_state
from factcheck.store import REPORT_FILE, list_cases

__all__ = [
    "AllReports",
    "IndexEntry",
    "Publisher",
    "Rendered",
    "load_publisher",
    "render_case",
    "render_claimreview",
    "render_index",
    "render_json",
    "render_markdown",
    "write_all_reports",
    "write_markdown_report",
]

INDEX_FILE = "index.md"
DEFAULT_FILES = {"md": REPORT_FILE, "json": "report.json", "claimreview": "claimreview.json"}


def write_markdown_report(folder: Path, state: ReviewState | None = None, scale: RatingScale | None = None) -> Path:
    """Render the case in ``folder`` to ``folder/report.md``, atomically; an unfinished review renders as a draft.

    ``state`` (with its ``scale``) is the case already folded, as the review stage has it after recording an action;
    without it the case is read from ``folder``.
    """
    if state is None:
        state, scale = _load(folder)
    elif scale is None:
        scale = load_scale(state.case.scale)
    path = folder / REPORT_FILE
    write_atomic(path, render_markdown(state, scale))
    return path


@dataclass(frozen=True)
class Rendered:
    """A rendered report, the file it belongs in by default, and what the user should be told besides, a line each."""

    text: str
    default_path: Path
    notices: tuple[str, ...] = ()


def render_case(folder: Path, fmt: str = "md", publisher_file: Path | None = None) -> Rendered:
    """Render the case in ``folder`` as ``md``, ``json`` or ``claimreview`` (which needs a publisher)."""
    if fmt not in DEFAULT_FILES:
        raise UserError(f"no report format {fmt!r}", hint=f"use {', '.join(DEFAULT_FILES)}")
    state, scale = _load(folder)
    default_path = folder / DEFAULT_FILES[fmt]
    if fmt == "md":
        return Rendered(render_markdown(state, scale), default_path)
    if fmt == "json":
        return Rendered(render_json(state, scale), default_path)
    publisher = load_publisher(folder.parent, publisher_file)
    reviews = build_claimreviews(state, scale, publisher)
    notices = (reviews.summary(), reviews.left_out_message())
    return Rendered(reviews.to_json(), default_path, tuple(notice for notice in notices if notice))


@dataclass(frozen=True)
class AllReports:
    """What :func:`write_all_reports` wrote, and each case it could not read with the error that stopped it."""

    index: Path
    reports: list[Path]
    failed: list[tuple[Path, FactcheckError]]


def write_all_reports(root: Path) -> AllReports:
    """Write every case's report.md, then ``root/index.md``; a case that cannot be read is listed there as such."""
    if not root.is_dir():
        raise UserError(f"{root}/: no reports folder here", hint="set FACTCHECK_REPORTS or run from the project")
    entries: list[IndexEntry] = []
    reports: list[Path] = []
    failed: list[tuple[Path, FactcheckError]] = []
    for folder in list_cases(root):
        try:
            state, scale = _load(folder)
        except FactcheckError as exc:
            entries.append(IndexEntry(folder.name, error=exc.message))
            failed.append((folder, exc))
            continue
        reports.append(folder / REPORT_FILE)
        write_atomic(reports[-1], render_markdown(state, scale))
        entries.append(IndexEntry(folder.name, state, scale))
    path = root / INDEX_FILE
    write_atomic(path, render_index(entries))
    return AllReports(index=path, reports=reports, failed=failed)


def _load(folder: Path) -> tuple[ReviewState, RatingScale]:
    state = load_state(folder)
    return state, load_scale(state.case.scale)
