"""The batch state of a case folder, ``reports/<slug>/batch.json``, and the JSONL files the Batch API reads and writes.

A document drafted with ``--batch`` keeps here, between runs and across interruptions: the batch its open requests
are in (and, from before that batch is created, the submission that will make it: see :mod:`factcheck.batchsubmit`),
every answer received so far (keyed, like the response cache, on the request body), and how many times each request
was submitted. The file is written atomically after every change, so a run stopped at any point can be taken up
again by ``factcheck batch collect``; once the case is saved the state is kept, marked done, as a record of the
batches that drafted it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx2
from pydantic import Field, ValidationError

from factcheck.atomic import write_atomic
from factcheck.errors import CaseError, FactcheckError
from factcheck.models import Contract, DraftClaims
from factcheck.recording import request_key

if TYPE_CHECKING:
    from openai.types import Batch

BATCH_FILE = "batch.json"
ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
CHAT_PATH = "/chat/completions"  # the request path below the API's base, as the response cache keys it
STATE_VERSION = 1
MAX_SUBMISSIONS = 3
MAX_REQUESTS = 50_000  # the API's limits on one batch file
MAX_FILE_BYTES = 190 * 1024 * 1024  # under its 200 MB
NO_ANSWER = 424  # the status a request that never got an answer is recorded with: a 4xx ends it at once


class Answer(Contract):
    """What the Batch API answered one request: the HTTP status and body the live endpoint would have sent."""

    status: int
    body: Any


class Submission(Contract):
    """A batch on its way: recorded after its file is uploaded and before the batch is created, so that a run
    interrupted in between finds the batch again instead of creating (and paying for) another."""

    marker: str = Field(description="Unique to this submission; the batch carries it in its metadata.")
    input_file_id: str = Field(description="The uploaded JSONL file the batch reads.")
    documents: list[str] = Field(description="The slug of every document with requests in that file.")
    recorded_at: datetime


class BatchState(Contract):
    """One document's part in a batch run."""

    version: int = STATE_VERSION
    source: str = Field(description="The document, as given to 'factcheck extract --batch'.")
    slug: str
    document_sha256: str = Field(description="sha256 of the text the requests were built from.")
    model: str
    server: str = Field(description="Base URL of the API the batches were created on.")
    chunk_tokens: int
    batch_size: int
    force: bool = False
    started_at: datetime
    batch_id: str | None = Field(default=None, description="The batch the open requests are in, if any.")
    open: dict[str, str] = Field(
        default_factory=dict, description="custom_id -> request key, in that batch (or the submission under way)."
    )
    submission: Submission | None = Field(
        default=None, description="How the open requests were submitted; without a batch_id, not yet confirmed."
    )
    answers: dict[str, Answer] = Field(default_factory=dict, description="request key -> answer received.")
    submissions: dict[str, int] = Field(default_factory=dict, description="request key -> times submitted.")
    batches: list[str] = Field(default_factory=list, description="Every batch this document's requests were in.")
    done: bool = False
    message: str = Field(default="", description="How it ended: failures, or why it stopped.")


Members = list[tuple[Path, BatchState]]  # case folders and their states


def load_state(folder: Path) -> BatchState | None:
    path = folder / BATCH_FILE
    try:
        return BatchState.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        raise CaseError(f"{path}: not a readable batch state ({first})", hint="move it aside to start over") from None


def save_state(folder: Path, state: BatchState) -> None:
    write_atomic(folder / BATCH_FILE, state.model_dump_json(indent=1) + "\n")


def open_states(root: Path) -> list[tuple[Path, BatchState]]:
    """Every case folder under ``root`` with a batch run not yet done."""
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if (p / BATCH_FILE).is_file()):
        state = load_state(folder)
        if state is not None and not state.done:
            found.append((folder, state))
    return found


# ----------------------------------------------------------------------------------------------- answering


class BatchPending(FactcheckError):
    """A request no batch has answered yet: its branch of the drafting waits for the next batch."""


class BatchTransport(httpx2.BaseTransport):
    """Answers the live code path from batch results, and notes every request that has no answer yet."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.wanted: dict[str, Any] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.read())
        key = request_key(request.method, CHAT_PATH, body)
        answer = self.answers.get(key)
        if answer is not None:
            return httpx2.Response(answer.status, json=answer.body)
        with self._lock:
            self.wanted[key] = body
        raise BatchPending("waiting for the Batch API to answer this request")


@dataclass(frozen=True)
class BatchView:
    """A batch as the API reports it."""

    id: str
    status: str
    completed: int
    failed: int
    total: int
    documents: int
    note: str = ""


def view_of(batch: Batch, documents: int) -> BatchView:
    counts = batch.request_counts
    return BatchView(
        id=batch.id, status=batch.status, completed=counts.completed if counts else 0,
        failed=counts.failed if counts else 0, total=counts.total if counts else 0, documents=documents,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------- JSONL


def custom_id(slug: str, key: str) -> str:
    """Unique within a batch: the case's slug and the request's key (two equal requests are one request)."""
    return f"{slug}:{key[:24]}"


def request_line(request_id: str, body: Any) -> bytes:
    line = {"custom_id": request_id, "method": "POST", "url": ENDPOINT, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


@dataclass(frozen=True)
class Result:
    """One line of a batch's output or error file."""

    custom_id: str
    answer: Answer | None
    error: str | None


def parse_results(content: bytes) -> list[Result]:
    """The lines of an output or error file; a line that cannot be read is skipped (its request is asked again)."""
    results = []
    for raw in content.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            continue
        response = line.get("response")
        answer = None
        if isinstance(response, dict) and isinstance(response.get("status_code"), int):
            answer = Answer(status=response["status_code"], body=response.get("body"))
        error = line.get("error")
        message = None
        if isinstance(error, dict):
            message = f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}"
        results.append(Result(line["custom_id"], answer, message))
    return results


# ----------------------------------------------------------------------------------------------- settling


def settle(state: BatchState, key: str, result: Result | None, problem: str | None) -> int:
    """Record the answer to one request, or leave it unanswered to be submitted again; 1 if it was answered."""
    answer = result.answer if result else None
    if answer is not None and not worth_asking_again(answer.status):
        state.answers[key] = answer
        return 1
    if problem is None and state.submissions.get(key, 0) < MAX_SUBMISSIONS:
        return 0
    if answer is not None and problem is None:
        state.answers[key] = answer  # the server's own error, after the last submission
        return 1
    reason = problem or (result.error if result and result.error else "no result (the batch ended before it)")
    times = state.submissions.get(key, 0)
    message = reason if problem else f"no answer after {times} batches: {reason}"
    state.answers[key] = Answer(status=NO_ANSWER, body={"error": {"message": message}})
    return 1


def worth_asking_again(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def batch_problem(batch: Batch) -> str | None:
    """Why none of a batch's open requests should be submitted again, if so."""
    if batch.status == "failed":
        errors = batch.errors.data if batch.errors and batch.errors.data else []
        detail = "; ".join(f"{e.code or 'error'}: {e.message or ''}" for e in errors[:3]) or "no reason given"
        return f"the Batch API refused batch {batch.id}: {detail}"
    if batch.status == "cancelled":
        return f"batch {batch.id} was cancelled"
    return None


def first_stage(wanted: dict[str, Any]) -> dict[str, Any]:
    """While a document's extraction is unfinished, only its extraction requests: questions wait for every claim."""
    extraction = {key: body for key, body in wanted.items() if schema_name(body) == DraftClaims.__name__}
    return extraction or wanted


def schema_name(body: Any) -> str | None:
    response_format = body.get("response_format") if isinstance(body, dict) else None
    schema = response_format.get("json_schema") if isinstance(response_format, dict) else None
    return schema.get("name") if isinstance(schema, dict) else None


def groups(
    wanted: list[tuple[Path, BatchState, dict[str, Any]]],
) -> list[list[tuple[Path, BatchState, dict[str, Any]]]]:
    """Batches within the API's limits, a document's requests always in one."""
    groups: list[list[tuple[Path, BatchState, dict[str, Any]]]] = []
    current: list[tuple[Path, BatchState, dict[str, Any]]] = []
    count = size = 0
    for item in wanted:
        requests = len(item[2])
        nbytes = sum(len(json.dumps(body, ensure_ascii=False)) for body in item[2].values())
        if current and (count + requests > MAX_REQUESTS or size + nbytes > MAX_FILE_BYTES):
            groups.append(current)
            current, count, size = [], 0, 0
        current.append(item)
        count, size = count + requests, size + nbytes
    if current:
        groups.append(current)
    return groups
