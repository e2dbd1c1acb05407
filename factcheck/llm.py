"""One client over the openai SDK: structured output with capability fallback, one retry policy, usage.

Structured output is asked for in the best way the server supports, learnt by trying:

1. ``json_schema``: ``response_format={"type": "json_schema", ...}`` (OpenAI, vLLM, Ollama);
2. ``json_object``: ``{"type": "json_object", "schema": ...}`` (llama.cpp's server, which answers HTTP 500 to 1.);
3. ``prompt``: no response format, the schema stated in the prompt (anything that chats).

A rung the server refuses (400, 422, 500, 501 before that rung ever worked) is remembered as unsupported for that
server and model, and the next rung is tried at once. Whatever comes back is validated with Pydantic.

Retries live here and nowhere else (the SDK's own are off): transport failures, 408, 409, 429 and 5xx back off
with jitter, honouring ``retry-after``, within a bound on attempts and on total time; other 4xx fail at once with a
message that says what to do. A reply cut at ``max_tokens`` or failing validation is re-asked with the error fed
back, a bounded number of times.

The pieces live beside this module: ``structured`` builds each mode's request and reads replies; ``retries`` says
what is worth another try, how long to wait and what to tell the user; the loop that uses both is here.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlparse

import httpx2
from pydantic import BaseModel
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_before_delay

from factcheck.errors import FactcheckError, ModelAPIError, ReplayMiss, UnexpectedModelBehavior, UserError
from factcheck.models import Usage
from factcheck.retries import (
    NotACompletion,
    RetryPolicy,
    is_transient,
    jitter,
    refuses_response_format,
    retry_after,
    status_error,
)
from factcheck.structured import MODES, Reask, parse_reply, reask_messages, usage_of, with_format
from factcheck.urls import public_url

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
Item = TypeVar("Item")
DEFAULT_MODEL = "gpt-4.1-mini"
# A response header by which a caching transport names the exchange behind an answer (see recording.py).
EXCHANGE_HEADER = "x-factcheck-exchange"


@dataclass(frozen=True)
class Settings:
    model: str
    base_url: str | None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 120.0
    max_tokens: int = 4096
    temperature: float | None = 0.0
    concurrency: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def server(self) -> str:
        """The server's URL as it may be shown and written to files: credentials in it (user:password@, a query)
        are taken out."""
        return public_url(self.base_url or "https://api.openai.com/v1")


def settings_from_env(
    *, model: str | None = None, base_url: str | None = None, offline: bool = False, **overrides: Any
) -> Settings:
    """Settings as the ecosystem spells them: OPENAI_API_KEY, OPENAI_BASE_URL, FACTCHECK_MODEL, then flags."""
    base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    api_key = os.environ.get("OPENAI_API_KEY") or None
    if not offline and not api_key and not base_url:
        raise UserError(
            "no LLM server configured: set OPENAI_API_KEY (for OpenAI) or OPENAI_BASE_URL (Ollama, vLLM, llama.cpp)",
            hint="or pass --base-url, or --replay to answer from recordings",
        )
    for name, convert in (("max_tokens", int), ("timeout", float)):
        raw = os.environ.get(f"FACTCHECK_{name.upper()}")
        if raw and name not in overrides:
            try:
                overrides[name] = convert(raw)
            except ValueError:
                raise UserError(f"FACTCHECK_{name.upper()} must be a number, not {raw!r}") from None
    scale = os.environ.get("FACTCHECK_RETRY_SCALE")
    if scale and "retry" not in overrides:
        try:
            overrides["retry"] = RetryPolicy(wait_scale=max(0.0, float(scale)))
        except ValueError:
            raise UserError(f"FACTCHECK_RETRY_SCALE must be a number, not {scale!r}") from None
    return Settings(
        model=model or os.environ.get("FACTCHECK_MODEL") or DEFAULT_MODEL,
        base_url=base_url,
        api_key=api_key,
        **overrides,
    )


@dataclass
class Completion(Generic[T]):
    value: T
    mode: str
    usage: Usage
    reasks: int


class _Unsupported(Exception):
    """The server refused a structured-output rung it had never accepted."""


def live_requests_allowed(base_url: str) -> bool:
    """Tests set FACTCHECK_ALLOW_MODEL_REQUESTS=0: then only loopback servers (local fakes) may be reached."""
    if os.environ.get("FACTCHECK_ALLOW_MODEL_REQUESTS", "1") != "0":
        return True
    host = urlparse(base_url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ask_each(
    ask: Callable[[Item], R],
    items: Sequence[Item],
    *,
    pool: ThreadPoolExecutor | None = None,
    on_each: Callable[[Item], None] | None = None,
) -> list[R | FactcheckError]:
    """``ask(item)`` for every item, in ``pool`` if given, in order. An item whose request failed gets its error in
    its place, so the others go on; a replay miss stops them all, since a recording that does not fit the run is the
    user's to fix. ``on_each`` is told of every item done, failed or not."""

    def run(item: Item) -> R | FactcheckError:
        try:
            return ask(item)
        except ReplayMiss:
            raise
        except FactcheckError as exc:
            return exc
        finally:
            if on_each:
                on_each(item)

    return list(pool.map(run, items)) if pool else [run(item) for item in items]


class LLMClient:
    """Thread-safe: extraction and question drafting share one client and its bound on concurrent requests."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.BaseTransport | None = None,
        offline: bool = False,
        on_unusable: Callable[[str], None] | None = None,
        capabilities: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import openai

        self.settings = settings
        self.offline = offline
        self._on_unusable = on_unusable
        self._exchanges: dict[int, str] = {}
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._capabilities = capabilities if capabilities is not None else {}
        self._param_style: dict[str, Any] = {"max_tokens": "max_tokens", "temperature": True}
        self.usage = Usage()
        self.modes_used: set[str] = set()
        http_client = httpx2.Client(transport=transport, timeout=settings.timeout) if transport else None
        self._client = openai.OpenAI(
            api_key=settings.api_key or "not-needed",
            base_url=settings.base_url,
            max_retries=0,
            timeout=settings.timeout,
            http_client=http_client,
        )

    @property
    def capability_key(self) -> str:
        return f"{self.settings.server} {self.settings.model}"

    @property
    def confirmed_mode(self) -> str | None:
        return self._capabilities.get(self.capability_key)

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------------------------------- other calls

    def call_api(self, call: Callable[[openai.OpenAI], R]) -> R:
        """Another SDK call (files, batches) under the same retry policy; its failures become ModelAPIError."""
        return self._with_retries(call, self._client)

    # ------------------------------------------------------------------------------------------- structured

    def structured(
        self,
        messages: list[dict[str, str]],
        output: type[T],
        *,
        check: Callable[[T], None] | None = None,
    ) -> Completion[T]:
        """Ask for a reply that validates as ``output`` (and passes ``check``), re-asking with the errors."""
        conversation = list(messages)
        usage = Usage()
        last_reply: str | None = None
        last_reason = ""
        exchanges: list[str | None] = []
        for attempt in range(self.settings.retry.max_reasks + 1):
            completion, mode = self._complete_in_best_mode(conversation, output)
            with self._lock:
                self.modes_used.add(mode)
            usage = usage + usage_of(completion)
            exchanges.append(self._exchange_of(completion))
            try:
                try:
                    value = parse_reply(completion, output, self.settings.max_tokens)
                    if check is not None:
                        check(value)
                except UnexpectedModelBehavior:
                    self._discard(exchanges)
                    raise
                return Completion(value=value, mode=mode, usage=usage, reasks=attempt)
            except Reask as problem:
                last_reply, last_reason = problem.reply, problem.reason
                log.info("re-asking (%s): %s", attempt + 1, problem.message[:200])
                conversation = [*messages, *reask_messages(problem)]
            except ValueError as problem:  # a check that failed
                reply = completion.choices[0].message.content
                last_reply, last_reason = reply, str(problem)
                conversation = [*messages, *reask_messages(Reask(str(problem), reply, str(problem)))]
        self._discard(exchanges)
        raise UnexpectedModelBehavior(
            f"the model gave no usable answer in {self.settings.retry.max_reasks + 1} attempts "
            f"(last: {last_reason[:160]})",
            attempts=self.settings.retry.max_reasks + 1,
            last_completion=last_reply,
        )

    def _exchange_of(self, completion: ChatCompletion) -> str | None:
        with self._lock:
            return self._exchanges.pop(id(completion), None)

    def _discard(self, exchanges: list[str | None]) -> None:
        """Cached answers of a conversation that never gave a usable answer are dropped, so a re-run asks the
        server again instead of failing the same way forever. A conversation that was mended by a re-ask is kept
        whole: a re-run replays it without a request."""
        if self._on_unusable is not None:
            for exchange in exchanges:
                if exchange:
                    self._on_unusable(exchange)

    def _complete_in_best_mode(self, messages: list[dict[str, str]], output: type[T]) -> tuple[ChatCompletion, str]:
        confirmed = self.confirmed_mode
        if confirmed is not None:
            return self._send(with_format(messages, output, confirmed)), confirmed
        with self._probe_lock:  # one prober at a time, so a server learns its rung once, not once per thread
            confirmed = self.confirmed_mode
            if confirmed is None:
                return self._probe(messages, output)
        # Outside the lock: the threads that queued behind the prober must not then send one at a time.
        return self._send(with_format(messages, output, confirmed)), confirmed

    def _probe(self, messages: list[dict[str, str]], output: type[T]) -> tuple[ChatCompletion, str]:
        """Try the rungs not yet refused, best first; called with the probe lock held."""
        refused: list[str] = []
        for mode in self._untried_modes():
            try:
                completion = self._send(with_format(messages, output, mode), probing=mode != "prompt")
            except _Unsupported:
                log.info("server refused structured output mode %s; falling back", mode)
                self._remember(mode, supported=False)
                refused.append(mode)
                continue
            except FactcheckError:
                # A server that fails every rung is down, not choosy: what it "refused" is not worth keeping.
                self._forget_refusals(refused)
                raise
            self._remember(mode, supported=True)
            return completion, mode
        raise ModelAPIError("the server accepted no way of asking for JSON")  # pragma: no cover - prompt never raises

    def _untried_modes(self) -> list[str]:
        confirmed = self.confirmed_mode
        if confirmed is not None:
            return [confirmed]
        refused = {m for m in MODES if self._capabilities.get(f"{self.capability_key} !{m}")}
        return [m for m in MODES if m not in refused]

    def _remember(self, mode: str, *, supported: bool) -> None:
        with self._lock:
            if supported:
                self._capabilities[self.capability_key] = mode
                self.modes_used.add(mode)
            else:
                self._capabilities[f"{self.capability_key} !{mode}"] = "refused"

    def _forget_refusals(self, modes: list[str]) -> None:
        with self._lock:
            for mode in modes:
                self._capabilities.pop(f"{self.capability_key} !{mode}", None)

    # ------------------------------------------------------------------------------------------- transport

    def _send(self, request: dict[str, Any], *, probing: bool = False) -> ChatCompletion:
        return self._with_retries(self._send_once, request, probing)

    def _with_retries(self, call: Callable[..., R], *args: Any) -> R:
        """Run ``call`` under the one retry policy; what still fails becomes a ModelAPIError that says what to do."""
        import openai

        if not self.offline and not live_requests_allowed(self.settings.server):
            raise UserError(f"live model requests are off (FACTCHECK_ALLOW_MODEL_REQUESTS=0): {self.settings.server}")
        policy = self.settings.retry
        retrying = Retrying(
            # "before": a wait (a long retry-after) that would end past the time bound is not begun at all
            stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_seconds),
            wait=self._wait,
            retry=retry_if_exception(is_transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            result: R = retrying(call, *args)
            return result
        except (_Unsupported, FactcheckError):
            raise
        except NotACompletion as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise ModelAPIError(
                f"the LLM server at {self.settings.server} answered with something that is not a chat completion "
                f"({attempts} attempts): {exc}",
                hint="check that OPENAI_BASE_URL is an OpenAI-compatible API; it usually ends in /v1",
                attempts=attempts,
            ) from None
        except openai.APIStatusError as exc:
            raise self._without_key(status_error(exc, retrying.statistics.get("attempt_number", 1))) from None
        except openai.APIConnectionError as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            kind = "timed out" if isinstance(exc, openai.APITimeoutError) else "could not be reached"
            raise ModelAPIError(
                f"the LLM server at {self.settings.server} {kind} ({attempts} attempts)",
                hint="is it running? check OPENAI_BASE_URL",
                attempts=attempts,
            ) from None

    def _without_key(self, error: ModelAPIError) -> ModelAPIError:
        """A server may quote the key back in its error; the message ends up in case files, so the key goes."""
        key = self.settings.api_key
        if key and key in error.message:
            error.message = error.message.replace(key, "[API key]")
            error.args = (error.message,)
        return error

    def _send_once(self, request: dict[str, Any], probing: bool) -> ChatCompletion:
        import openai
        from openai.types.chat import ChatCompletion

        try:
            with self._slots:  # held for the request only: the re-send below must not wait on its own slot
                raw = self._client.chat.completions.with_raw_response.create(**self._with_params(request))
            completion: ChatCompletion = raw.parse()
        except json.JSONDecodeError as exc:
            raise NotACompletion(f"invalid JSON: {exc.msg} (character {exc.pos})") from None
        except openai.BadRequestError as exc:
            if self._adapt_params(exc):
                return self._send_once(request, probing)
            if probing:
                raise _Unsupported() from exc
            raise
        except openai.APIStatusError as exc:
            if probing and refuses_response_format(exc):
                raise _Unsupported() from exc
            raise
        if not isinstance(completion, ChatCompletion):
            raise NotACompletion(f"a {type(completion).__name__} instead of a JSON object")
        with self._lock:
            self.usage = self.usage + usage_of(completion)
            exchange = raw.headers.get(EXCHANGE_HEADER)
            if exchange:
                self._exchanges[id(completion)] = exchange
        return completion

    def _with_params(self, request: dict[str, Any]) -> dict[str, Any]:
        params = {"model": self.settings.model, **request}
        params[self._param_style["max_tokens"]] = self.settings.max_tokens
        if self._param_style["temperature"] and self.settings.temperature is not None:
            params["temperature"] = self.settings.temperature
        return params

    def _adapt_params(self, exc: openai.BadRequestError) -> bool:
        """Some models refuse ``max_tokens`` or ``temperature``; switch once and say whether anything changed."""
        message = str(exc).lower()
        with self._lock:
            if "max_tokens" in message and self._param_style["max_tokens"] == "max_tokens":
                self._param_style["max_tokens"] = "max_completion_tokens"
                return True
            if "temperature" in message and self._param_style["temperature"]:
                self._param_style["temperature"] = False
                return True
        return False

    def _wait(self, state: RetryCallState) -> float:
        policy = self.settings.retry
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after(exc)
        if asked is not None:
            return min(asked, policy.max_retry_after) * policy.wait_scale
        backoff = min(policy.max_wait, policy.initial_wait * 2 ** (state.attempt_number - 1))
        return float(backoff * (0.5 + jitter())) * policy.wait_scale
