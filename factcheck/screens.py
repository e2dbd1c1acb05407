"""What the review terminal shows: the claim in its paragraph, progress, the questions, what was decided, help,
the queue and the status of every case. Rendering only; nothing here reads input or writes the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from factcheck import commands
from factcheck.commands import Ask
from factcheck.errors import FactcheckError
from factcheck.models import (
    ClaimState,
    Document,
    EditEvent,
    NoteEvent,
    RatingScale,
    RejectEvent,
    ReviewEvent,
    SourceEvent,
    VerdictEvent,
)
from factcheck.ratings import load_scale
from factcheck.review import Progress, can_reject, clip, load_state, progress
from factcheck.session import Session

CONTEXT_CHARS = 300
HISTORY_SHOWN = 8


def ask_help(ask: Ask) -> RenderableType:
    parts: list[RenderableType] = []
    if ask.choices:
        table = Table.grid(padding=(0, 2))
        for number, key, text in ask.choices:
            table.add_row(Text(number, style="bold"), Text(key, style="cyan"), Text(text))
        parts.append(table)
    if ask.hint:
        parts.append(Text(f"  {ask.label}: {ask.hint}", style="dim"))
    return Group(*parts)


def claim_screen(session: Session) -> RenderableType:
    document = session.case.document
    head = Text.assemble(("factcheck review", "bold"), "  ", (clip(document.title, 60), "italic"))
    head.append(f"   reviewer: {session.reviewer}", style="dim")
    parts: list[RenderableType] = [head, progress_text(session), Text()]
    claim = session.current
    if claim is None:
        parts.append(Text("This case has no claims yet. Type a to add one the model missed, q to quit."))
        return Group(*parts)
    parts += [_claim_panel(session, claim, document), _questions(claim), _decided(session, claim)]
    parts.append(_legend(session, claim))
    return Group(*parts)


def progress_text(session: Session) -> Text:
    counts = session.progress()
    done = round(20 * counts.reviewed / counts.total) if counts.total else 0
    text = Text("▕" + "█" * done + "░" * (20 - done) + "▏ ", style="green")
    text.append(f"{counts.reviewed}/{counts.total} reviewed", style="bold")
    for key, count in counts.ratings.items():
        text.append(f" · {session.ratings.label(key)} {count}")
    if counts.disputed:
        text.append(f" · disputed {counts.disputed}", style="red")
    if counts.rejected:
        text.append(f" · rejected {counts.rejected}")
    current = session.current
    if current is not None:
        mine = sum(session.reviewer in c.verdicts for c in session.state.claims)
        text.append(f"   #{session.number(current.claim.id)} of {len(session.queue)} ({session.only})", style="cyan")
        text.append(f" · yours {mine}", style="dim")
    return text


def progress_line(session: Session) -> str:
    return progress_text(session).plain.strip("▕█░▏ ")


def _claim_panel(session: Session, state: ClaimState, document: Document) -> Panel:
    claim = state.claim
    worth = "●" * claim.checkworthiness + "○" * (5 - claim.checkworthiness)
    origin = "added by a reviewer" if claim.origin == "reviewer" else f"drafted ({claim.grounding.method} match)"
    meta = Text(f"{claim.kind.value.replace('_', ' ')} · {claim.nature.value} · check-worthiness ", style="dim")
    meta.append(worth, style="yellow")
    meta.append(f" {claim.checkworthiness}/5 · paragraph {claim.paragraph + 1} · {origin}", style="dim")
    wording = Table.grid(padding=(0, 1))
    wording.add_row(Text("Claim", style="bold cyan"), Text(state.statement, style="bold"))
    edit = next((e for e in reversed(state.history) if isinstance(e, EditEvent)), None)
    if edit is not None:
        was = f"edited by {edit.reviewer} {_when(edit.at)}; drafted as: {claim.statement}"
        wording.add_row("", Text(was, style="dim"))
    if state.reworded:
        last = state.set_aside[-1]
        count = sum(s.cause == "edit" and (s.by, s.at) == (last.by, last.at) for s in state.set_aside)
        aside = f"wording changed; {count} earlier verdict{'s' * (count != 1)} set aside: rate the new wording"
        wording.add_row("", Text(aside, style="yellow"))
    body: list[RenderableType] = [meta, Text(), _in_context(document, claim.start, claim.end), Text(), wording]
    if state.rejection is not None:
        rejected = state.rejection
        why = commands.rejected_why(rejected)
        line = Text(f"REJECTED ({why}) by {rejected.reviewer} {_when(rejected.at)}", style="bold red")
        if state.rejected is None:
            line.append(" · DISPUTED: a verdict of another reviewer stands")
        body += [Text(), line + Text("   u restores it", style="dim")]
    title = f"#{session.number(claim.id)}  {claim.id}"
    return Panel(Group(*body), title=title, title_align="left", border_style="red" if state.disputed else "blue")


def _in_context(document: Document, start: int, end: int) -> Text:
    """The quote highlighted inside its paragraph, cut to a few hundred characters either side."""
    raw = document.text
    lo, hi = start, end
    if document.paragraphs:
        paragraph = document.paragraphs[document.paragraph_index(start)]
        lo, hi = min(paragraph.start, start), max(paragraph.end, end)
    cut_before, cut_after = start - lo > CONTEXT_CHARS, hi - end > CONTEXT_CHARS
    if cut_before:
        lo = raw.find(" ", start - CONTEXT_CHARS, start) + 1 or start - CONTEXT_CHARS
    if cut_after:
        space = raw.rfind(" ", end, end + CONTEXT_CHARS)
        hi = space if space > end else end + CONTEXT_CHARS
    text = Text("… " if cut_before else "")
    text.append(raw[lo:start].replace("\n", " "))
    text.append(raw[start:end].replace("\n", " "), style="black on yellow")
    text.append(raw[end:hi].replace("\n", " ") + (" …" if cut_after else ""))
    return text


def _questions(state: ClaimState) -> RenderableType:
    claim = state.claim
    if not claim.questions:
        why = f"none could be drafted: {claim.questions_error}" if claim.questions_error else "none drafted"
        return Text(f"\nQuestions to answer: {why}", style="dim")
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", style="bold")
    table.add_column()
    for number, question in enumerate(claim.questions, start=1):
        lines = Text(question.question, style="bold")
        lines.append(f"\nestablishes: {question.establishes}", style="dim")
        lines.append(f"\nsources: {'; '.join(question.primary_sources)}")
        lines.append("\nsearch: ")
        lines.append(question.search_query, style="cyan")
        table.add_row(f"{number}.", lines)
    return Group(Text("\nQuestions to answer", style="bold underline"), table)


def _decided(session: Session, state: ClaimState) -> RenderableType:
    title = Text("\nDecided so far", style="bold underline")
    if state.disputed:
        differ = "a rejection stands against a verdict" if state.rejection else "the reviewers' latest verdicts differ"
        title.append(f"   DISPUTED: {differ}", style="bold red")
    if not state.history:
        return Group(title, Text("nothing yet", style="dim"))
    table = Table.grid(padding=(0, 2))
    for verdict in state.verdicts.values():
        what = Text(session.ratings.label(verdict.rating), style="bold magenta")
        if verdict.no_source:
            what.append("  (no source)", style="yellow")
        if verdict.note:
            what.append(f"  {verdict.note}")
        table.add_row(Text(_when(verdict.at), style="dim"), Text(verdict.reviewer), Text("verdict"), what)
    for old in state.set_aside:
        why = "the wording changed since" if old.cause == "edit" else f"{old.by} rejected the claim since"
        what = Text(f"{session.ratings.label(old.verdict.rating)}  ({why})", style="dim")
        table.add_row(Text(_when(old.verdict.at), style="dim"), Text(old.verdict.reviewer, style="dim"),
                      Text("set aside", style="dim"), what)  # fmt: skip
    others = [e for e in state.history if not isinstance(e, VerdictEvent | EditEvent)]
    if len(others) > HISTORY_SHOWN:
        table.add_row("", "", Text("…", style="dim"), Text(f"{len(others) - HISTORY_SHOWN} earlier", style="dim"))
    for event in others[-HISTORY_SHOWN:]:
        style = "red" if isinstance(event, RejectEvent) else ""
        what = Text(commands.history_line(event, session.ratings), style=style)
        table.add_row(Text(_when(event.at), style="dim"), Text(event.reviewer), what, _history_detail(event))
    return Group(title, table)


def _history_detail(event: ReviewEvent) -> Text:
    """What a history line leaves to be read in full: a note's text, a source's address and excerpt."""
    if isinstance(event, NoteEvent):
        return Text(event.text)
    detail = Text()
    if isinstance(event, SourceEvent):
        if event.source.title != event.source.url:  # else the line already cites it by its address
            detail.append(event.source.url, style="cyan underline")
        if event.source.excerpt:
            detail.append(f"\n“{event.source.excerpt}”" if detail else f"“{event.source.excerpt}”", style="italic")
    return detail


def _legend(session: Session, state: ClaimState) -> RenderableType:
    reject = [("u", "restore")] if state.rejection is not None else []
    if can_reject(state, session.reviewer):
        reject.insert(0, ("r", "reject"))
    decide = [("v", "verdict"), ("n", "note"), ("s", "source"), ("e", "edit wording"), *reject, ("a", "add a claim")]
    move = [("k", "next"), ("b", "back"), ("g", "go to #"), ("l", "list"), ("?", "help"), ("q", "quit")]
    ratings = Text("rate at once by typing a key: ", style="dim")
    ratings.append(" · ".join(r.key for r in session.scale.ratings), style="cyan")
    return Group(Text(), _keys("decide ", decide), _keys("move   ", move), ratings)


def _keys(title: str, keys: list[tuple[str, str]]) -> Text:
    text = Text(title, style="dim")
    for key, what in keys:
        text.append(f" {key} ", style="bold reverse")
        text.append(f" {what}  ")
    return text


def help_screen(scale: RatingScale) -> RenderableType:
    keys = Table(title="Commands", title_justify="left", show_header=False, box=None, padding=(0, 2))
    for _, aliases, text in commands.COMMANDS:
        keys.add_row(Text(" ".join(aliases), style="bold"), text)
    ratings = Table(title=f"{scale.title}", title_justify="left", padding=(0, 1), expand=True)
    ratings.add_column("#", justify="right")
    ratings.add_column("key", style="cyan", no_wrap=True)
    ratings.add_column("rating", style="bold")
    ratings.add_column("definition", ratio=1)
    ratings.add_column("source", no_wrap=True)
    for number, rating in enumerate(scale.ratings, start=1):
        needs = "needed" if rating.needs_evidence else "optional"
        ratings.add_row(str(number), rating.key, rating.label, rating.definition, needs)
    tips = Text(
        "A verdict that needs a source asks for one of yours; answer 'none' to state there is none, with a note why.\n"
        "Enter on a form's first field, or Ctrl-C anywhere in it, cancels it. Each action is saved the moment you\n"
        "confirm it. Pasted lines join a note, excerpt, wording or quote; anywhere else they are ignored.",
        style="dim",
    )
    return Group(Text(), keys, Text(), ratings, tips)


def queue_screen(session: Session) -> RenderableType:
    table = Table(title=f"Queue ({session.only})", title_justify="left", padding=(0, 1), expand=True)
    for name in ("", "#", "id", "cw", "status"):
        table.add_column(name, no_wrap=True)
    table.add_column("claim", no_wrap=True, overflow="ellipsis", ratio=1)
    current = session.current
    for number, claim_id in enumerate(session.queue, start=1):
        state = session.state.get(claim_id)
        if state is None:
            continue
        marker = "›" if current is not None and claim_id == current.claim.id else ""
        table.add_row(
            marker, str(number), claim_id, str(state.claim.checkworthiness), _status(session, state),
            state.statement,
        )  # fmt: skip
    return table


def _status(session: Session, state: ClaimState) -> Text:
    if state.rejected is not None:
        return Text("rejected", style="dim")
    if state.disputed:
        return Text("disputed", style="red")
    if state.reworded:
        return Text("re-worded, waiting", style="yellow")
    if state.rating is not None:
        mine = "" if session.reviewer in state.verdicts else " (not yours)"
        return Text(session.ratings.label(state.rating) + mine, style="green")
    return Text("waiting", style="yellow")


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class _CaseStatus:
    slug: str
    counts: Progress | None
    """None when the case could not be read."""
    reviewers: str = ""
    notes: tuple[str, ...] = ()

    def cells(self, between_verdicts: str = "\n") -> tuple[Text, ...]:
        counts = self.counts
        if counts is None:
            return Text(), Text(), Text(), Text("unreadable", style="red"), Text()
        verdicts = between_verdicts.join(f"{key} {n}" for key, n in counts.ratings.items()) or "—"
        return (
            Text(f"{counts.reviewed}/{counts.total}", style="green" if counts.reviewed == counts.total else ""),
            Text(str(counts.disputed), style="red" if counts.disputed else ""),
            Text(str(counts.rejected)),
            Text(verdicts),
            Text(self.reviewers),
        )


STATUS_COUNTS_WIDTH = 62
"""Columns the one-row status table needs beside the slug: three counts, verdicts and reviewers, with padding."""


def status_table(folders: Sequence[Path], width: int) -> tuple[RenderableType, list[str]]:
    """The review progress of each case, and a one-line problem for each case that could not be read.

    A table with each case on one row when the longest slug fits beside the counts in ``width`` columns; else each
    slug on a line of its own with its counts below, so that a slug is never broken over lines.
    """
    cases: list[_CaseStatus] = []
    problems: list[str] = []
    for folder in folders:
        try:
            state = load_state(folder)
            counts = progress(state, load_scale(state.case.scale))
        except FactcheckError as exc:
            cases.append(_CaseStatus(folder.name, None))
            problems.append(f"{folder.name}: {exc.message.replace(str(folder) + '/', '')}")
            continue
        notes = [f"{counts.reworded} re-worded, to rate again"] if counts.reworded else []
        notes += [f"{len(state.warnings)} log warning(s)"] if state.warnings else []
        cases.append(_CaseStatus(folder.name, counts, ", ".join(state.reviewers), tuple(notes)))
    if max((len(c.slug) for c in cases), default=0) + STATUS_COUNTS_WIDTH <= width:
        return _status_rows(cases), problems
    return _status_stacked(cases), problems


def _status_rows(cases: list[_CaseStatus]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("case", no_wrap=True)
    for name in ("reviewed", "disputed", "rejected"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("verdicts", min_width=10)
    table.add_column("reviewers", min_width=9)
    for case in cases:
        table.add_row(Text("\n").join([Text(case.slug), *(Text(n, style="yellow") for n in case.notes)]), *case.cells())
    return table


def _status_stacked(cases: list[_CaseStatus]) -> RenderableType:
    lines: list[RenderableType] = []
    for case in cases:
        lines.append(Text(case.slug, style="bold", no_wrap=True, overflow="ellipsis"))
        reviewed, disputed, rejected, verdicts, reviewers = case.cells(between_verdicts=", ")
        if case.counts is None:
            lines.append(Padding(verdicts, (0, 0, 0, 2)))
            continue
        parts = [reviewed + " reviewed", disputed + " disputed", rejected + " rejected", verdicts]
        if reviewers.plain:
            parts.append(Text.assemble("by ", reviewers))
        lines.append(Padding(Text(" · ").join(parts), (0, 0, 0, 2)))
        lines += [Padding(Text(note, style="yellow"), (0, 0, 0, 2)) for note in case.notes]
    return Group(*lines)
