"""Helpers for the tests of the drafting stage: a fast client over the fake server, scripted replies, documents.

Nothing here stands in for factcheck's own code: every client is the real :class:`LLMClient` over the real SDK,
talking HTTP to :class:`fakeserver.FakeLLMServer` on loopback or to a recording transport.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from fakeserver import FakeLLMServer, Reply, Responder, completion, schema_name

from factcheck.documents import document_from_bytes
from factcheck.draft import Session
from factcheck.llm import LLMClient, Settings
from factcheck.models import Document, DraftClaim
from factcheck.recording import RecordingTransport
from factcheck.retries import RetryPolicy

MODEL = "fake-model"
FAST = RetryPolicy(max_attempts=4, max_seconds=10.0, initial_wait=0.001, max_wait=0.005, max_retry_after=0.01)
R = TypeVar("R")


def fast_client(
    url: str,
    *,
    retry: RetryPolicy = FAST,
    waits: list[float] | None = None,
    capabilities: dict[str, str] | None = None,
    transport: RecordingTransport | None = None,
    offline: bool = False,
    sleep: Callable[[float], None] | None = None,
    **settings: Any,
) -> LLMClient:
    """The real client with tiny retry waits; ``waits`` collects every back-off instead of sleeping."""
    if sleep is None:
        sleep = waits.append if waits is not None else (lambda _: None)
    return LLMClient(
        Settings(model=settings.pop("model", MODEL), base_url=url, retry=retry, **settings),
        transport=transport,
        offline=offline,
        capabilities=capabilities,
        sleep=sleep,
    )


@contextmanager
def fast_session(
    url: str, *, transport: RecordingTransport | None = None, offline: bool = False, mode: str = "live", **kw: Any
) -> Iterator[Session]:
    """A drafting session over :func:`fast_client`, closed afterwards."""
    client = fast_client(url, transport=transport, offline=offline, **kw)
    session = Session(client, transport, mode)  # type: ignore[arg-type]
    try:
        yield session
    finally:
        session.pool.shutdown(wait=True)
        client.close()


def scripted(*replies: Reply | Callable[[dict[str, Any]], Reply]) -> Responder:
    """Answer requests with ``replies`` in order, then repeat the last; a callable reply is called with the body."""
    lock = threading.Lock()
    served = [0]

    def respond(body: dict[str, Any]) -> Reply:
        with lock:
            index = min(served[0], len(replies) - 1)
            served[0] += 1
        reply = replies[index]
        return reply(body) if callable(reply) else _fresh(reply)

    return respond


def _fresh(reply: Reply) -> Reply:
    # The fake server pops headers from a reply it sends; a reply served twice must keep them.
    return Reply(reply.status, reply.body, dict(reply.headers), reply.delay, reply.reset)


def ok(content: Any, **kw: Any) -> Reply:
    """A 200 chat completion whose content is ``content`` (JSON-encoded unless already a string)."""
    text = content if isinstance(content, str) else json.dumps(content)
    return Reply(body=completion(text, **kw))


def error(status: int, message: str = "failure", headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"message": message, "type": "test_error"}}, headers or {})


def claims_answer(*drafts: dict[str, Any]) -> Reply:
    return ok({"claims": list(drafts)})


def draft(quote: str, statement: str | None = None, *, nature: str = "fact", kind: str = "event",
          worth: int = 3, entities: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "quote": quote,
        "statement": statement or quote,
        "kind": kind,
        "nature": nature,
        "checkworthiness": worth,
        "entities": entities or [],
    }


def draft_claim(quote: str, statement: str | None = None, **kw: Any) -> DraftClaim:
    return DraftClaim.model_validate(draft(quote, statement, **kw))


def document_of(text: str, source: str = "doc.txt") -> Document:
    return document_from_bytes(text.encode("utf-8"), source=source, media_type="text/plain")


def response_format_of(body: dict[str, Any]) -> str:
    """Which structured-output rung a request used: json_schema, json_object or prompt."""
    return str((body.get("response_format") or {}).get("type", "prompt"))


def user_messages(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def requests_of(server_requests: list[dict[str, Any]], schema: str) -> list[dict[str, Any]]:
    """The requests that asked for ``schema`` (DraftClaims or DraftQuestionBatch)."""
    return [r for r in server_requests if schema_name(r) == schema]


def within(seconds: float, call: Callable[[], R]) -> R:
    """Run ``call`` in a thread and fail the test, instead of hanging it, if it does not return in time."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssertionError(f"did not finish within {seconds} s (deadlock?)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def files_text(folder: Path) -> str:
    """Every file under ``folder``, concatenated: to look for what must never be written."""
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*")) if p.is_file())


_shared: list[FakeLLMServer] = []
_shared_lock = threading.Lock()


@contextmanager
def serving(responder: Responder) -> Iterator[FakeLLMServer]:
    """The fake server, answering with ``responder`` and with no requests yet.

    One server serves every test in the process: starting and stopping one per test costs half a second each.
    """
    with _shared_lock:
        if not _shared:
            _shared.append(FakeLLMServer(responder).__enter__())
        server = _shared[0]
        server.responder = responder
        server.requests.clear()
    try:
        yield server
    finally:
        server.responder = _gone


def _gone(body: dict[str, Any]) -> Reply:
    return Reply(503, {"error": {"message": "no test is using the fake server now"}})
