"""The one retry policy's parts: which failures are worth another try, how long to wait, and what to tell the
user when trying again stops. The loop itself is in ``llm.LLMClient``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from factcheck.errors import ModelAPIError

if TYPE_CHECKING:
    import openai

_FORMAT_WORDS = ("response_format", "json_schema", "schema", "unsupported", "not supported")
_TRANSIENT_STATUSES = {408, 409, 429}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the one retry loop: transport retries and re-asks for bad output."""

    max_attempts: int = 6
    max_seconds: float = 120.0
    initial_wait: float = 0.5
    max_wait: float = 20.0
    max_retry_after: float = 60.0
    max_reasks: int = 2
    wait_scale: float = 1.0  # FACTCHECK_RETRY_SCALE: tests shrink every wait, retry-after included, to milliseconds


class NotACompletion(Exception):
    """A 200 whose body is not a chat completion (a cut body, a proxy's page): retried like a transport error."""


def jitter() -> float:

    return random.random() / 2


def refuses_response_format(exc: openai.APIStatusError) -> bool:
    """Whether an error to a probe means the server lacks that way of asking for JSON. llama.cpp's server answers
    500 naming ``response_format``; a 500 that names nothing of the kind is an ordinary failure, retried, so one
    bad moment of a server is not remembered as a missing feature."""
    if exc.status_code in (400, 422, 501):
        return True
    text = f"{exc.message} {exc.body}".lower()
    return exc.status_code == 500 and any(word in text for word in _FORMAT_WORDS)


def is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError | NotACompletion):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in _TRANSIENT_STATUSES or exc.status_code >= 500
    return False


def retry_after(exc: BaseException | None) -> float | None:
    import openai

    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


def status_error(exc: openai.APIStatusError, attempts: int) -> ModelAPIError:
    status = exc.status_code
    detail = error_detail(exc)
    if status == 401:
        return ModelAPIError("the LLM server refused the API key (HTTP 401)", hint="check OPENAI_API_KEY", status=401)
    if status == 403:
        return ModelAPIError(
            f"the LLM server denied access (HTTP 403): {detail}", hint="check the key's permissions", status=403
        )
    if status == 404:
        return ModelAPIError(
            f"model or endpoint not found (HTTP 404): {detail}",
            hint="check FACTCHECK_MODEL / --model and OPENAI_BASE_URL (it usually ends in /v1)",
            status=status,
        )
    if status < 500 and status not in _TRANSIENT_STATUSES:
        return ModelAPIError(f"the LLM server rejected the request (HTTP {status}): {detail}", status=status)
    return ModelAPIError(
        f"the LLM server kept failing (HTTP {status} after {attempts} attempts): {detail}",
        hint="try again later, or lower --concurrency",
        status=status,
        attempts=attempts,
    )


def error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message") if isinstance(body, dict) else None
        if isinstance(message, str):
            return message[:200]
    return str(exc.message)[:200]
