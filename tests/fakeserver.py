"""A small OpenAI-compatible chat server on loopback, for tests and benchmarks that need real HTTP.

It answers ``POST /v1/chat/completions`` through a *responder*: a function from the request body to a
:class:`Reply`. :func:`echo_model` is a stand-in model that answers every factcheck prompt validly: its claims are
sentences copied from the fenced document (so they ground), its questions cover every claim id it was given.
Nothing here is model output; it exists to exercise the program, not to judge a document.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False  # close the connection without answering


Responder = Callable[[dict[str, Any]], Reply]


def completion(content: str, *, finish_reason: str = "stop", model: str = "fake-model", refusal: str | None = None,
               prompt_tokens: int = 0, completion_tokens: int | None = None) -> dict[str, Any]:  # fmt: skip
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message = {"role": "assistant", "content": None, "refusal": refusal}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(content) // 4 if completion_tokens is None else completion_tokens,
            "total_tokens": prompt_tokens + (len(content) // 4 if completion_tokens is None else completion_tokens),
        },
    }


def schema_name(body: dict[str, Any]) -> str:
    """Which answer the request wants: from ``response_format`` or, failing that, the schema in the prompt."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return str(response_format["json_schema"]["name"])
    system = body["messages"][0]["content"]
    for name in ("DraftQuestionBatch", "DraftClaims"):
        if f'"title": "{name}"' in system or f'"title":"{name}"' in system:
            return name
    return "unknown"


def prompt_chars(body: dict[str, Any]) -> int:
    return sum(len(m.get("content") or "") for m in body["messages"])


_FENCED = re.compile(r"<<<DOCUMENT (\w+)>>>\n(.*)\n<<<END DOCUMENT \1>>>", re.DOTALL)
_SENTENCE = re.compile(r"[^.!?\n]{30,240}[.!?]")


def echo_answer(body: dict[str, Any], *, claims_per_chunk: int = 6) -> str:
    """A valid answer to any factcheck prompt, built from the request itself."""
    name = schema_name(body)
    user = body["messages"][-1]["content"]
    if name == "DraftClaims":
        fenced = _FENCED.search(user)
        text = fenced.group(2) if fenced else ""
        sentences = [m.group().strip() for m in _SENTENCE.finditer(text)]
        step = max(1, len(sentences) // claims_per_chunk)
        claims = [
            {
                "quote": sentence,
                "statement": sentence,
                "kind": "event",
                "nature": "fact" if i % 3 else "opinion",
                "checkworthiness": 1 + i % 5,
                "entities": [],
            }
            for i, sentence in enumerate(sentences[::step][:claims_per_chunk])
        ]
        return json.dumps({"claims": claims})
    if name == "DraftQuestionBatch":
        items = json.loads(user[user.index("[") :])
        question = {
            "question": "What does the primary record say?",
            "establishes": "Whether the claim matches the record.",
            "primary_sources": ["the official record"],
            "search_query": "official record",
        }
        return json.dumps({"items": [{"claim_id": i["claim_id"], "questions": [question, question]} for i in items]})
    return "{}"


def echo_model(latency: float = 0.0) -> Responder:
    def respond(body: dict[str, Any]) -> Reply:
        return Reply(body=completion(echo_answer(body), prompt_tokens=prompt_chars(body) // 4), delay=latency)

    return respond


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no request log on stderr, and no delayed-ACK wait between a header and a body that go
    out in two writes."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1, on a free port, serving ``handler`` while inside ``with``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The base URL of the API, as OPENAI_BASE_URL takes it."""
        return f"{self.origin}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeWebSite(LoopbackServer):
    """Web pages on loopback: fill ``pages`` with path -> (status, content type, body); any other path is a 404.
    The Authorization header of every request is kept, in order."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.authorizations: list[str | None] = []
        site = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                site.authorizations.append(self.headers.get("authorization"))
                status, content_type, body = site.pages.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)


class FakeLLMServer(LoopbackServer):
    """``with FakeLLMServer(responder) as server: ... server.url ...``; every request body is kept in order."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self._send(Reply(body={"object": "list", "data": [{"id": "fake-model", "object": "model"}]}))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(Reply(400, {"error": {"message": "body is not JSON"}}))
                    return
                body["_headers"] = {k.lower(): v for k, v in self.headers.items()}
                server._record(body)
                if not self.path.endswith("/chat/completions"):
                    self._send(Reply(404, {"error": {"message": f"no route {self.path}"}}))
                    return
                clean = {k: v for k, v in body.items() if k != "_headers"}
                self._send(server.responder(clean))

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    self.close_connection = True
                    return
                body = reply.body
                payload = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body))
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(reply.status)
                self.send_header("content-type", reply.headers.pop("content-type", "application/json"))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
