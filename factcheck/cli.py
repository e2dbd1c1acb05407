"""The command line: parses arguments, calls the library, prints results. No logic of its own.

Heavy modules (the openai SDK, rich consoles) are imported inside the commands so ``factcheck --help`` starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

from factcheck.errors import FactcheckError

if TYPE_CHECKING:
    from factcheck.batch import BatchReport, BatchView
    from factcheck.draft import DraftOptions

    OnEvent = Callable[[str], None]
    OnPoll = Callable[[list[BatchView]], None]

app = typer.Typer(
    name="factcheck",
    help="Draft checkable claims from a document with an LLM, review them in the terminal, publish the verdicts.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

_state = {"verbose": False}


@app.callback()
def _options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks and debug logs.")] = False,
) -> None:
    _state["verbose"] = verbose


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error to stderr and exit non-zero."""
    typer.echo(f"factcheck: error: {message}", err=True)
    raise typer.Exit(code)


# ----------------------------------------------------------------------------------------------- extract
# (commands of each stage live in their own section below; keep sections in pipeline order)


@app.command()
def extract(
    sources: Annotated[list[str], typer.Argument(help="Documents to draft: paths (.txt, .md, .html) or URLs.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the case(s) as JSON on stdout.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="LLM requests in flight at once.")] = 8,
    model: Annotated[str | None, typer.Option(help="Model name (default: $FACTCHECK_MODEL).")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server (default: $OPENAI_BASE_URL).")] = None,
    record: Annotated[Path | None, typer.Option(help="Save every exchange with the server into this folder.")] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            help="Answer from saved exchanges in this folder, offline; alone, from the recordings bundled with "
            "factcheck.",
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not answer from the response cache.")] = False,
    force: Annotated[bool, typer.Option(help="Draft again even if the case is up to date.")] = False,
    chunk_tokens: Annotated[int, typer.Option(min=200, help="Token budget of one extraction chunk.")] = 2000,
    timeout: Annotated[
        float | None,
        typer.Option(min=0.1, help="Seconds to wait for one reply before retrying (default: $FACTCHECK_TIMEOUT, 120)."),
    ] = None,
    batch: Annotated[
        bool, typer.Option("--batch", help="Draft through the OpenAI Batch API: half the price, within 24 hours.")
    ] = False,
    wait: Annotated[
        bool, typer.Option(help="With --batch: follow the batches to the end, or submit and return.")
    ] = True,
) -> None:
    """Draft grounded claims and verification questions for each document into reports/<slug>/."""
    from factcheck.draft import DraftOptions, draft_sources
    from factcheck.output import print_outcomes

    if record is not None and replay is not None:
        fail("--record and --replay exclude each other")
    options = DraftOptions(
        model=model, base_url=base_url, record=record, replay=replay, cache=not no_cache, force=force,
        concurrency=concurrency, chunk_tokens=chunk_tokens, timeout=timeout,
    )  # fmt: skip
    if batch:
        if record is not None or replay is not None or as_json:
            fail("--batch takes no --record, --replay or --json", code=2)
        _follow_batches(lambda event, poll: _draft_in_batches(sources, options, wait, event, poll))
        return
    outcomes = print_outcomes(lambda done: draft_sources(sources, options, on_done=done), len(sources), as_json)
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(1)


# ----------------------------------------------------------------------------------------------- batch

batch_app = typer.Typer(help="Follow drafting runs submitted with 'factcheck extract --batch'.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")


@batch_app.command("status")
def batch_status_command() -> None:
    """Show each running batch as the API reports it, and the documents waiting to be submitted."""
    from factcheck.batch import batch_status, print_batch_report

    report = batch_status()
    if not report.waiting and not report.unsubmitted:
        typer.echo("no batch run under way")
        return
    print_batch_report(report, stderr=False)


@batch_app.command("collect")
def batch_collect_command(
    wait: Annotated[
        bool, typer.Option(help="Follow the batches to the end, or collect what is done and return.")
    ] = True,
) -> None:
    """Collect finished batches into their cases and submit what comes next; an interrupted run goes on here."""
    from factcheck.batch import batch_options, collect_batches

    _follow_batches(lambda event, poll: collect_batches(batch_options(wait=wait), on_event=event, on_poll=poll))


def _draft_in_batches(
    sources: list[str], options: DraftOptions, wait: bool, event: OnEvent, poll: OnPoll
) -> BatchReport:
    from factcheck.batch import batch_options, draft_in_batches

    return draft_in_batches(sources, options, batch_options(wait=wait), on_event=event, on_poll=poll)


def _follow_batches(run: Callable[[OnEvent, OnPoll], BatchReport]) -> None:
    from factcheck.batch import print_batch_report, progress_display

    try:
        with progress_display() as (event, poll):
            report = run(event, poll)
    except KeyboardInterrupt:
        fail("interrupted; the batches go on without us: 'factcheck batch collect' takes them up again", code=130)
    print_batch_report(report)
    if not report.ok:
        raise typer.Exit(1)


# ----------------------------------------------------------------------------------------------- review

_CASE_HELP = "The case: its folder, its slug, or the document it was drafted from."
_REVIEWER_HELP = "Your name in the review log (default: $FACTCHECK_REVIEWER, else your login name)."


@app.command()
def review(
    case: Annotated[str, typer.Argument(help=_CASE_HELP)],
    reviewer: Annotated[str | None, typer.Option(help=_REVIEWER_HELP)] = None,
    only: Annotated[
        Literal["unreviewed", "disputed", "all"],
        typer.Option(help="Which claims to go through: unreviewed ones, disputed ones, or all of them."),
    ] = "all",
) -> None:
    """Review the drafted claims one at a time; each action is saved the moment you confirm it."""
    from factcheck.console import run_review
    from factcheck.report import write_markdown_report
    from factcheck.review import default_reviewer
    from factcheck.store import resolve_case

    folder = resolve_case(case)
    name = default_reviewer() if reviewer is None else reviewer
    code = run_review(folder, name, only, update_report=write_markdown_report)
    if code:
        raise typer.Exit(code)


@app.command()
def verdict(
    case: Annotated[str, typer.Argument(help=_CASE_HELP)],
    claim_id: Annotated[str, typer.Argument(help="The claim's id, as the review screen and the report show it.")],
    rating: Annotated[str, typer.Option(help="A rating key of the case's scale, such as false.")],
    note: Annotated[str | None, typer.Option(help="Why this rating; required with --no-source.")] = None,
    source: Annotated[str | None, typer.Option(help="URL of the source the verdict rests on.")] = None,
    source_title: Annotated[str | None, typer.Option(help="Title of the source (default: its URL).")] = None,
    source_excerpt: Annotated[str | None, typer.Option(help="The passage of the source that matters.")] = None,
    no_source: Annotated[
        bool, typer.Option("--no-source", help="State that no source can be cited; say why with --note.")
    ] = False,
    reviewer: Annotated[str | None, typer.Option(help=_REVIEWER_HELP)] = None,
) -> None:
    """Record one verdict without the interactive review; safe to run from several processes at once."""
    from factcheck.console import print_recorded
    from factcheck.report import write_markdown_report
    from factcheck.review import MissingSource, default_reviewer, record_verdict
    from factcheck.store import resolve_case

    folder = resolve_case(case)
    try:
        recorded = record_verdict(
            folder, claim_id=claim_id, rating=rating, reviewer=default_reviewer() if reviewer is None else reviewer,
            note=note, source_url=source, source_title=source_title, source_excerpt=source_excerpt,
            no_source=no_source,
        )  # fmt: skip
    except MissingSource as exc:
        fail(f"{exc.message} (pass --source URL, or --no-source with a --note saying why)")
    print_recorded(folder, recorded.events, recorded.state, recorded.scale, update_report=write_markdown_report)


@app.command(name="import")
def import_(
    case: Annotated[str, typer.Argument(help=_CASE_HELP)],
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV or JSONL of verdicts: claim_id, rating, reviewer, note, source_url, source_title, no_source."
        ),
    ],
    reviewer: Annotated[
        str | None, typer.Option(help="Reviewer for rows that leave the reviewer column empty.")
    ] = None,
) -> None:
    """Import verdicts from a file; every row is checked first, and one bad row refuses the whole file."""
    from factcheck.console import print_recorded
    from factcheck.report import write_markdown_report
    from factcheck.store import resolve_case
    from factcheck.verdict_import import ImportRefused, import_verdicts

    folder = resolve_case(case)
    try:
        result = import_verdicts(folder, file, reviewer=reviewer)
    except ImportRefused as exc:
        for problem in exc.problems[:20]:
            typer.echo(f"  {problem}", err=True)
        if len(exc.problems) > 20:
            typer.echo(f"  ... and {len(exc.problems) - 20} more", err=True)
        raise
    verdicts = [e for e in result.events if e.action == "verdict"]
    print_recorded(folder, verdicts, result.state, result.scale, update_report=write_markdown_report)
    skipped = f"; {result.already} already imported before" if result.already else ""
    typer.echo(f"{result.imported} verdict(s) imported from {file}{skipped}")


@app.command()
def status(case: Annotated[str | None, typer.Argument(help=_CASE_HELP + " Default: every case.")] = None) -> None:
    """Show each case's review progress: reviewed, disputed, rejected, and the verdicts given."""
    from factcheck.console import print_status
    from factcheck.store import list_cases, resolve_case

    if print_status([resolve_case(case)] if case else list_cases()):
        raise typer.Exit(1)  # some case could not be read; the table says which


# ----------------------------------------------------------------------------------------------- report


@app.command()
def report(
    case: Annotated[
        str | None, typer.Argument(help="The case: its folder, its slug, or the document it was drafted from.")
    ] = None,
    fmt: Annotated[
        Literal["md", "json", "claimreview"],
        typer.Option(
            "--format", "-f", help="md: the report; json: the case with its verdicts; claimreview: schema.org JSON-LD."
        ),
    ] = "md",
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write, '-' for stdout (default: report.md, report.json or claimreview.json in the case "
            "folder).",
        ),
    ] = None,
    publisher: Annotated[
        Path | None,
        typer.Option(help="TOML or JSON file with the publisher's name, url and report_url, for ClaimReview."),
    ] = None,
    all_cases: Annotated[
        bool,
        typer.Option(
            "--all", help="Write the report.md of every case and reports/index.md; exit 1 if a case cannot be read."
        ),
    ] = False,
) -> None:
    """Render a case's report: Markdown to publish from, JSON for other tools, or ClaimReview for search engines."""
    from factcheck.atomic import write_atomic
    from factcheck.report import render_case, write_all_reports
    from factcheck.store import reports_root, resolve_case

    if all_cases:
        if case is not None or output is not None or fmt != "md":
            fail("--all writes every case's report.md and the index; it takes no case, --format or --output", code=2)
        written = write_all_reports(reports_root())
        for path in [*written.reports, written.index]:
            typer.echo(path)
        for _, error in written.failed:
            typer.echo(f"factcheck: error: {error}", err=True)
        if written.failed:
            raise typer.Exit(1)
        return
    if case is None:
        fail("name a case, or pass --all", code=2)
    rendered = render_case(resolve_case(case), fmt, publisher)
    for notice in rendered.notices:
        typer.echo(f"factcheck: {notice}", err=True)
    if output == "-":
        typer.echo(rendered.text, nl=False)
        return
    path = Path(output) if output else rendered.default_path
    write_atomic(path, rendered.text)
    typer.echo(path)


def replay_with_optional_folder(argv: list[str]) -> list[str]:
    """``--replay`` takes an optional folder: alone (or before an option, or before something that is not a
    folder) it means the recordings bundled with factcheck."""
    out = []
    for i, arg in enumerate(argv):
        following = argv[i + 1] if i + 1 < len(argv) else None
        if arg == "--replay" and (following is None or following.startswith("-") or not Path(following).is_dir()):
            from factcheck.recording import BUNDLED  # here, not at the top: --help must not import the HTTP stack

            arg = f"--replay={BUNDLED}"
        out.append(arg)
    return out


def main() -> None:
    """Console entry point: our own errors become one line and exit 1; usage errors are Typer's (exit 2)."""
    try:
        app(args=replay_with_optional_folder(sys.argv[1:]))
    except FactcheckError as exc:
        if _state["verbose"]:
            raise
        typer.echo(f"factcheck: error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # never a traceback for the user; --verbose shows it
        if _state["verbose"]:
            raise
        typer.echo(f"factcheck: unexpected error: {type(exc).__name__}: {exc} (--verbose shows details)", err=True)
        sys.exit(1)
