"""The rich terminal front of the review session: draws the claim, reads a line, hands it to the session.

All the decisions live in :mod:`factcheck.session`; this module only renders and reads. Everything a reviewer
confirms is in the review log before the next prompt is drawn, so Ctrl-C, Ctrl-D or a closed terminal lose nothing.

A paste of several lines arrives all at once: after each line, what is already waiting on standard input is taken
at once. In a free-text field (a note, an excerpt, a wording, a quote) those lines join the answer; anywhere else
they are set aside with a warning, so a pasted line is never run as a command.
"""

from __future__ import annotations

import os
import select
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from factcheck import commands, screens
from factcheck.commands import Ask, Level, Reply, View
from factcheck.models import RatingScale, ReviewEvent, ReviewState, VerdictEvent
from factcheck.ratings import Ratings
from factcheck.review import Only
from factcheck.session import Session
from factcheck.store import LOG_FILE, reports_root

MAX_WIDTH = 110
SHOWN_RECORDED = 20
_STYLES: dict[Level, tuple[str, str]] = {
    "ok": ("✓", "green"),
    "info": ("·", "cyan"),
    "warn": ("!", "yellow"),
    "error": ("✗", "red"),
}

UpdateReport = Callable[[Path, ReviewState, RatingScale], object]
"""Brings a case's report up to date from the state its log was just folded to (``report.write_markdown_report``,
passed in by the command line: the review stage does not import the report stage)."""


def make_console() -> Console:
    console = Console(highlight=False)
    console.width = min(console.width, MAX_WIDTH)
    return console


# --------------------------------------------------------------------------------------------------- the loop


def run_review(
    folder: Path,
    reviewer: str,
    only: Only = "all",
    *,
    console: Console | None = None,
    read: Callable[[str], str] | None = None,
    pending: Callable[[], list[str]] | None = None,
    update_report: UpdateReport | None = None,
) -> int:
    """Go through the case's claims with ``reviewer`` until they quit: q or Ctrl-D (0 is returned), or Ctrl-C at
    the main prompt (130, as a shell expects of an interrupted program).

    ``read`` asks for a line (default: standard input); ``pending`` gives the lines already waiting after it, the
    rest of a paste (default: taken from standard input when it is a terminal or a pipe). ``update_report`` is
    called after every action recorded; its failure is a warning.
    """
    con = console or make_console()
    session = Session(folder, reviewer, only)
    if not session.queue and only != "all":
        con.print(f"No claims to review with --only {only}: {screens.progress_line(session)}")
        return 0
    if read is None:
        stdin = _WaitingInput.of_stdin()
        read = input
        pending = pending or (stdin.take if stdin else None)
    editing = _line_editing()
    messages: list[tuple[Level, str]] = [("warn", w) for w in session.state.warnings]
    view: View = "claim"
    recorded = 0
    asked: Ask | None = None
    interrupted = False
    try:
        while True:
            _show(con, session, view, messages, explain=session.asking is not asked)
            asked = session.asking
            reply = _answer(con, session, read, pending, editing)
            recorded += len(reply.recorded)
            messages = list(reply.messages)
            if reply.recorded and update_report is not None:
                warning = _update_report(update_report, folder, session.state, session.scale)
                if warning:
                    messages.append(("warn", warning))
            if reply.done:
                break
            view = reply.view
    except KeyboardInterrupt:  # at the main prompt or between prompts: whatever was confirmed is already in the log
        interrupted = True
    con.print()
    saved = f"Saved: {recorded} event{'s' * (recorded != 1)} recorded this session, in {folder / LOG_FILE}"
    con.print(saved, soft_wrap=True)
    con.print(screens.progress_line(session))
    name = folder.name if folder.resolve().parent == reports_root().resolve() else str(folder)
    resume = f"Resume with: factcheck review {shlex.quote(name)} --reviewer {shlex.quote(session.reviewer)}"
    con.print(resume, soft_wrap=True)
    return 130 if interrupted else 0


def _answer(
    con: Console,
    session: Session,
    read: Callable[[str], str],
    pending: Callable[[], list[str]] | None,
    editing: _Editing | None,
) -> Reply:
    ask = session.asking
    try:
        line = _read_line(read, _prompt(session, ask), ask.prefill if ask else "", editing)
    except EOFError:
        con.print()
        return session.cancel() if ask else Reply(done=True)
    except KeyboardInterrupt:
        con.print()
        if ask is None:
            raise
        return session.cancel()
    # A line may hold a whole paste (bracketed paste), or the paste's other lines may be waiting behind it.
    first, *more = line.split("\n")
    more += pending() if pending else []
    if ask is not None and ask.free_text:
        return session.feed("\n".join([first, *more]))
    reply = session.feed(first)
    ignored = sum(1 for extra in more if extra.strip())
    if ignored:
        reply.messages.insert(0, ("warn", f"ignored {ignored} pasted line{'s' * (ignored != 1)}: one answer at a time"))
    return reply


def _prompt(session: Session, ask: Ask | None) -> str:
    if ask is not None:
        return f"  {ask.label} › "
    current = session.current
    number = session.number(current.claim.id) if current else None
    return f"#{number} action (? for help) › " if number else "action (? for help) › "


class _Editing:
    """GNU readline, when present: line editing, history, and text to start from when editing a claim."""

    def __init__(self) -> None:
        import readline

        self.readline = readline

    def prefill(self, text: str) -> None:
        self.readline.set_startup_hook((lambda: self.readline.insert_text(text)) if text else None)


class _WaitingInput:
    """What is already waiting on standard input after a line was read: the rest of a paste, taken without blocking.

    Only a terminal is asked: GNU readline takes a terminal's input a byte at a time, so the rest of a paste stays
    in the terminal's queue until it is taken here.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = b""

    @classmethod
    def of_stdin(cls) -> _WaitingInput | None:
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):
            return None
        # Only a terminal is asked. A pipe is a script, not a paste: its lines are answers, one prompt at a time.
        return cls(fd) if os.isatty(fd) else None

    def take(self) -> list[str]:
        """The lines waiting now; an empty list when nothing is."""
        blocking = os.get_blocking(self.fd)
        try:
            os.set_blocking(self.fd, False)
            while select.select([self.fd], [], [], 0)[0]:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                self._buffer += chunk
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            os.set_blocking(self.fd, blocking)
        waiting, self._buffer = self._buffer, b""
        return waiting.decode("utf-8", errors="replace").splitlines()


def _line_editing() -> _Editing | None:
    try:
        return _Editing()
    except ImportError:
        return None


def _read_line(read: Callable[[str], str], prompt: str, prefill: str, editing: _Editing | None) -> str:
    if editing is not None:
        editing.prefill(prefill)
    try:
        return read(prompt)
    finally:
        if editing is not None:
            editing.prefill("")


def _update_report(update: UpdateReport, folder: Path, state: ReviewState, scale: RatingScale) -> str | None:
    """Bring the case's report up to date; a failure comes back as a one-line warning, never raised."""
    try:
        update(folder, state, scale)
    except Exception as exc:
        return f"the report was not updated: {exc}"
    return None


def _show(con: Console, session: Session, view: View, messages: Sequence[tuple[Level, str]], *, explain: bool) -> None:
    if view == "claim":
        con.clear()
        con.print(screens.claim_screen(session))
    elif view == "help":
        con.print(screens.help_screen(session.scale))
    elif view == "list":
        con.print(screens.queue_screen(session))
    for level, text in messages:
        mark, style = _STYLES[level]
        con.print(Text(f"{mark} {text}", style=style))
    ask = session.asking
    if ask is not None and explain:
        con.print(screens.ask_help(ask))


# --------------------------------------------------------------------------------------------------- commands


def print_recorded(
    folder: Path,
    events: Sequence[ReviewEvent],
    state: ReviewState,
    scale: RatingScale,
    *,
    console: Console | None = None,
    update_report: UpdateReport | None = None,
) -> None:
    """Confirm what a non-interactive command recorded, then bring the report up to date; ``state`` is the log
    folded after the events were appended."""
    if not events:
        return
    con = console or make_console()
    ratings = Ratings(scale)
    for event in events[:SHOWN_RECORDED]:
        con.print(Text(f"✓ {event.claim_id}: {commands.describe(event, ratings)}", style="green"))
    if len(events) > SHOWN_RECORDED:
        con.print(f"  ... and {len(events) - SHOWN_RECORDED} more")
    errors = Console(stderr=True)
    for event in events:
        claim = state.get(event.claim_id)
        overtaken = commands.given_on_other_wording(claim, event) if claim and isinstance(event, VerdictEvent) else None
        if overtaken:
            errors.print(Text(f"! {event.claim_id}: {overtaken}", style="yellow"), soft_wrap=True)
    warning = _update_report(update_report, folder, state, scale) if update_report is not None else None
    if warning:
        errors.print(Text(f"! {warning}", style="yellow"), soft_wrap=True)


def print_status(folders: Sequence[Path], console: Console | None = None) -> int:
    """A table of cases with their review progress, then a line for each case that could not be read; returns
    how many could not."""
    con = console or make_console()
    if not folders:
        con.print("No cases yet: run 'factcheck extract' on a document first.")
        return 0
    table, problems = screens.status_table(folders, con.width)
    con.print(table)
    for problem in problems:
        con.print(Text(f"✗ {problem}", style="red"), no_wrap=True, overflow="ellipsis")
    return len(problems)
