"""Draft at scale through the OpenAI Batch API: the same requests as the live path, answered within 24 hours at half
the price and outside the live rate limits.

Each document is drafted by the live code itself (:func:`factcheck.draft.draft_case`: chunking, extraction,
grounding, merging, questions, failures) over a transport that answers from the batch results received so far. A
request no batch has answered yet is noted and stops its branch with :class:`BatchPending`; the noted requests --
the bodies the openai SDK serialised for the live endpoint, byte for byte, in the confirmed ``json_schema`` mode --
become the next batch. So a document takes two batches when all goes well: its extraction, then its questions.

Questions go as a second batch rather than live: they need the grounded claims, and a run large enough to want the
Batch API would send thousands of question requests into the very rate limits it avoids, at twice the price.

An answer that fails validation is re-asked in the next batch with the error fed back, as live. A request that
failed (an error-file line, a 408/409/429/5xx, a batch that expired first) is submitted again, at most
MAX_SUBMISSIONS times; after that, or at once for a 4xx, a cancelled or a refused batch, the failure is recorded in
the case as the live path records it. Only a finished document is saved as a case; from the moment it is taken on,
its state is in ``reports/<slug>/batch.json`` (see :mod:`factcheck.batchfile`), so an interrupted run goes on with
``factcheck batch collect``. Each submission is recorded before its batch is created and the batch carries a marker,
so a run killed in between has its batch adopted, not created again (see :mod:`factcheck.batchsubmit`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from factcheck.batchfile import (
    BatchPending,
    BatchState,
    BatchTransport,
    BatchView,
    Members,
    Result,
    batch_problem,
    first_stage,
    groups,
    load_state,
    open_states,
    parse_results,
    save_state,
    settle,
    view_of,
)
from factcheck.batchsubmit import locate, resume_submissions, submit, unconfirmed
from factcheck.documents import load_document
from factcheck.draft import (
    DraftOptions,
    Outcome,
    Session,
    draft_case,
    existing_case,
    keep_reviewed_claims,
    resumable,
    slug_clashes,
    up_to_date,
)
from factcheck.errors import CaseError, DocumentError, FactcheckError, UserError
from factcheck.llm import LLMClient, Settings, settings_from_env
from factcheck.store import case_dir, drafting_lock, reports_root, save_case

if TYPE_CHECKING:
    from openai.types import Batch

__all__ = [
    "BatchOptions",
    "BatchPending",
    "BatchReport",
    "BatchView",
    "batch_status",
    "collect_batches",
    "draft_in_batches",
]

TERMINAL = ("completed", "expired", "cancelled", "failed")
DEFAULT_POLL_SECONDS = 30.0


@dataclass(frozen=True)
class BatchOptions:
    poll_seconds: float = DEFAULT_POLL_SECONDS
    wait: bool = True


def batch_options(*, wait: bool = True) -> BatchOptions:
    """Options with the polling interval from ``FACTCHECK_BATCH_POLL`` (seconds)."""
    raw = os.environ.get("FACTCHECK_BATCH_POLL", "")
    try:
        poll = float(raw) if raw else DEFAULT_POLL_SECONDS
    except ValueError:
        raise UserError(f"FACTCHECK_BATCH_POLL must be a number of seconds, not {raw!r}") from None
    return BatchOptions(poll_seconds=poll, wait=wait)


@dataclass
class BatchReport:
    outcomes: list[Outcome] = field(default_factory=list)
    waiting: list[BatchView] = field(default_factory=list)  # batches still running when the run returned
    unsubmitted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


# ----------------------------------------------------------------------------------------------- entry points


def draft_in_batches(
    sources: list[str],
    options: DraftOptions,
    batch: BatchOptions,
    *,
    on_event: Callable[[str], None] = lambda _: None,
    on_poll: Callable[[list[BatchView]], None] = lambda _: None,
) -> BatchReport:
    """``factcheck extract --batch``: submit the documents' extraction as one batch and, unless told not to wait,
    follow it (and the batches after it) until every case is saved."""
    settings = settings_from_env(model=options.model, base_url=options.base_url)
    with _BatchRun(settings, on_event, on_poll) as run:
        members, skipped = run.prepare(sources, options)
        report = run.follow(members, batch)
    report.outcomes = skipped + report.outcomes
    return report


def collect_batches(
    batch: BatchOptions,
    root: Path | None = None,
    *,
    on_event: Callable[[str], None] = lambda _: None,
    on_poll: Callable[[list[BatchView]], None] = lambda _: None,
) -> BatchReport:
    """``factcheck batch collect``: take up every unfinished batch run under the reports folder."""
    members = open_states(root or reports_root())
    if not members:
        return BatchReport()
    with _BatchRun(_settings_of(members), on_event, on_poll) as run:
        return run.follow(members, batch)


def batch_status(root: Path | None = None) -> BatchReport:
    """``factcheck batch status``: each running batch as the API reports it, and documents not yet submitted. A
    batch an interrupted run created but did not record is looked up and shown as running, marked as such; nothing
    is changed (``collect`` adopts it)."""
    members = open_states(root or reports_root())
    report = BatchReport(unsubmitted=[s.source for _, s in members if s.batch_id is None and s.submission is None])
    if not members:
        return report
    with _BatchRun(_settings_of(members), lambda _: None, lambda _: None) as run:
        running, unrecorded = _running(members), set()
        for submission, waiting in unconfirmed(members):
            batch_id = locate(run.api, members, submission)
            if batch_id is None:
                report.unsubmitted.extend(state.source for _, state in waiting)
                continue
            running.setdefault(batch_id, []).extend(waiting)
            unrecorded.add(batch_id)
        for batch_id, group in running.items():
            view = view_of(run.retrieve(batch_id), len(group))
            if batch_id in unrecorded:
                view = replace(view, note=f"created before an interruption, not yet recorded in {len(group)} case(s)")
            report.waiting.append(view)
    return report


def _settings_of(members: Members) -> Settings:
    servers = {(s.server, s.model) for _, s in members}
    if len(servers) > 1:
        listed = ", ".join(f"{model} at {server}" for server, model in sorted(servers))
        raise UserError(f"unfinished batch runs on more than one model or server ({listed})", hint="finish one first")
    server, model = servers.pop()
    return settings_from_env(model=model, base_url=server)


# ----------------------------------------------------------------------------------------------- the run


class _BatchRun:
    """Two clients over the same settings: one calls the files and batches endpoints, the other serves the live code
    from batch results, in the confirmed json_schema mode and without waiting between its retries."""

    def __init__(
        self,
        settings: Settings,
        on_event: Callable[[str], None],
        on_poll: Callable[[list[BatchView]], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.on_event, self.on_poll, self.sleep = on_event, on_poll, sleep
        self.api = LLMClient(settings)
        self.transport = BatchTransport()
        capabilities: dict[str, str] = {}
        answering = LLMClient(
            settings, transport=self.transport, offline=True, capabilities=capabilities, sleep=lambda _: None
        )
        capabilities[answering.capability_key] = "json_schema"
        self.session = Session(answering, None, "batch")
        # Each document as it was given, by its source as saved: a URL's credentials are used to fetch it in this
        # run and never written to batch.json, so a later 'collect' fetches the URL without them.
        self.given: dict[str, str] = {}

    def __enter__(self) -> _BatchRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.pool.shutdown(wait=True)
        self.session.client.close()
        self.api.close()

    def retrieve(self, batch_id: str) -> Batch:
        return self.api.call_api(lambda sdk: sdk.batches.retrieve(batch_id))

    def prepare(self, sources: list[str], options: DraftOptions) -> tuple[Members, list[Outcome]]:
        """A fresh batch state for each document that needs drafting; the others' outcomes as the live path has them."""
        members: Members = []
        skipped: list[Outcome] = []
        settings = self.api.settings
        sources = list(dict.fromkeys(sources))
        clashes = slug_clashes(sources)
        for source in sources:
            if source in clashes:
                skipped.append(clashes[source])
                continue
            try:
                document = load_document(source)
                folder = case_dir(document.slug, options.reports or reports_root())
                running = load_state(folder)
                if running is not None and not running.done and not options.force:
                    submitted = running.batch_id or ("being submitted" if running.submission else "not yet submitted")
                    raise CaseError(
                        f"{folder}: a batch run is under way ({submitted})",
                        hint="run 'factcheck batch collect', or pass --force to start again",
                    )
                previous, _ = existing_case(folder, document)
                if previous is not None and not options.force and up_to_date(previous, document, self.session):
                    skipped.append(Outcome(source, "unchanged", folder, previous, "already drafted"))
                    continue
            except FactcheckError as exc:
                skipped.append(Outcome(source, "failed", message=str(exc)))
                continue
            self.given[document.source] = source
            state = BatchState(
                source=document.source, slug=document.slug, document_sha256=document.sha256, model=settings.model,
                server=settings.server, chunk_tokens=options.chunk_tokens, batch_size=options.batch_size,
                force=options.force, started_at=datetime.now(UTC),
            )  # fmt: skip
            save_state(folder, state)  # from here on a killed run is known to 'factcheck batch collect'
            members.append((folder, state))
        return members, skipped

    def follow(self, members: Members, options: BatchOptions) -> BatchReport:
        """Advance every document the answers allow, submit what is wanted next, poll, collect; until all are done
        (or, without waiting, until every batch is submitted or still running)."""
        report = BatchReport()
        resume_submissions(self.api, members, self.on_event)
        while True:
            wanted: list[tuple[Path, BatchState, dict[str, Any]]] = []
            for folder, state in members:
                if state.done or state.batch_id is not None or state.submission is not None:
                    continue
                advanced = self._advance(folder, state)
                if isinstance(advanced, Outcome):
                    report.outcomes.append(advanced)
                else:
                    wanted.append((folder, state, advanced))
            if wanted:
                self._submit(wanted)
            running = _running(members)
            if not running:
                return report
            views, collected = [], False
            for batch_id, group in running.items():
                batch = self.retrieve(batch_id)
                views.append(view_of(batch, len(group)))
                if batch.status in TERMINAL:
                    self._collect(batch, group)
                    collected = True
            self.on_poll(views)
            if collected:
                continue
            if not options.wait:
                report.waiting = views
                return report
            self.sleep(options.poll_seconds)

    def _advance(self, folder: Path, state: BatchState) -> Outcome | dict[str, Any]:
        """Draft the document from the answers so far: save the case if nothing is missing, else say what is."""
        options = DraftOptions(
            model=state.model, force=state.force, chunk_tokens=state.chunk_tokens, batch_size=state.batch_size
        )
        try:
            document = load_document(self.given.get(state.source, state.source))
            if document.sha256 != state.document_sha256:
                raise DocumentError(
                    f"{state.source} changed since its batch run began; the answers so far are for the old text",
                    hint="run 'factcheck extract --batch' on it again to draft the new text",
                )
            with drafting_lock(folder):
                previous, reviewed = existing_case(folder, document)
                self.transport.answers, self.transport.wanted = state.answers, {}
                resume = resumable(previous, document, self.session, options)
                case = draft_case(document, self.session, options, resume=resume)
                wanted = first_stage(self.transport.wanted)
                if wanted:
                    return wanted
                case = keep_reviewed_claims(case, previous, reviewed)
                drafting = case.drafting.model_copy(update={"started_at": state.started_at})
                case = case.model_copy(update={"drafting": drafting})
                save_case(case, folder)
        except FactcheckError as exc:
            return self._finish(folder, state, Outcome(state.source, "failed", message=str(exc)))
        failures = case.drafting.failures
        status: Literal["drafted", "partial"] = "partial" if failures else "drafted"
        return self._finish(folder, state, Outcome(state.source, status, folder, case, "; ".join(failures)))

    def _finish(self, folder: Path, state: BatchState, outcome: Outcome) -> Outcome:
        state.done, state.message = True, outcome.message or outcome.status
        if folder.is_dir():
            save_state(folder, state)
        return outcome

    def _submit(self, wanted: list[tuple[Path, BatchState, dict[str, Any]]]) -> None:
        for group in groups(wanted):
            submit(self.api, group, self.on_event)

    def _download(self, file_id: str) -> bytes:
        return self.api.call_api(lambda sdk: sdk.files.content(file_id).content)

    def _collect(self, batch: Batch, group: Members) -> None:
        """Take each open request's answer from the batch's files; what got none is asked again or given up."""
        results: dict[str, Result] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                results.update((r.custom_id, r) for r in parse_results(self._download(file_id)))
        problem = batch_problem(batch)
        answered = 0
        for folder, state in group:
            for request_id, key in state.open.items():
                answered += settle(state, key, results.get(request_id), problem)
            state.open, state.batch_id, state.submission = {}, None, None
            save_state(folder, state)
        self.on_event(f"collected {batch.id} ({batch.status}): {answered} answers for {len(group)} document(s)")


def _running(members: Members) -> dict[str, Members]:
    running: dict[str, Members] = {}
    for folder, state in members:
        if not state.done and state.batch_id is not None:
            running.setdefault(state.batch_id, []).append((folder, state))
    return running


# ----------------------------------------------------------------------------------------------- display


@contextmanager
def progress_display() -> Iterator[tuple[Callable[[str], None], Callable[[list[BatchView]], None]]]:
    """Callbacks for a run: events printed as lines, and a progress bar a batch on a terminal (elsewhere, a line
    each time a batch's status changes)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    )  # fmt: skip
    tasks: dict[str, TaskID] = {}
    seen: dict[str, str] = {}

    def event(message: str) -> None:
        progress.console.print(message, highlight=False, soft_wrap=True)

    def poll(views: list[BatchView]) -> None:
        for view in views:
            status = f"{view.status}, {view.failed} failed" if view.failed else view.status
            if view.id not in tasks:
                tasks[view.id] = progress.add_task(view.id, total=view.total or None, status=status)
            progress.update(tasks[view.id], completed=view.completed + view.failed, total=view.total or None,
                            status=status)  # fmt: skip
            if progress.disable and seen.get(view.id) != status:
                event(f"{view.id}: {status} ({view.completed + view.failed}/{view.total})")
            seen[view.id] = status

    with progress:
        yield event, poll


def print_batch_report(report: BatchReport, *, stderr: bool = True) -> None:
    """A line a document, as 'factcheck extract' prints them; then the batches still running, if any."""
    from rich.console import Console

    from factcheck.output import summary_line

    out = Console(stderr=stderr)
    for outcome in report.outcomes:
        out.print(summary_line(outcome), highlight=False, soft_wrap=True)
    for view in report.waiting:
        out.print(
            f"{view.id}: {view.status}, {view.completed}/{view.total} answered, {view.failed} failed, "
            f"{view.documents} document(s)" + (f" ({view.note})" if view.note else ""),
            highlight=False,
        )
    if report.unsubmitted:
        out.print(f"{len(report.unsubmitted)} document(s) have answers to draft from and requests to submit")
    if report.waiting or report.unsubmitted:
        out.print("run 'factcheck batch collect' to go on", highlight=False)
