"""Helpers shared by the review tests: a saved sample case, events made briefly, and the CLI run in-process."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import make_case

from factcheck import store
from factcheck.cli import main
from factcheck.models import Case, ReviewEvent, Source, SourceEvent, VerdictEvent

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def save_case(root: Path, case: Case | None = None, events: list[ReviewEvent] | None = None) -> Path:
    """The sample case (or ``case``) saved under ``root``, with ``events`` already in its log."""
    case = case or make_case()
    folder = root / case.document.slug
    folder.mkdir(parents=True, exist_ok=True)
    store.save_case(case, folder)
    if events:
        store.append_events(folder, events)
    return folder


def ids(case: Case | None = None) -> list[str]:
    """Claim ids of the sample case, in document order: the 2014 prison start, 5,000 members, RICO, the opinion."""
    return [c.id for c in sorted((case or make_case()).claims, key=lambda c: c.start)]


def by_worth(case: Case | None = None) -> list[str]:
    """Claim ids of the sample case, most check-worthy first: 5,000 members, RICO, 2014, the opinion."""
    return [c.id for c in sorted((case or make_case()).claims, key=lambda c: -c.checkworthiness)]


def verdict(claim_id: str, rating: str, reviewer: str = "ana", minute: int = 0, **extra: object) -> VerdictEvent:
    return VerdictEvent(
        event_id=f"v-{reviewer}-{claim_id}-{minute}-{rating}",
        at=at(minute),
        reviewer=reviewer,
        claim_id=claim_id,
        rating=rating,
        **extra,  # type: ignore[arg-type]
    )


def source(claim_id: str, url: str = "https://example.org/a", reviewer: str = "ana", minute: int = 0) -> SourceEvent:
    return SourceEvent(
        event_id=f"s-{reviewer}-{claim_id}-{minute}-{url}",
        at=at(minute),
        reviewer=reviewer,
        claim_id=claim_id,
        source=Source(url=url, title="A source"),
    )


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``factcheck ARGS`` through the console entry point; its exit code, stdout and stderr."""
    monkeypatch.setattr(sys, "argv", ["factcheck", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
