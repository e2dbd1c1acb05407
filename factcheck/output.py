"""What ``factcheck extract`` shows: a progress bar on stderr while documents are drafted, then one line each;
``--json`` puts the cases on stdout for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from factcheck.draft import Outcome

_STYLE = {"drafted": "green", "unchanged": "dim", "partial": "yellow", "failed": "red"}


def print_outcomes(
    run: Callable[[Callable[[Outcome], None]], list[Outcome]], total: int, as_json: bool
) -> list[Outcome]:
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("drafting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=total < 2 or not err.is_terminal,
    )  # fmt: skip
    task = progress.add_task("documents", total=total)
    with progress:
        outcomes = run(lambda _: progress.advance(task))
    for outcome in outcomes:
        err.print(summary_line(outcome), highlight=False, soft_wrap=True)
    if as_json:
        cases = [json.loads(o.case.model_dump_json()) for o in outcomes if o.case is not None]
        payload = cases[0] if total == 1 and len(cases) == 1 else cases
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    return outcomes


def summary_line(outcome: Outcome) -> str:
    style = _STYLE[outcome.status]
    head = f"[{style}]{outcome.status:>9}[/] {escape(outcome.source)}"
    if outcome.case is None:
        return f"{head}: {escape(outcome.message.removeprefix(outcome.source + ': '))}"
    case = outcome.case
    facts = sum(1 for c in case.claims if c.nature == "fact")
    drafting = case.drafting
    parts = [
        f"{_count(len(case.claims), 'claim')} ({_count(facts, 'fact')}, {_count(len(case.claims) - facts, 'opinion')})",
        f"{_count(len(case.rejected), 'draft')} rejected by grounding",
    ]
    if outcome.status != "unchanged":  # an unchanged case made no request now; its counts are from before
        parts.append(f"{drafting.usage.requests} model replies ({drafting.mode})")
    line = f"{head} -> {escape(str(outcome.folder))}: " + ", ".join(parts)
    if drafting.recordings and any(r.kind == "authored" for r in drafting.recordings):
        line += " [yellow](answers from an authored fixture, not a model)[/]"
    if outcome.message:
        line += f"\n          [yellow]{escape(outcome.message)}[/]"
    return line


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
