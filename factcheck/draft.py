"""The drafting run: documents -> extract -> questions -> a case folder each, over one LLM client.

Everything ``factcheck extract`` does is here as functions; the CLI only parses and prints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from factcheck.atomic import write_atomic
from factcheck.documents import is_web_url, load_document, slug_for
from factcheck.errors import CaseError, FactcheckError, UserError
from factcheck.extract import DEFAULT_CHUNK_TOKENS, extract_claims
from factcheck.llm import LLMClient, Settings, settings_from_env
from factcheck.models import Case, Claim, Document, Drafting, PromptRef, RecordingSource
from factcheck.prompts import Prompt, load_prompt
from factcheck.questions import DEFAULT_BATCH_SIZE, draft_questions
from factcheck.recording import BUNDLED, Exchange, RecordingTransport, load_exchanges
from factcheck.store import case_dir, drafting_lock, load_case, read_events, reports_root, save_case

REPLAY_BASE_URL = "http://replay.invalid/v1"
SessionMode = Literal["live", "record", "replay", "cache", "batch"]


@dataclass(frozen=True)
class DraftOptions:
    model: str | None = None
    base_url: str | None = None
    record: Path | None = None
    replay: Path | None = None
    cache: bool = True
    force: bool = False
    concurrency: int = 8
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    batch_size: int = DEFAULT_BATCH_SIZE
    reports: Path | None = None
    recording_source: RecordingSource | None = None
    timeout: float | None = None  # seconds to wait for one reply; None: $FACTCHECK_TIMEOUT, else the client's default


@dataclass
class Outcome:
    source: str
    status: Literal["drafted", "partial", "unchanged", "failed"]
    folder: Path | None = None
    case: Case | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("drafted", "unchanged")


@dataclass(frozen=True)
class Prompts:
    """The prompts a drafting run uses, read once for the run."""

    extract: Prompt
    questions: Prompt

    @property
    def refs(self) -> list[PromptRef]:
        return [self.extract.ref, self.questions.ref]


def drafting_prompts() -> Prompts:
    return Prompts(load_prompt("extract"), load_prompt("questions"))


@dataclass
class Session:
    """One client and its transport for a whole run, so capability probing, the cache and the prompts are shared."""

    client: LLMClient
    transport: RecordingTransport | None
    mode: SessionMode
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=16))
    prompts: Prompts = field(default_factory=drafting_prompts)


def cache_dir() -> Path:
    explicit = os.environ.get("FACTCHECK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "factcheck"


def responses_dir(server: str) -> Path:
    """The response cache of one server: two servers serving a model of the same name never share answers."""
    return cache_dir() / "responses" / hashlib.sha256(server.encode("utf-8")).hexdigest()[:16]


@contextmanager
def open_session(options: DraftOptions) -> Iterator[Session]:
    import httpx2

    prompts = drafting_prompts()
    transport: RecordingTransport | None = None
    capabilities_file: Path | None = None
    capabilities: dict[str, str] = {}
    if options.replay is not None:
        exchanges = _replay_exchanges(options.replay)
        settings = _replay_settings(options, exchanges)
        transport = RecordingTransport(options.replay, "replay", exchanges=exchanges)
        mode: SessionMode = "replay"
    else:
        timeout: dict[str, Any] = {"timeout": options.timeout} if options.timeout is not None else {}
        settings = settings_from_env(
            model=options.model, base_url=options.base_url, concurrency=options.concurrency, **timeout
        )
        base_path = httpx2.URL(settings.server).path
        if options.record is not None:
            transport = RecordingTransport(
                options.record, "record", base_path=base_path, upstream=httpx2.HTTPTransport(),
                source=options.recording_source or recorded_from(settings.server),
            )  # fmt: skip
            mode = "record"
        else:
            capabilities_file = cache_dir() / "capabilities.json"
            capabilities = _read_capabilities(capabilities_file)
            if options.cache:
                upstream = httpx2.HTTPTransport()
                transport = RecordingTransport(
                    responses_dir(settings.server), "cache", base_path=base_path, upstream=upstream
                )
            mode = "live"
    client = LLMClient(
        settings,
        transport=transport,
        offline=mode == "replay",
        capabilities=capabilities,
        on_unusable=transport.discard if transport is not None and transport.mode == "cache" else None,
    )
    # Twice the request slots, so --concurrency above 8 is honoured and each freed slot has a request waiting.
    pool = ThreadPoolExecutor(max_workers=2 * max(1, client.settings.concurrency))
    session = Session(client, transport, mode, pool, prompts)
    try:
        yield session
    finally:
        session.pool.shutdown(wait=True)
        client.close()
        if capabilities_file is not None:
            _write_capabilities(capabilities_file, capabilities)


def recorded_from(server: str) -> RecordingSource:
    """Provenance of exchanges recorded live now: the server (``Settings.server`` has no credentials) and the date."""
    return RecordingSource(kind="recorded", server=server, date=date.today().isoformat())


def _replay_exchanges(folder: Path) -> dict[str, Exchange]:
    if not folder.is_dir():
        raise UserError(f"no recordings folder at {folder}")
    return load_exchanges(folder)


def _replay_settings(options: DraftOptions, exchanges: dict[str, Exchange]) -> Settings:
    assert options.replay is not None
    requests = [e.request for e in exchanges.values() if isinstance(e.request, dict)]
    models = sorted({str(r.get("model")) for r in requests})
    if not requests:
        raise UserError(f"no recordings in {options.replay}", hint="make some with --record")
    model = options.model or os.environ.get("FACTCHECK_MODEL") or (models[0] if len(models) == 1 else None)
    if model is None:
        raise UserError(
            f"the recordings in {options.replay} are of several models ({', '.join(models)})",
            hint="pick one with --model",
        )
    # A replay must send what was recorded; the token limit is part of the request, so take it from there.
    limits = {r.get("max_tokens") or r.get("max_completion_tokens") for r in requests if r.get("model") == model}
    limit = limits.pop() if len(limits) == 1 and None not in limits else None
    extra: dict[str, Any] = {"max_tokens": int(limit)} if limit is not None else {}
    return Settings(model=model, base_url=REPLAY_BASE_URL, concurrency=options.concurrency, **extra)


def _read_capabilities(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_capabilities(path: Path, capabilities: dict[str, str]) -> None:
    # Remembering what a server supports is an optimisation, never a reason to fail.
    with contextlib.suppress(OSError):
        write_atomic(path, json.dumps(capabilities, indent=1, sort_keys=True) + "\n")


# ----------------------------------------------------------------------------------------------- drafting


def draft_sources(
    sources: list[str],
    options: DraftOptions,
    *,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Draft a case for every source, documents in parallel; one failure never stops the others."""

    def run(source: str) -> Outcome:
        outcome = draft_source(source, session, options)
        if on_done:
            on_done(outcome)
        return outcome

    # More documents in flight than request slots: while one document's answers are parsed and grounded, another's
    # requests are already queued on the client's semaphore, so no slot idles between rounds.
    sources = list(dict.fromkeys(sources))
    clashes = slug_clashes(sources)
    in_flight = max(1, min(len(sources), 4 * options.concurrency))
    with open_session(options) as session, ThreadPoolExecutor(max_workers=in_flight) as docs:
        return list(docs.map(lambda s: clashes[s] if s in clashes else run(s), sources))


def slug_clashes(sources: list[str]) -> dict[str, Outcome]:
    """Documents of one run whose case names collide: the first keeps the name, the others fail, saying why."""
    first: dict[str, str] = {}
    clashes: dict[str, Outcome] = {}
    for source in sources:
        slug = slug_for(source)
        if slug in first:
            clashes[source] = Outcome(
                source, "failed", message=f"same case name '{slug}' as {first[slug]}; rename one of them"
            )
        else:
            first[slug] = source
    return clashes


def draft_source(source: str, session: Session, options: DraftOptions) -> Outcome:
    try:
        document = load_document(source)
        folder = case_dir(document.slug, options.reports or reports_root())
        with drafting_lock(folder):
            previous, reviewed = existing_case(folder, document)
            if previous is not None and not options.force and up_to_date(previous, document, session):
                return Outcome(source, "unchanged", folder, previous, "already drafted (use --force to draft again)")
            case = draft_case(document, session, options, resume=resumable(previous, document, session, options))
            case = keep_reviewed_claims(case, previous, reviewed)
            save_case(case, folder)
    except FactcheckError as exc:
        return Outcome(source, "failed", message=str(exc))
    status: Literal["drafted", "partial"] = "partial" if case.drafting.failures else "drafted"
    message = "; ".join(case.drafting.failures)
    return Outcome(source, status, folder, case, message)


def draft_case(
    document: Document,
    session: Session,
    options: DraftOptions,
    *,
    resume: Case | None = None,
) -> Case:
    """Extract grounded claims, then draft questions for the checkable ones; failures are recorded, not hidden.

    With ``resume`` (a partial case of the same text, prompts and model), claims it already has questions for keep
    them, so a re-run asks only for what failed before.
    """
    started = datetime.now(UTC)
    client = session.client
    hits_before = session.transport.hits if session.transport else 0
    extraction = extract_claims(
        document, client, session.prompts.extract, chunk_tokens=options.chunk_tokens, pool=session.pool
    )
    questions = draft_questions(
        document, _with_earlier_questions(extraction.claims, resume), client, session.prompts.questions,
        batch_size=options.batch_size, pool=session.pool,
    )  # fmt: skip
    transport = session.transport
    cached = (transport.hits - hits_before) if transport and session.mode == "live" else 0
    usage = extraction.usage + questions.usage
    mode = "cache" if session.mode == "live" and usage.requests and cached >= usage.requests else session.mode
    drafting = Drafting(
        model=client.settings.model,
        base_url=_replay_label(options.replay) if session.mode == "replay" else client.settings.server,
        mode=mode,
        structured_output=sorted(client.modes_used),
        prompts=session.prompts.refs,
        usage=usage,
        recordings=sorted(transport.sources.values(), key=lambda s: s.model_dump_json())
        if transport and session.mode == "replay"
        else [],
        cached_responses=cached,
        started_at=started,
        finished_at=datetime.now(UTC),
        failures=extraction.failures + questions.failures,
    )
    return Case(
        document=document,
        claims=sorted(questions.claims, key=lambda c: (c.start, c.end)),
        rejected=extraction.rejected,
        drafting=drafting,
    )


def _replay_label(folder: Path | None) -> str:
    if folder is not None and folder.resolve() == BUNDLED.resolve():
        return "replay of the recordings bundled with factcheck"
    return f"replay of {folder}"


def existing_case(folder: Path, document: Document) -> tuple[Case | None, set[str]]:
    """The case already in the folder, if any, and its reviewed claims (the log read once), once it is clear that
    drafting ``document`` into the folder loses nothing (:func:`refuse_to_overwrite`). Call it holding the lock."""
    previous = previous_case(folder)
    reviewed = reviewed_claim_ids(folder) if previous is not None else set()
    refuse_to_overwrite(previous, document, folder, reviewed)
    return previous, reviewed


def previous_case(folder: Path) -> Case | None:
    """The case already in the folder; a damaged one stops the run so it is never overwritten."""
    if not (folder / "case.json").exists():
        return None
    return load_case(folder)


def reviewed_claim_ids(folder: Path) -> set[str]:
    """The claims of the case that its review log records an action on."""
    events, _ = read_events(folder)
    return {event.claim_id for event in events}


def refuse_to_overwrite(previous: Case | None, document: Document, folder: Path, reviewed: set[str]) -> None:
    """A case folder is never taken over by another document of the same name, nor redrafted from a changed text
    once people have reviewed it (``reviewed``: :func:`reviewed_claim_ids`): either would lose what they recorded,
    or pin it to words it was not about."""
    if previous is None:
        return
    if not same_source(previous.document.source, document.source):
        raise CaseError(
            f"{folder} holds the case of {previous.document.source}, not of {document.source}",
            hint="rename one of the documents, or draft into another folder with FACTCHECK_REPORTS",
        )
    if previous.document.sha256 == document.sha256:
        return
    if reviewed:
        raise CaseError(
            f"{document.source} changed since {folder} was reviewed; its verdicts point into the old text",
            hint="move the case folder aside or rename the document to draft it again",
        )


def same_source(before: str, now: str) -> bool:
    """Whether two spellings name one document: the same URL, or paths to the same file. A file that is no longer
    where the case says it was read from is given the benefit of the doubt (it may have been moved)."""
    if before == now:
        return True
    if is_web_url(before) or is_web_url(now):
        return False
    try:
        return Path(before).samefile(now)
    except OSError:
        return not Path(before).exists()


def resumable(previous: Case | None, document: Document, session: Session, options: DraftOptions) -> Case | None:
    """A partial case whose questions can be kept: same text, prompts and model; never with --force or --record
    (a recording must hold every exchange a replay will ask for)."""
    if previous is None or options.force or session.mode in ("record", "replay") or not previous.drafting.failures:
        return None
    return previous if drafted_alike(previous, document, session) else None


def drafted_alike(previous: Case, document: Document, session: Session) -> bool:
    """Whether ``previous`` was drafted from this text, by this model, with these prompts."""
    return (
        previous.document.sha256 == document.sha256
        and previous.drafting.model == session.client.settings.model
        and previous.drafting.prompts == session.prompts.refs
    )


def _with_earlier_questions(claims: list[Claim], resume: Case | None) -> list[Claim]:
    if resume is None:
        return claims
    earlier = {(c.id, c.statement): c.questions for c in resume.claims if c.questions and c.origin == "model"}
    return [
        c.model_copy(update={"questions": earlier[(c.id, c.statement)]}) if (c.id, c.statement) in earlier else c
        for c in claims
    ]


def up_to_date(previous: Case, document: Document, session: Session) -> bool:
    """A complete case drafted alike; a recording run drafts again regardless, so it records every exchange."""
    return drafted_alike(previous, document, session) and not previous.drafting.failures and session.mode != "record"


def keep_reviewed_claims(case: Case, previous: Case | None, reviewed: set[str]) -> Case:
    """Every claim reviewers acted on stays exactly as they saw it (statement, quote, questions), whatever the new
    draft says under its id: ids come from offsets, so new wording from another prompt or model would otherwise
    take over verdicts given on the old. The new draft gives the claims of every other id."""
    kept = {c.id: c for c in previous.claims if c.id in reviewed} if previous is not None else {}
    if not kept:
        return case
    claims = [c for c in case.claims if c.id not in kept] + list(kept.values())
    return case.model_copy(update={"claims": sorted(claims, key=lambda c: (c.start, c.end))})
