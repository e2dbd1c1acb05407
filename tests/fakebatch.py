"""A local fake of the OpenAI files and batches endpoints, on loopback, for tests that drive the real openai SDK.

``POST /v1/files`` takes a multipart upload, ``GET /v1/files/{id}/content`` gives a file back, ``POST /v1/batches``
creates a batch (checking its metadata as the API does: at most 16 pairs, keys up to 64 characters, string values up
to 512), ``GET /v1/batches`` lists them newest first, a page of ``limit`` (1 to 100, default 20) after the batch id
``after``, with ``has_more``; and ``GET /v1/batches/{id}`` reports one: ``validating``, then ``in_progress`` for
``polls - 1`` retrieves, then its final status, with output and error files written in the shapes the real API uses.
``lose_replies`` lists creates (by their order, from 0) whose batch is made but whose reply is lost: the connection
closes with no response, as when a network fails at the wrong moment. :meth:`FakeBatchAPI.add_foreign_batches` adds
batches made by someone else, to be listed past. Each line
is answered by :func:`fakeserver.echo_answer` (a valid answer to any factcheck prompt) unless the test's *fate*
function says otherwise for it: an error-file line, a 500 in the output file, an invalid reply, or left unfinished
when the batch expires. ``refuse`` lists batches (by their order, from 0) that fail validation as a whole.
Nothing here is model output.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from fakeserver import LoopbackServer, QuietHandler, completion, echo_answer

Fate = Literal["answer", "error", "server_error", "invalid", "expire"]
FateOf = Callable[[int, str, dict[str, Any]], Fate]


def always_answer(batch: int, custom_id: str, body: dict[str, Any]) -> Fate:
    return "answer"


@dataclass
class FakeBatch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    index: int
    retrieves: int = 0
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"total": 0, "completed": 0, "failed": 0})
    errors: list[dict[str, Any]] | None = None
    created_at: int = field(default_factory=lambda: int(time.time()))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "object": "batch", "endpoint": self.endpoint, "input_file_id": self.input_file_id,
            "completion_window": self.completion_window, "status": self.status, "created_at": self.created_at,
            "output_file_id": self.output_file_id, "error_file_id": self.error_file_id,
            "request_counts": self.counts, "metadata": self.metadata,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
        }  # fmt: skip


class FakeBatchAPI(LoopbackServer):
    """``with FakeBatchAPI(fate=...) as api: ... api.url ...``; uploads and batches are kept for assertions."""

    def __init__(
        self,
        *,
        fate: FateOf = always_answer,
        polls: int = 2,
        refuse: set[int] | None = None,
        lose_replies: set[int] | None = None,
    ) -> None:
        self.fate = fate
        self.polls = polls
        self.refuse = refuse or set()
        self.lose_replies = lose_replies or set()
        self.creates = 0  # batches created through the API
        self.listings: list[dict[str, str]] = []  # the query of each list request
        self.files: dict[str, tuple[str, bytes]] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.uploads: list[list[dict[str, Any]]] = []  # the request lines of each batch input, in order
        self.purposes: list[str] = []
        self.authorization: set[str] = set()
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def custom_ids(self, batch: int) -> list[str]:
        return [line["custom_id"] for line in self.uploads[batch]]

    def ours(self) -> list[FakeBatch]:
        """The batches created through the API, not added as someone else's."""
        return [batch for batch in self.batches.values() if batch.index >= 0]

    def add_foreign_batches(self, count: int, metadata: dict[str, str] | None = None) -> None:
        """Batches someone else created since: finished, over a file of theirs, never retrieved by the test."""
        with self._lock:
            for _ in range(count):
                batch_id = f"batch_{len(self.batches) + 1}"
                self.batches[batch_id] = FakeBatch(
                    id=batch_id, input_file_id="file-elsewhere", endpoint="/v1/chat/completions",
                    completion_window="24h", metadata=metadata, index=-1, status="completed",
                )  # fmt: skip

    # ------------------------------------------------------------------------------------------- endpoints

    def upload(self, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = (filename, content)
            self.purposes.append(purpose)
        return _file_json(file_id, filename, purpose, content)

    def create(self, params: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The batch made, and whether its reply is to be lost."""
        with self._lock:
            lost = self.creates in self.lose_replies
            self.creates += 1
            _, content = self.files[params["input_file_id"]]
            lines = [json.loads(line) for line in content.splitlines() if line.strip()]
            batch = FakeBatch(
                id=f"batch_{len(self.batches) + 1}", input_file_id=params["input_file_id"],
                endpoint=params["endpoint"], completion_window=params["completion_window"],
                metadata=params.get("metadata"), index=len(self.uploads),
            )  # fmt: skip
            batch.counts["total"] = len(lines)
            self.uploads.append(lines)
            self.batches[batch.id] = batch
        return batch.as_json(), lost

    def list_batches(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """A page of batches, newest first, as ``GET /v1/batches?after=&limit=`` gives it."""
        with self._lock:
            self.listings.append(query)
            limit = int(query.get("limit", "20"))
            if not 1 <= limit <= 100:
                return 400, {"error": {"message": "limit must be between 1 and 100", "param": "limit"}}
            newest_first = list(reversed(self.batches.values()))
            start = 0
            if "after" in query:
                ids = [batch.id for batch in newest_first]
                if query["after"] not in ids:
                    return 404, {"error": {"message": f"no such batch: {query['after']}"}}
                start = ids.index(query["after"]) + 1
            page = newest_first[start : start + limit]
            data = [batch.as_json() for batch in page]
            return 200, {
                "object": "list", "data": data, "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None, "has_more": start + limit < len(newest_first),
            }  # fmt: skip

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        with self._lock:
            batch = self.batches[batch_id]
            batch.retrieves += 1
            if batch.status == "validating" and batch.retrieves >= 1:
                batch.status = "in_progress"
            if batch.status == "in_progress" and batch.retrieves >= self.polls:
                self._finish(batch)
            return batch.as_json()

    def _finish(self, batch: FakeBatch) -> None:
        if batch.index in self.refuse:
            batch.status = "failed"
            batch.errors = [{"code": "invalid_request", "message": "model not available for batch", "line": 1}]
            return
        output: list[bytes] = []
        errors: list[bytes] = []
        expired = False
        for number, line in enumerate(self.uploads[batch.index]):
            fate = self.fate(batch.index, line["custom_id"], line["body"])
            expired = expired or fate == "expire"
            record = _result(batch.index, number, line, fate)
            (errors if record.get("error") or fate == "server_error" else output).append(_jsonl(record))
            batch.counts["completed" if fate in ("answer", "invalid") else "failed"] += 1
        batch.status = "expired" if expired else "completed"
        batch.output_file_id = self._store(f"{batch.id}_output.jsonl", b"".join(output)) if output else None
        batch.error_file_id = self._store(f"{batch.id}_errors.jsonl", b"".join(errors)) if errors else None

    def _store(self, filename: str, content: bytes) -> str:
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = (filename, content)
        return file_id

    def _handler(self) -> type[QuietHandler]:
        api = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                api.authorization.add(self.headers.get("authorization", ""))
                if match := re.fullmatch(r"/v1/files/([\w-]+)/content", self.path):
                    found = api.files.get(match.group(1))
                    if found is None:
                        self._send(404, {"error": {"message": "no such file"}})
                        return
                    self._send(200, found[1], "application/octet-stream")
                elif urlsplit(self.path).path == "/v1/batches":
                    query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                    self._send(*api.list_batches(query))
                elif match := re.fullmatch(r"/v1/batches/([\w-]+)", self.path):
                    if match.group(1) not in api.batches:
                        self._send(404, {"error": {"message": "no such batch"}})
                        return
                    self._send(200, api.retrieve(match.group(1)))
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                api.authorization.add(self.headers.get("authorization", ""))
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path == "/v1/files":
                    fields = _multipart(self.headers.get("content-type", ""), raw)
                    filename, content = fields["file"]
                    self._send(200, api.upload(filename, fields["purpose"][1].decode(), content))
                elif self.path == "/v1/batches":
                    params = json.loads(raw)
                    if problem := _metadata_problem(params.get("metadata")):
                        self._send(400, {"error": {"message": problem, "param": "metadata"}})
                        return
                    made, lost = api.create(params)
                    if lost:
                        self.close_connection = True  # the batch is made; its reply never arrives
                        return
                    self._send(200, made)
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _result(batch: int, number: int, line: dict[str, Any], fate: Fate) -> dict[str, Any]:
    record: dict[str, Any] = {"id": f"batch_req_{batch}_{number}", "custom_id": line["custom_id"], "error": None}
    if fate == "error":
        record["response"] = None
        record["error"] = {"code": "server_error", "message": "the request could not be processed"}
    elif fate == "expire":
        record["response"] = None
        record["error"] = {"code": "batch_expired", "message": "not executed before the completion window expired"}
    elif fate == "server_error":
        body = {"error": {"message": "the model is overloaded", "type": "server_error"}}
        record["response"] = {"status_code": 500, "request_id": f"req_{number}", "body": body}
    else:
        content = "this is not JSON" if fate == "invalid" else echo_answer(line["body"])
        body = completion(content, model=line["body"].get("model", "fake-model"), prompt_tokens=100)
        record["response"] = {"status_code": 200, "request_id": f"req_{number}", "body": body}
    return record


def _metadata_problem(metadata: Any) -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or len(metadata) > 16:
        return "metadata: at most 16 key-value pairs"
    for key, value in metadata.items():
        if len(key) > 64 or not isinstance(value, str) or len(value) > 512:
            return f"metadata {key!r}: keys up to 64 characters, values strings up to 512"
    return None


def _jsonl(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode() + b"\n"


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename, content)."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename() or ""
        payload = part.get_payload(decode=True)
        fields[str(name)] = (filename, payload if isinstance(payload, bytes) else b"")
    return fields


def _file_json(file_id: str, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
    return {
        "id": file_id, "object": "file", "bytes": len(content), "created_at": 0, "filename": filename,
        "purpose": purpose, "status": "processed",
    }  # fmt: skip
