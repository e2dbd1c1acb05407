"""Import verdicts from a CSV or JSONL file: every row is checked first, and one bad row refuses the whole file.

Columns (CSV header or JSON keys): claim_id, rating, reviewer, note, source_url, source_title, no_source. A verdict
that needs evidence needs a source_url in its row, or one its reviewer cited on the claim before, or no_source with a
note; notes are at most 4,000 characters. Rows are appended to the review log together, under one lock; their event
ids derive from the file's content, so importing the same file twice records its verdicts once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from factcheck import store
from factcheck.errors import FactcheckError, UserError
from factcheck.models import RatingScale, ReviewEvent, ReviewState, VerdictEvent
from factcheck.ratings import load_scale
from factcheck.review import MissingSource, build_verdict, check_reviewer, load_state, make_source, utc_now

COLUMNS = ("claim_id", "rating", "reviewer", "note", "source_url", "source_title", "no_source")
REQUIRED = ("claim_id", "rating")
PROBLEMS_SHOWN = 20
_TRUE = ("1", "true", "yes", "y", "x")
_FALSE = ("", "0", "false", "no", "n")

Row = dict[str, str | bool | None]


class ImportRefused(UserError):
    """A verdict file with bad rows; ``problems`` says which, line by line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        count = f"{len(problems)} problem{'s' * (len(problems) != 1)}"
        super().__init__(f"{path}: {count}, nothing was imported", hint="fix the lines listed and import again")
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    """What an import appended, with the log folded after it (other writers' events included) and its scale."""

    rows: int
    imported: int
    already: int
    events: list[ReviewEvent]
    state: ReviewState
    scale: RatingScale


def import_verdicts(folder: Path, path: Path, *, reviewer: str | None = None) -> ImportResult:
    """Check every row of ``path`` against the case, then append all their events, or refuse them all."""
    raw = _read(path)
    rows, problems = _parse(path, raw.decode("utf-8-sig"))
    if not rows and not problems:
        raise UserError(f"{path}: no verdicts in the file")
    state = load_state(folder)
    scale = load_scale(state.case.scale)
    default = check_reviewer(reviewer) if reviewer else None
    known = {e.event_id for c in state.claims for e in c.history}
    digest = hashlib.sha256(raw).hexdigest()[:12]
    previous: dict[tuple[str, str], str] = {}
    events: list[ReviewEvent] = []
    already = 0
    for line, row in rows:
        try:
            made = _row_events(state, scale, row, default, previous)
        except FactcheckError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        made = [e.model_copy(update={"event_id": f"import-{digest}-{line}-{i}"}) for i, e in enumerate(made)]
        if made[-1].event_id in known:
            already += 1
            continue
        events += made
    if problems:
        raise ImportRefused(path, sorted(problems, key=_line_number))
    store.append_events(folder, events)
    after = load_state(folder, state.case) if events else state
    imported = len(rows) - already
    return ImportResult(rows=len(rows), imported=imported, already=already, events=events, state=after, scale=scale)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read: {exc.strerror}") from None


def _parse(path: Path, text: str) -> tuple[list[tuple[int, Row]], list[str]]:
    suffix = path.suffix.lower()
    as_json = suffix in (".jsonl", ".ndjson", ".json") or (suffix != ".csv" and text.lstrip().startswith("{"))
    return _jsonl_rows(text) if as_json else _csv_rows(text)


def _csv_rows(text: str) -> tuple[list[tuple[int, Row]], list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return [], []
    except csv.Error as exc:
        return [], [f"line 1: {exc}"]
    problems = _column_problems(header, 1)
    rows: list[tuple[int, Row]] = []
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {reader.line_num}: {exc}")
            break
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(f"line {start}: {len(record)} fields, but the header names {len(header)}")
            continue
        rows.append((start, dict(zip(header, record, strict=True))))
    return rows, problems


def _jsonl_rows(text: str) -> tuple[list[tuple[int, Row]], list[str]]:
    rows: list[tuple[int, Row]] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        found = _column_problems(list(value), number, need_all=False)
        odd = [k for k, v in value.items() if not isinstance(v, str | bool) and v is not None]
        found += [f"line {number}: {key!r} must be text, true/false or null" for key in odd]
        if found:
            problems += found
            continue
        missing = [c for c in REQUIRED if not value.get(c)]
        if missing:
            problems.append(f"line {number}: missing {', '.join(missing)}")
            continue
        rows.append((number, value))
    return rows, problems


def _column_problems(names: list[str], line: int, *, need_all: bool = True) -> list[str]:
    problems = [f"line {line}: unknown column {n!r} (columns: {', '.join(COLUMNS)})" for n in names if n not in COLUMNS]
    if need_all:
        problems += [f"line {line}: the header has no {c!r} column" for c in REQUIRED if c not in names]
    return problems


def _row_events(
    state: ReviewState, scale: RatingScale, row: Row, default: str | None, previous: dict[tuple[str, str], str]
) -> list[ReviewEvent]:
    claim_id, rating = _text(row, "claim_id"), _text(row, "rating")
    if not claim_id or not rating:
        raise UserError("claim_id and rating are required")
    reviewer = _text(row, "reviewer") or default
    if not reviewer:
        raise UserError("no reviewer", hint="fill the reviewer column or pass --reviewer")
    url, title = _text(row, "source_url"), _text(row, "source_title")
    if title and not url:
        raise UserError("source_title without a source_url")
    try:
        events = build_verdict(
            state, scale, claim_id=claim_id, rating=rating, reviewer=reviewer, note=_text(row, "note"),
            source=make_source(url, title) if url else None, no_source=_flag(row.get("no_source")), at=utc_now(),
        )  # fmt: skip
    except MissingSource as exc:
        raise UserError(exc.message, hint="fill source_url, or no_source with a note saying why") from None
    verdict = events[-1]
    assert isinstance(verdict, VerdictEvent)
    key = (verdict.reviewer, verdict.claim_id)
    if key in previous:
        events[-1] = verdict.model_copy(update={"previous": previous[key]})
    previous[key] = verdict.rating
    return events


def _text(row: Row, column: str) -> str | None:
    value = row.get(column)
    return value.strip() or None if isinstance(value, str) else None


def _flag(value: str | bool | None) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    wanted = value.strip().lower()
    if wanted in _TRUE:
        return True
    if wanted in _FALSE:
        return False
    raise UserError(f"no_source must be true or false, not {value!r}")


def _line_number(problem: str) -> int:
    number = problem.removeprefix("line ").split(":", 1)[0]
    return int(number) if number.isdigit() else 0
