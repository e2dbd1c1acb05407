"""The rich terminal front of the review session: draws the claim, reads a line, hands it to the session.

All the decisions live in :mod:`factcheck.session`; this module only renders and reads. Everything a reviewer
confirms is in the review log before the next prompt is drawn, so Ctrl-C, Ctrl-D or a closed terminal lose nothing.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from factcheck import commands, screens
from factcheck.commands import Ask, Level, Reply, View
from factcheck.models import ReviewEvent
from factcheck.review import Only, load_scale, load_state
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
    read: Callable[[str], str] = input,
) -> None:
    """Go through the case's claims with ``reviewer`` until they quit (q, Ctrl-D, or Ctrl-C at the main prompt)."""
    con = console or make_console()
    session = Session(folder, reviewer, only)
    if not session.queue and only != "all":
        con.print(f"No claims to review with --only {only}: {screens.progress_line(session)}")
        return
    editing = _line_editing()
    messages: list[tuple[Level, str]] = [("warn", w) for w in session.state.warnings]
    view: View = "claim"
    recorded = 0
    asked: Ask | None = None
    try:
        while True:
            _show(con, session, view, messages, explain=session.asking is not asked)
            asked = session.asking
            reply = _answer(con, session, read, editing)
            recorded += len(reply.recorded)
            messages = list(reply.messages)
            if reply.recorded:
                warning = _refresh_report(folder)
                if warning:
                    messages.append(("warn", warning))
            if reply.done:
                break
            view = reply.view
    except KeyboardInterrupt:  # between prompts: whatever was confirmed is already in the log
        pass
    con.print()
    saved = f"Saved: {recorded} event{'s' * (recorded != 1)} recorded this session, in {folder / LOG_FILE}"
    con.print(saved, soft_wrap=True)
    con.print(screens.progress_line(session))
    name = folder.name if folder.resolve().parent == reports_root().resolve() else str(folder)
    resume = f"Resume with: factcheck review {shlex.quote(name)} --reviewer {shlex.quote(session.reviewer)}"
    con.print(resume, soft_wrap=True)


def _answer(con: Console, session: Session, read: Callable[[str], str], editing: _Editing | None) -> Reply:
    ask = session.asking
    try:
        line = _read_line(read, _prompt(session, ask), ask.prefill if ask else "", editing)
    except EOFError:
        con.print()
        return session.cancel() if ask else Reply(done=True)
    except KeyboardInterrupt:
        con.print()
        return session.cancel() if ask else Reply(done=True)
    return session.feed(line)


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


def _refresh_report(folder: Path) -> str | None:
    """Bring the case's Markdown report up to date; a failure comes back as a one-line warning, never raised."""
    try:
        write = importlib.import_module("factcheck.report").write_markdown_report
    except ModuleNotFoundError as exc:
        if exc.name == "factcheck.report":
            return None
        return f"the report was not updated: {exc}"
    except AttributeError:
        return None
    except Exception as exc:
        return f"the report was not updated: {type(exc).__name__}: {exc}"
    try:
        write(folder)
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


def print_recorded(folder: Path, events: Sequence[ReviewEvent], console: Console | None = None) -> None:
    """Confirm what a non-interactive command recorded, then bring the report up to date."""
    if not events:
        return
    con = console or make_console()
    scale = load_scale(load_state(folder).case.scale)
    for event in events[:SHOWN_RECORDED]:
        con.print(Text(f"✓ {event.claim_id}: {commands.describe(event, scale)}", style="green"))
    if len(events) > SHOWN_RECORDED:
        con.print(f"  ... and {len(events) - SHOWN_RECORDED} more")
    warning = _refresh_report(folder)
    if warning:
        Console(stderr=True).print(Text(f"! {warning}", style="yellow"))


def print_status(folders: Sequence[Path], console: Console | None = None) -> None:
    """A table of cases with their review progress."""
    con = console or make_console()
    if not folders:
        con.print("No cases yet: run 'factcheck extract' on a document first.")
        return
    con.print(screens.status_table(folders))
