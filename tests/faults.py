"""A fault-injecting responder for :class:`~tests.fakeserver.FakeLLMServer`, documents to feed it, and a runner for
the real ``factcheck`` command in a subprocess.

:class:`FaultyModel` answers like :func:`~tests.fakeserver.echo_model` (valid claims copied from the fenced document,
questions for every claim id), except for a share of requests that it answers with one of :data:`FAULTS`. Which
request gets which fault is decided by a seeded RNG over the request's own body and how often that body was seen
before, so the schedule does not depend on the order in which threads happen to send requests.

Besides the random share, a few marker phrases in the generated documents force a fault every time, so every run
has documents that certainly fail part-way (see :data:`MARKERS`).

Nothing here is model output; it exists to exercise the program's handling of a misbehaving server.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakeserver import FakeLLMServer, Reply, completion, echo_answer, prompt_chars, schema_name

TRANSIENT = (
    "rate-limited",  # 429 without retry-after
    "rate-limited-retry-after",  # 429 with retry-after: 1 (scaled down by FACTCHECK_RETRY_SCALE)
    "server-error-500",
    "bad-gateway-502",
    "unavailable-503",
    "connection-reset",
    "slower-than-timeout",
    "garbled-body",  # a 200 whose HTTP body is cut JSON, not a chat completion
)
UNUSABLE = (
    "malformed-json",  # the message content is cut JSON
    "cut-at-max-tokens",  # finish_reason=length
    "schema-violation",
)
FAULTS = (*TRANSIENT, *UNUSABLE, "refusal", "invented-quote", "empty-answer")

INVENTED_QUOTE = "The moon is made of cheese, as the space agency confirmed in a statement last Tuesday."
INVENTED_CLAIM = {
    "quote": INVENTED_QUOTE,
    "statement": "The moon is made of cheese.",
    "kind": "event",
    "nature": "fact",
    "checkworthiness": 5,
    "entities": ["the space agency"],
}

# Marker phrases: a request whose document part (or, for questions, whose title) holds one always gets its fault.
MARKERS: dict[str, tuple[str, str]] = {
    "Kettle Point": ("DraftClaims", "unavailable-503"),  # an outage: the chunk fails after every retry
    "Marrow Creek": ("DraftClaims", "refusal"),  # the model refuses the chunk
    "Cinder Hill": ("DraftClaims", "invented-quote"),  # the model invents a quote (first attempt)
    "Otter Bay": ("DraftClaims", "slower-than-timeout"),  # first attempt only: the retry succeeds
    "Heron Quay": ("DraftClaims", "connection-reset"),  # first attempt only: the retry succeeds
    "Quarry Lane": ("DraftQuestionBatch", "bad-gateway-502"),  # every question batch of the document fails
}


_EVERY_TIME = {"unavailable-503", "refusal", "bad-gateway-502"}


@dataclass
class Served:
    key: str
    schema: str
    fault: str | None
    usable: bool  # the client got a reply it could use (a good one, an invented quote, an empty claim list)
    forced: bool = False  # by a marker phrase or by ``only``, not by the random share


@dataclass
class FaultyModel:
    """``FakeLLMServer(FaultyModel(rate=0.3, seed=7))``; set ``enabled = False`` to answer every request well.

    ``only="refusal"`` gives that one fault to the first attempt of every question (re-asks and retries are answered
    well), or, with ``always=True``, to every request.
    """

    rate: float = 0.3
    seed: int = 7
    slow_seconds: float = 1.5
    max_reasks: int = 2
    enabled: bool = True
    only: str | None = None
    always: bool = False
    served: list[Served] = field(default_factory=list)
    _seen: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, body: dict[str, Any]) -> Reply:
        key = body_key(body)
        with self._lock:
            attempt = self._seen[key]
            self._seen[key] += 1
        schema = schema_name(body)
        forced = self.forced_fault(body, attempt, schema) if self.enabled else None
        fault = forced or (self.random_fault(body, key, attempt, schema) if self.enabled else None)
        reply, usable = self._reply(body, schema, fault)
        with self._lock:
            self.served.append(Served(key, schema, fault, usable, forced is not None or self.only is not None))
        return reply

    def forced_fault(self, body: dict[str, Any], attempt: int, schema: str) -> str | None:
        if self.only is not None:
            return self.only if self.always or (attempt == 0 and reask_number(body) == 0) else None
        original = body["messages"][1]["content"]
        for marker, (wanted, fault) in MARKERS.items():
            where = original.split("\n", 1)[0] if wanted == "DraftQuestionBatch" else _fenced_part(original)
            if schema == wanted and marker in where and (fault in _EVERY_TIME or attempt == 0):
                return fault
        return None

    def random_fault(self, body: dict[str, Any], key: str, attempt: int, schema: str) -> str | None:
        if self.only is not None:
            return None
        rng = random.Random(f"{self.seed}:{key}:{attempt}")
        if rng.random() >= self.rate:
            return None
        fault = rng.choice(FAULTS)
        # Three unusable replies in a row are cached and would fail the same way on a re-run (docs/failures.md);
        # the random share never ends a re-ask chain that way, so the re-run's request count stays exact.
        if reask_number(body) >= self.max_reasks and (fault in UNUSABLE or schema == "DraftQuestionBatch"):
            return None if fault not in TRANSIENT else fault
        return fault

    def _reply(self, body: dict[str, Any], schema: str, fault: str | None) -> tuple[Reply, bool]:
        good = echo_answer(original_request(body))
        tokens = prompt_chars(body) // 4
        if fault is None:
            return Reply(body=completion(good, prompt_tokens=tokens)), True
        transient = _transient_reply(fault, good, self.slow_seconds)
        if transient is not None:
            return transient, False
        if fault == "malformed-json":
            return Reply(body=completion(good[: len(good) // 2])), False
        if fault == "cut-at-max-tokens":
            return Reply(body=completion(good[: len(good) // 3], finish_reason="length")), False
        if fault == "refusal":
            return Reply(body=completion("", refusal="I can't help with that request.")), False
        if fault == "schema-violation":
            bad = {"claims": [{"quote": 42}]} if schema == "DraftClaims" else {"items": [{"questions": "none"}]}
            return Reply(body=completion(json.dumps(bad))), False
        if fault == "invented-quote":
            answer = json.loads(good)
            if schema == "DraftClaims":
                answer["claims"].insert(0, INVENTED_CLAIM)
            else:
                answer["items"].append({**answer["items"][0], "claim_id": "c0000000"})
            return Reply(body=completion(json.dumps(answer))), schema == "DraftClaims"
        empty = {"claims": []} if schema == "DraftClaims" else {"items": []}
        return Reply(body=completion(json.dumps(empty))), schema == "DraftClaims"

    def usable_keys(self) -> set[str]:
        return {s.key for s in self.served if s.usable}


def _transient_reply(fault: str, good: str, slow_seconds: float) -> Reply | None:
    error = {"error": {"message": f"injected fault: {fault}", "type": "server_error"}}
    replies = {
        "rate-limited": Reply(429, error),
        "rate-limited-retry-after": Reply(429, error, headers={"retry-after": "1"}),
        "server-error-500": Reply(500, error),
        "bad-gateway-502": Reply(502, "<html><body>502 Bad Gateway</body></html>", {"content-type": "text/html"}),
        "unavailable-503": Reply(503, error),
        "connection-reset": Reply(reset=True),
        "slower-than-timeout": Reply(body=completion(good), delay=slow_seconds),
        "garbled-body": Reply(body=json.dumps(completion(good))[:60]),
    }
    return replies.get(fault)


def body_key(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def reask_number(body: dict[str, Any]) -> int:
    """0 for a first request, 1 for the first re-ask with the error fed back, and so on."""
    return sum(1 for m in body["messages"][2:] if m["role"] == "user")


def original_request(body: dict[str, Any]) -> dict[str, Any]:
    """The request as first asked: a re-ask answered as if it were the question itself."""
    return {**body, "messages": body["messages"][:2]}


def _fenced_part(user: str) -> str:
    start = user.find("<<<DOCUMENT ")
    return user[start:] if start != -1 else ""


def quiet(server: FakeLLMServer) -> FakeLLMServer:
    """No tracebacks from the fake server's threads when a client hangs up on a slow or reset reply."""
    server._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    return server


# ----------------------------------------------------------------------------------------------- documents

_PLACES = ["Ashford", "Brampton", "Coldwater", "Dunmore", "Elmstead", "Fairhaven", "Glenrock", "Hollins"]
_BODIES = ["county council", "water board", "transport authority", "health trust", "school district", "port office"]
_THINGS = ["new buses", "kilometres of pipe", "nurses", "classrooms", "street lights", "ferry crossings"]
_VERBS = ["approved", "reported", "announced", "postponed", "completed", "audited"]


def generated_documents(folder: Path, count: int = 12, seed: int = 11) -> list[Path]:
    """``count`` plain-text bulletins of six paragraphs; documents 2, 3, 5, 7, 9 and 11 carry a marker phrase."""
    rng = random.Random(seed)
    markers = {
        2: "Otter Bay",
        3: "Kettle Point",
        5: "Marrow Creek",
        7: "Cinder Hill",
        9: "Quarry Lane",
        11: "Heron Quay",
    }
    paths = []
    for number in range(1, count + 1):
        place = rng.choice(_PLACES)
        title = f"{place} bulletin {number}" + (" on Quarry Lane" if markers.get(number) == "Quarry Lane" else "")
        paragraphs = [title]
        for p in range(6):
            sentences = [_sentence(rng, place) for _ in range(3)]
            if p == 3 and number in markers and markers[number] != "Quarry Lane":
                sentences[1] = f"Residents near {markers[number]} said the work on the road was finished in {2020 + p}."
            paragraphs.append(" ".join(sentences))
        path = folder / f"bulletin-{number:02d}.txt"
        path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _sentence(rng: random.Random, place: str) -> str:
    return (
        f"In {rng.randint(2015, 2025)}, the {place} {rng.choice(_BODIES)} {rng.choice(_VERBS)} "
        f"{rng.randint(3, 900)} {rng.choice(_THINGS)} at a cost of {rng.randint(2, 95)} million."
    )


# ----------------------------------------------------------------------------------------------- the command


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def cli_env(tmp: Path, server_url: str | None, **extra: str) -> dict[str, str]:
    """An environment of our own: no inherited OPENAI_*/FACTCHECK_* settings, HOME and every folder under ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FACTCHECK_", "XDG_"))}
    env.update(
        HOME=str(tmp / "home"),
        FACTCHECK_REPORTS=str(tmp / "reports"),
        FACTCHECK_CACHE_DIR=str(tmp / "cache"),
        FACTCHECK_ALLOW_MODEL_REQUESTS="0",
        FACTCHECK_MODEL="fake-model",
        FACTCHECK_RETRY_SCALE="0.01",
        OPENAI_API_KEY="sk-test-not-secret",
        COLUMNS="200",
    )
    if server_url:
        env["OPENAI_BASE_URL"] = server_url
    env.update(extra)
    return env


def factcheck(env: dict[str, str], *args: str, cwd: Path | None = None, timeout: float = 60) -> Run:
    """Run the real ``factcheck`` command (its console entry point) in a subprocess."""
    command = [sys.executable, "-c", "from factcheck.cli import main; main()", *args]
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def start_factcheck(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from factcheck.cli import main; main()", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def confirm_json_schema(cache: Path, server_url: str, model: str = "fake-model") -> None:
    """Tell the client what the server supports, so no thread race decides which request probes it first."""
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "capabilities.json").write_text(json.dumps({f"{server_url} {model}": "json_schema"}), encoding="utf-8")
