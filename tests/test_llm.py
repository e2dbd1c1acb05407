"""The LLM client over the real openai SDK and real HTTP: structured-output fallback, retries, re-asks, errors."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from fakeserver import Reply, completion
from helpers_drafting import (
    FAST,
    MODEL,
    error,
    fast_client,
    ok,
    response_format_of,
    scripted,
    serving,
    user_messages,
    within,
)

from factcheck.errors import ModelAPIError, UnexpectedModelBehavior, UserError
from factcheck.llm import Settings, live_requests_allowed, settings_from_env
from factcheck.models import Draft
from factcheck.retries import RetryPolicy

MESSAGES = [{"role": "system", "content": "You answer in JSON."}, {"role": "user", "content": "Count to one."}]
ANSWER = {"count": 1, "word": "one"}


class Answer(Draft):
    count: int
    word: str


def by_format(**replies: Reply) -> Any:
    """A server that answers each structured-output rung its own way (json_schema, json_object, prompt)."""

    def respond(body: dict[str, Any]) -> Reply:
        reply = replies[response_format_of(body)]
        return Reply(reply.status, reply.body, dict(reply.headers), reply.delay, reply.reset)

    return respond


def confirmed(url: str, mode: str = "json_schema") -> dict[str, str]:
    """Capabilities that already know the server's rung, so a test is about retries, not probing."""
    return {f"{url} {MODEL}": mode}


# ----------------------------------------------------------------------------------------------- fallback


def test_a_server_that_accepts_json_schema_is_asked_that_way_first() -> None:
    with serving(scripted(ok(ANSWER))) as server:
        result = fast_client(server.url).structured(MESSAGES, Answer)

    assert result.value == Answer(count=1, word="one")
    assert result.mode == "json_schema"
    assert [response_format_of(r) for r in server.requests] == ["json_schema"]
    assert server.requests[0]["response_format"]["json_schema"]["schema"]["title"] == "Answer"


def test_a_500_to_json_schema_falls_back_to_json_object_with_the_schema() -> None:
    with serving(by_format(json_schema=error(500, "unsupported"), json_object=ok(ANSWER))) as server:
        result = fast_client(server.url).structured(MESSAGES, Answer)

    assert result.mode == "json_object"
    assert [response_format_of(r) for r in server.requests] == ["json_schema", "json_object"]
    assert server.requests[1]["response_format"]["schema"]["title"] == "Answer"


def test_a_500_to_a_probe_that_names_no_format_is_retried_not_remembered_as_unsupported() -> None:
    capabilities: dict[str, str] = {}
    responder = by_format(json_schema=error(500, "internal error"), json_object=ok(ANSWER))
    with serving(responder) as server, pytest.raises(ModelAPIError, match="HTTP 500"):
        fast_client(server.url, capabilities=capabilities).structured(MESSAGES, Answer)

    assert [response_format_of(r) for r in server.requests] == ["json_schema"] * FAST.max_attempts
    assert capabilities == {}


def test_a_400_to_both_formats_falls_back_to_the_schema_in_the_prompt() -> None:
    responder = by_format(
        json_schema=error(400, "response_format is not supported"),
        json_object=error(400, "response_format is not supported"),
        prompt=ok('Here it is:\n```json\n{"count": 1, "word": "one"}\n```'),
    )
    with serving(responder) as server:
        result = fast_client(server.url).structured(MESSAGES, Answer)

    assert result.mode == "prompt"
    assert result.value == Answer(count=1, word="one")
    assert [response_format_of(r) for r in server.requests] == ["json_schema", "json_object", "prompt"]
    assert '"title": "Answer"' in server.requests[2]["messages"][0]["content"]


def test_the_confirmed_rung_is_remembered_for_the_next_call() -> None:
    with serving(by_format(json_schema=error(500, "unsupported"), json_object=ok(ANSWER))) as server:
        client = fast_client(server.url)
        client.structured(MESSAGES, Answer)
        server.requests.clear()

        second = client.structured(MESSAGES, Answer)

    assert second.mode == "json_object"
    assert [response_format_of(r) for r in server.requests] == ["json_object"]


def test_the_capabilities_passed_in_are_updated_with_what_was_learnt() -> None:
    capabilities: dict[str, str] = {}
    with serving(by_format(json_schema=error(500, "unsupported"), json_object=ok(ANSWER))) as server:
        fast_client(server.url, capabilities=capabilities).structured(MESSAGES, Answer)

    assert capabilities == {f"{server.url} {MODEL}": "json_object", f"{server.url} {MODEL} !json_schema": "refused"}


def test_a_new_client_given_learnt_capabilities_goes_straight_to_the_confirmed_rung() -> None:
    with serving(by_format(json_schema=error(500, "unsupported"), json_object=ok(ANSWER))) as server:
        result = fast_client(server.url, capabilities=confirmed(server.url, "json_object")).structured(MESSAGES, Answer)

    assert result.mode == "json_object"
    assert len(server.requests) == 1


# ----------------------------------------------------------------------------------------------- retries


def test_a_429_is_retried_after_the_wait_the_server_asks_for() -> None:
    waits: list[float] = []
    with serving(scripted(error(429, "slow down", {"retry-after": "0"}), ok(ANSWER))) as server:
        result = fast_client(server.url, waits=waits).structured(MESSAGES, Answer)

    assert result.value.count == 1
    assert len(server.requests) == 2
    assert waits == [0.0]


def test_a_retry_after_longer_than_the_policy_allows_is_capped() -> None:
    waits: list[float] = []
    with serving(scripted(error(429, "slow down", {"retry-after": "3600"}), ok(ANSWER))) as server:
        fast_client(server.url, waits=waits).structured(MESSAGES, Answer)

    assert waits == [FAST.max_retry_after]


def test_a_server_failing_forever_gives_an_api_error_after_max_attempts() -> None:
    with serving(scripted(error(500, "internal error"))) as server:
        client = fast_client(server.url, capabilities=confirmed(server.url))
        with pytest.raises(ModelAPIError, match="after 4 attempts") as failure:
            client.structured(MESSAGES, Answer)

    assert len(server.requests) == FAST.max_attempts == 4
    assert failure.value.attempts == 4
    assert failure.value.status == 500
    assert "internal error" in str(failure.value)


def test_retries_stop_when_the_time_bound_is_reached() -> None:
    policy = RetryPolicy(max_attempts=1000, max_seconds=0.3, initial_wait=0.05, max_wait=0.05)
    with serving(scripted(error(503, "overloaded"))) as server:
        # real waits: the bound is on time that really passes
        client = fast_client(server.url, retry=policy, capabilities=confirmed(server.url), sleep=time.sleep)
        began = time.monotonic()
        with pytest.raises(ModelAPIError, match="HTTP 503"):
            client.structured(MESSAGES, Answer)

    assert time.monotonic() - began < 2
    assert 2 <= len(server.requests) < 50


def test_a_wait_that_would_pass_the_time_bound_is_not_waited() -> None:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=5, max_seconds=5, max_retry_after=60)
    with serving(scripted(error(429, "slow down", {"retry-after": "30"}), ok(ANSWER))) as server:
        client = fast_client(server.url, retry=policy, waits=waits, capabilities=confirmed(server.url))
        with pytest.raises(ModelAPIError, match="HTTP 429"):
            client.structured(MESSAGES, Answer)

    assert waits == []
    assert len(server.requests) == 1


def test_a_connection_reset_is_retried() -> None:
    waits: list[float] = []
    with serving(scripted(Reply(reset=True), ok(ANSWER))) as server:
        result = fast_client(server.url, waits=waits).structured(MESSAGES, Answer)

    assert result.value.word == "one"
    assert len(server.requests) == 2
    assert len(waits) == 1


def test_a_reply_slower_than_the_timeout_is_retried_then_reported() -> None:
    policy = RetryPolicy(max_attempts=2, initial_wait=0.001, max_wait=0.001)
    with serving(scripted(Reply(body=completion('{"count": 1, "word": "one"}'), delay=0.6))) as server:
        client = fast_client(server.url, retry=policy, timeout=0.2, capabilities=confirmed(server.url))
        with pytest.raises(ModelAPIError, match=r"timed out \(2 attempts\)") as failure:
            client.structured(MESSAGES, Answer)

    assert len(server.requests) == 2
    assert failure.value.hint is not None


def test_a_slow_reply_followed_by_a_quick_one_succeeds() -> None:
    with serving(scripted(Reply(body=completion("{}"), delay=0.6), ok(ANSWER))) as server:
        client = fast_client(server.url, timeout=0.2, capabilities=confirmed(server.url))

        assert client.structured(MESSAGES, Answer).value.count == 1
    assert len(server.requests) == 2


def test_the_sdks_own_retries_are_off() -> None:
    policy = RetryPolicy(max_attempts=1)
    with serving(scripted(error(429, "slow down", {"retry-after": "0"}))) as server:
        client = fast_client(server.url, retry=policy, capabilities=confirmed(server.url))
        with pytest.raises(ModelAPIError):
            client.structured(MESSAGES, Answer)

    assert len(server.requests) == 1


def test_usage_counts_every_request_the_server_answered() -> None:
    with serving(scripted(ok("not json", prompt_tokens=10, completion_tokens=3), ok(ANSWER, prompt_tokens=20))) as s:
        client = fast_client(s.url, capabilities=confirmed(s.url))
        result = client.structured(MESSAGES, Answer)

    assert result.usage.requests == 2
    assert result.usage.prompt_tokens == 30
    assert client.usage == result.usage


# ----------------------------------------------------------------------------------------------- permanent errors


@pytest.mark.parametrize(
    ("status", "hint"),
    [(401, "OPENAI_API_KEY"), (403, "permissions"), (404, "OPENAI_BASE_URL")],
)
def test_an_authentication_or_not_found_error_fails_at_once_with_a_hint(status: int, hint: str) -> None:
    with (
        serving(scripted(error(status, "denied"))) as server,
        pytest.raises(ModelAPIError, match=f"HTTP {status}") as failure,
    ):
        fast_client(server.url).structured(MESSAGES, Answer)

    assert len(server.requests) == 1
    assert failure.value.hint is not None
    assert hint in failure.value.hint


def test_a_400_to_a_confirmed_rung_fails_at_once() -> None:
    with serving(scripted(error(400, "messages too long"))) as server:
        client = fast_client(server.url, capabilities=confirmed(server.url))
        with pytest.raises(ModelAPIError, match=r"rejected the request .*messages too long"):
            client.structured(MESSAGES, Answer)

    assert len(server.requests) == 1


# ----------------------------------------------------------------------------------------------- re-asks


def test_a_reply_that_is_not_json_is_re_asked_with_the_error() -> None:
    with serving(scripted(ok("I think the answer is one."), ok(ANSWER))) as server:
        result = fast_client(server.url).structured(MESSAGES, Answer)

    assert result.value.count == 1
    assert result.reasks == 1
    reask = server.requests[1]["messages"]
    assert reask[: len(MESSAGES)] == MESSAGES
    assert {"role": "assistant", "content": "I think the answer is one."} in reask
    assert "Invalid JSON" in user_messages(server.requests[1])[-1]


def test_a_reply_missing_a_field_is_re_asked_naming_the_field() -> None:
    with serving(scripted(ok({"count": 1}), ok(ANSWER))) as server:
        fast_client(server.url).structured(MESSAGES, Answer)

    feedback = user_messages(server.requests[1])[-1]
    assert "did not validate" in feedback
    assert '"word"' in feedback
    assert "missing" in feedback.lower()


def test_a_reply_cut_at_the_token_limit_is_re_asked_for_a_shorter_answer() -> None:
    with serving(scripted(ok('{"count": 1, "wo', finish_reason="length"), ok(ANSWER))) as server:
        result = fast_client(server.url).structured(MESSAGES, Answer)

    assert result.value.word == "one"
    assert "cut off" in user_messages(server.requests[1])[-1]


def test_replies_cut_every_time_end_in_unexpected_model_behavior_after_the_bound() -> None:
    with (
        serving(scripted(ok('{"count": 1, "wo', finish_reason="length"))) as server,
        pytest.raises(UnexpectedModelBehavior, match="3 attempts") as failure,
    ):
        fast_client(server.url).structured(MESSAGES, Answer)

    assert len(server.requests) == FAST.max_reasks + 1 == 3
    assert failure.value.attempts == 3


def test_a_refusal_ends_at_once_without_a_re_ask() -> None:
    with (
        serving(scripted(Reply(body=completion("", refusal="I can't help with that.")))) as server,
        pytest.raises(UnexpectedModelBehavior, match="refused: I can't help with that"),
    ):
        fast_client(server.url).structured(MESSAGES, Answer)

    assert len(server.requests) == 1


def test_a_failed_check_is_re_asked_with_the_checks_message() -> None:
    def at_least_two(answer: Answer) -> None:
        if answer.count < 2:
            raise ValueError("count must be at least 2")

    with serving(scripted(ok(ANSWER), ok({"count": 2, "word": "two"}))) as server:
        result = fast_client(server.url).structured(MESSAGES, Answer, check=at_least_two)

    assert result.value.count == 2
    assert "count must be at least 2" in user_messages(server.requests[1])[-1]


# ----------------------------------------------------------------------------------------------- parameters


def test_a_model_refusing_max_tokens_is_asked_again_with_max_completion_tokens() -> None:
    def respond(body: dict[str, Any]) -> Reply:
        if "max_tokens" in body:
            return error(400, "Unsupported parameter: 'max_tokens' is not supported with this model. "
                         "Use 'max_completion_tokens' instead.")  # fmt: skip
        return ok(ANSWER)

    with serving(respond) as server:
        client = fast_client(server.url, concurrency=1)
        result = within(10, lambda: client.structured(MESSAGES, Answer))
        within(10, lambda: client.structured(MESSAGES, Answer))

    assert result.mode == "json_schema"
    assert "max_tokens" in server.requests[0]
    assert [r.get("max_completion_tokens") for r in server.requests[1:]] == [4096, 4096]
    assert not any("max_tokens" in r for r in server.requests[1:])


def test_a_model_refusing_temperature_is_asked_again_without_it() -> None:
    def respond(body: dict[str, Any]) -> Reply:
        if "temperature" in body:
            return error(400, "Unsupported value: 'temperature' does not support 0 with this model.")
        return ok(ANSWER)

    with serving(respond) as server:
        within(10, lambda: fast_client(server.url, concurrency=1).structured(MESSAGES, Answer))

    assert "temperature" not in server.requests[-1]


# ----------------------------------------------------------------------------------------------- configuration


def test_no_api_key_and_no_base_url_is_a_user_error_naming_both() -> None:
    with pytest.raises(UserError) as failure:
        settings_from_env()

    assert "OPENAI_API_KEY" in str(failure.value)
    assert "OPENAI_BASE_URL" in str(failure.value)


def test_a_base_url_alone_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")

    settings = settings_from_env(model="llama3")

    assert settings.server == "http://127.0.0.1:11434/v1"
    assert settings.api_key is None


def test_the_api_key_never_shows_in_the_settings_repr() -> None:
    assert "sk-hidden" not in repr(Settings(model=MODEL, base_url=None, api_key="sk-hidden"))


def test_with_model_requests_off_only_loopback_servers_may_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_ALLOW_MODEL_REQUESTS", "0")

    assert live_requests_allowed("http://127.0.0.1:8080/v1")
    assert live_requests_allowed("http://localhost:11434/v1")
    assert live_requests_allowed("http://[::1]:8000/v1")
    assert not live_requests_allowed("https://api.openai.com/v1")


def test_with_model_requests_off_a_remote_server_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FACTCHECK_ALLOW_MODEL_REQUESTS", "0")
    client = fast_client("https://api.example.invalid/v1")

    with pytest.raises(UserError, match="FACTCHECK_ALLOW_MODEL_REQUESTS"):
        client.structured(MESSAGES, Answer)


def test_the_api_key_reaches_the_server_but_no_log_or_error_message(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-factcheck-test-SECRET-4242"
    caplog.set_level(logging.DEBUG)
    with serving(scripted(error(401, "bad key"))) as server, pytest.raises(ModelAPIError) as failure:
        fast_client(server.url, api_key=secret).structured(MESSAGES, Answer)

    assert server.requests[0]["_headers"]["authorization"] == f"Bearer {secret}"
    assert secret not in caplog.text
    assert secret not in str(failure.value)
    assert secret not in repr(failure.value.__dict__)
