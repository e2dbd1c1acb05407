"""The case folder on disk.

``reports/<slug>/`` holds:

- ``case.json``: the document and the drafted claims, written atomically (temp file, fsync, ``os.replace``);
- ``review.jsonl``: the append-only review log, one fsync'd JSON event a line; review state is folded from it;
- ``report.md`` (and on request ``report.json``, ``claimreview.json``): rendered from the two above;
- ``.lock``: held while a process drafts into the folder.

Nothing here rewrites a line of the review log, and nothing overwrites a case file it could not read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from factcheck.atomic import write_atomic
from factcheck.errors import CaseError
from factcheck.models import Case, ReviewEvent

CASE_FILE = "case.json"
LOG_FILE = "review.jsonl"
REPORT_FILE = "report.md"
LOCK_FILE = ".lock"

_EVENT = TypeAdapter[ReviewEvent](ReviewEvent)


def reports_root() -> Path:
    return Path(os.environ.get("FACTCHECK_REPORTS", "reports"))


def case_dir(slug: str, root: Path | None = None) -> Path:
    """The folder of the case ``slug``; a slug that would leave the reports folder is refused."""
    root = root or reports_root()
    if not slug or slug in (".", "..") or "/" in slug or "\\" in slug or slug.startswith("."):
        raise CaseError(f"{slug!r} is not a valid case name")
    folder = root / slug
    if folder.resolve().parent != root.resolve():
        raise CaseError(f"{slug!r} is not a valid case name")
    return folder


def resolve_case(ref: str, root: Path | None = None) -> Path:
    """Find a case folder from a folder path, a slug, or the path of the source document it was drafted from."""
    root = root or reports_root()
    given = Path(ref)
    if (given / CASE_FILE).is_file():
        return given
    if given.is_file() and given.name == CASE_FILE:
        return given.parent
    from factcheck.documents import slug_for

    for slug in dict.fromkeys([ref, slug_for(ref)]):
        with contextlib.suppress(CaseError):
            folder = case_dir(slug, root)
            if (folder / CASE_FILE).is_file():
                return folder
    raise CaseError(f"no case found for {ref!r} under {root}/", hint="run 'factcheck extract' on the document first")


def list_cases(root: Path | None = None) -> list[Path]:
    root = root or reports_root()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / CASE_FILE).is_file())


# --------------------------------------------------------------------------------------------------- writes


def save_case(case: Case, folder: Path) -> Path:
    path = folder / CASE_FILE
    write_atomic(path, case.model_dump_json(indent=2) + "\n")
    return path


def load_case(folder: Path) -> Case:
    path = folder / CASE_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseError(f"{path}: no case file here") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"{path}: cannot be read: {exc}") from None
    try:
        return Case.model_validate_json(raw)  # one pass, in Rust; the slower path below only explains a failure
    except ValidationError:
        pass
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CaseError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            hint="fix it by hand, or move it aside and extract again; factcheck will not overwrite it",
        ) from None
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CaseError(
            f"{path}: not a valid case ({exc.error_count()} errors; first at {where}: {first['msg']})",
            hint="fix it by hand, or move it aside and extract again; factcheck will not overwrite it",
        ) from None


@contextlib.contextmanager
def drafting_lock(folder: Path) -> Iterator[None]:
    """Hold the case's lock while drafting; a second drafter gets a clear error instead of waiting or racing.
    A folder made for a draft that never saved a case is taken away again, by the lock's holder only and before it
    lets go: a process that lost the lock may have seen the folder missing too, and must not take away the winner's."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        try:
            yield
        finally:
            if created and not (folder / CASE_FILE).exists():
                (folder / LOCK_FILE).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if nothing else was put there


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CaseError(
                f"{folder}: another factcheck process is drafting this case", hint="wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------------- review log


def append_event(folder: Path, event: ReviewEvent) -> None:
    """Append one event to the review log and fsync it before returning.

    An exclusive lock serialises writers (two reviewers, scripts); a torn last line left by a crash is closed
    with a newline first, so the new event always stands on a line of its own.
    """
    append_events(folder, [event])


def append_events(folder: Path, events: Sequence[ReviewEvent]) -> None:
    """Append several events under one lock with one write and one fsync, so a batch lands together."""
    if not events:
        return
    data = b"".join(_EVENT.dump_json(event) + b"\n" for event in events)
    path = folder / LOG_FILE
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_size and not _ends_with_newline(path):
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def read_events(folder: Path) -> tuple[list[ReviewEvent], list[str]]:
    """Every readable event of the log in order, and a warning for each line that was skipped."""
    path = folder / LOG_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], []
    events: list[ReviewEvent] = []
    warnings: list[str] = []
    lines = raw.split(b"\n")
    last = len(lines) - 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(_EVENT.validate_json(line))
        except ValidationError as exc:
            torn = number - 1 == last
            what = "an incomplete last line (a write cut short)" if torn else "an unreadable line"
            warnings.append(f"{path}:{number}: skipped {what}: {exc.errors(include_url=False)[0]['msg']}")
    return events, warnings
