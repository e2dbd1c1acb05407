"""Record and replay HTTP exchanges with the LLM server, as an httpx2 transport under the real openai SDK.

An exchange is keyed on what decides the answer: the method, the path below the API's base and the JSON body
(model, messages, response format, limits). Request headers are never stored, so no key or Authorization header
can reach a recording. Each saved exchange says where it came from (:class:`RecordingSource`): ``recorded`` from
a real server, or ``authored`` by hand as a fixture.

One file an exchange, ``<key>.json``, holding every response seen for that request in order; a replay serves them
in the same order and then repeats the last, so a recorded 429-then-200 replays as it happened.

The same store serves as the response cache: ``mode="cache"`` answers from it when it can and saves what the
server answers with a usable 200 (a chat completion that is not a refusal) when it cannot. A cache is read a file
when its request comes, so a run starts as fast with a large cache as with none; a file it cannot read (damaged, or
of an older format) is a miss, replaced by the next usable answer. A replay folder is read whole, once, and any file
in it that cannot be read is an error: a recording must replay what was recorded, or say why not.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, Literal

import httpx2
from pydantic import BaseModel, ConfigDict, Field

from factcheck.atomic import write_atomic
from factcheck.errors import ReplayMiss, UserError
from factcheck.llm import EXCHANGE_HEADER
from factcheck.models import RecordingSource

Mode = Literal["record", "replay", "cache"]
BUNDLED = Path(__file__).parent / "recordings"
_KEPT_RESPONSE_HEADERS = ("content-type", "retry-after", "retry-after-ms")
# The body handed on is already decoded, so headers describing the wire encoding no longer apply.
_DECODED_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class SavedResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int
    headers: dict[str, str]
    body: Any


class Exchange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    method: str
    path: str
    request: Any
    responses: list[SavedResponse] = Field(min_length=1)
    source: RecordingSource


def request_key(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RecordingTransport(httpx2.BaseTransport):
    """Serve requests from saved exchanges, forward them and save the answers, or both (a cache)."""

    def __init__(
        self,
        folder: Path,
        mode: Mode,
        *,
        base_path: str = "/v1",
        upstream: httpx2.BaseTransport | None = None,
        source: RecordingSource | None = None,
        exchanges: dict[str, Exchange] | None = None,
    ) -> None:
        """``exchanges``: the replay folder's, if the caller has read them already (see :func:`load_exchanges`)."""
        self.folder = folder
        self.mode = mode
        self.base_path = base_path.rstrip("/")
        self.upstream = upstream
        self.source = source
        self.served: Counter[str] = Counter()
        self.sources: dict[str, RecordingSource] = {}
        self.hits = 0
        self.forwarded = 0
        self._lock = threading.Lock()
        self._exchanges: dict[str, Exchange] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        if mode == "replay" and not folder.is_dir():
            raise UserError(f"no recordings folder at {folder}")
        if mode == "replay":
            self._exchanges = exchanges if exchanges is not None else load_exchanges(folder)
        if mode in ("record", "cache") and upstream is None:
            raise UserError(f"{mode} mode needs a server to forward to")

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        path = self._relative_path(request.url.path)
        body = _json_or_text(request.content)
        key = request_key(request.method, path, body)
        if self.mode != "record":
            saved = self._take(key)
            if saved is not None:
                return self._tagged(_response(saved), key)
            if self.mode == "replay":
                raise ReplayMiss(
                    f"no saved exchange answers {request.method} {path} (key {key[:12]}) in {self.folder}",
                    hint="the prompt, model or document changed since the recording; record again with --record",
                )
        assert self.upstream is not None
        response = self.upstream.handle_request(request)
        response.read()
        with self._lock:
            self.forwarded += 1
        if self.mode == "record" or _worth_caching(response):
            self._save(key, request.method, path, body, response)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in _DECODED_HEADERS}
        return self._tagged(httpx2.Response(response.status_code, headers=headers, content=response.content), key)

    def _tagged(self, response: httpx2.Response, key: str) -> httpx2.Response:
        """In cache mode, name the exchange in a header, so a client can :meth:`discard` an answer it could
        not use."""
        if self.mode == "cache":
            response.headers[EXCHANGE_HEADER] = key
        return response

    def discard(self, key: str) -> None:
        """Forget a cached answer the client found unusable, so a later run asks the server again."""
        if self.mode != "cache":
            return
        with self._lock:
            self._exchanges.pop(key, None)
            (self.folder / f"{key}.json").unlink(missing_ok=True)

    def unused(self) -> list[str]:
        """Keys of saved exchanges no request asked for: a test that leaves some unused has drifted."""
        return sorted(set(self._exchanges) - set(self.served))

    def _relative_path(self, path: str) -> str:
        return path[len(self.base_path) :] if self.base_path and path.startswith(self.base_path) else path

    def _take(self, key: str) -> SavedResponse | None:
        exchange = self._cached(key) if self.mode == "cache" else self._exchanges.get(key)
        if exchange is None:
            return None
        with self._lock:
            index = min(self.served[key], len(exchange.responses) - 1)
            self.served[key] += 1
            self.hits += 1
            self.sources[_source_id(exchange.source)] = exchange.source
            return exchange.responses[index]

    def _cached(self, key: str) -> Exchange | None:
        """The cached exchange of ``key``, read from its file the first time it is asked for."""
        with self._lock:
            exchange = self._exchanges.get(key)
        if exchange is not None:
            return exchange
        exchange = _read_exchange(self.folder / f"{key}.json")  # outside the lock: reads of different keys overlap
        if exchange is None or exchange.key != key:
            return None  # never cached, unreadable or of an older format: asked again, and replaced
        with self._lock:
            return self._exchanges.setdefault(key, exchange)

    def _save(self, key: str, method: str, path: str, body: Any, response: httpx2.Response) -> None:
        source = self.source or RecordingSource(kind="recorded", date=date.today().isoformat())
        if source.model is None and isinstance(body, dict):
            source = source.model_copy(update={"model": body.get("model")})
        saved = SavedResponse(
            status=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() in _KEPT_RESPONSE_HEADERS},
            body=_json_or_text(response.content),
        )
        with self._lock:
            exchange = self._exchanges.get(key)
            if exchange is None or self.mode == "cache":
                exchange = Exchange(key=key, method=method, path=path, request=body, responses=[saved], source=source)
                self._exchanges[key] = exchange
            else:
                exchange.responses.append(saved)
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # Written under the exchange's own lock, not the shared one: answers to different requests are saved (and
        # fsync'd) in parallel instead of one after another, while two saves of one exchange still land in order.
        with key_lock:
            with self._lock:
                data = exchange.model_dump_json(indent=1) + "\n"
            write_atomic(self.folder / f"{key}.json", data)

    def close(self) -> None:
        if self.upstream is not None:
            self.upstream.close()


def load_exchanges(folder: Path) -> dict[str, Exchange]:
    """Every exchange of a recordings folder; a file that is not one is an error naming it."""
    exchanges: dict[str, Exchange] = {}
    if not folder.is_dir():
        return exchanges
    for path in sorted(folder.glob("*.json")):
        try:
            exchange = Exchange.model_validate_json(path.read_bytes())
        except ValueError as exc:
            raise UserError(f"{path}: not a readable recording: {str(exc).splitlines()[0]}") from None
        exchanges[exchange.key] = exchange
    return exchanges


def _read_exchange(path: Path) -> Exchange | None:
    try:
        return Exchange.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def _worth_caching(response: httpx2.Response) -> bool:
    """A 200 chat completion that could ever be used. A refusal, a filtered reply or a body that is not a completion
    ends a request at once; cached, it would fail the same way on every run after, with no server asked again."""
    if response.status_code != 200:
        return False
    body = _json_or_text(response.content)
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    message = choices[0].get("message")
    refused = isinstance(message, dict) and bool(message.get("refusal"))
    return not refused and choices[0].get("finish_reason") != "content_filter"


def _source_id(source: RecordingSource) -> str:
    return source.model_dump_json()


def _json_or_text(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def _response(saved: SavedResponse) -> httpx2.Response:
    body = saved.body
    content = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
    if body is None:
        content = b""
    headers = dict(saved.headers)
    headers.setdefault("content-type", "application/json")
    return httpx2.Response(saved.status, headers=headers, content=content)
