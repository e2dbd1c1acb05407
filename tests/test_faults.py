"""Faults from the LLM server, end to end: the real ``factcheck extract`` against a server that misbehaves.

One module-wide run drafts 12 generated bulletins and the sample seed with ``--concurrency 4`` while
:class:`faults.FaultyModel` answers 30% of requests with a fault (seeded, decided per request body), then drafts
them again with the faults off. The tests below each check one promise about those two runs; the focused tests
after them give each kind of fault on its own to the library and check the message the user is shown.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED
from fakeserver import FakeLLMServer, Reply, completion, echo_answer, schema_name
from faults import (
    FAULTS,
    INVENTED_QUOTE,
    MARKERS,
    TRANSIENT,
    UNUSABLE,
    FaultyModel,
    Run,
    body_key,
    cli_env,
    confirm_json_schema,
    factcheck,
    generated_documents,
    quiet,
)

from factcheck.documents import load_document
from factcheck.draft import DraftOptions, Outcome, draft_sources
from factcheck.errors import ModelAPIError
from factcheck.extract import chunk_document
from factcheck.llm import LLMClient, Settings
from factcheck.models import Case, DraftClaims
from factcheck.questions import DEFAULT_BATCH_SIZE
from factcheck.retries import RetryPolicy
from factcheck.store import load_case

CHUNK_TOKENS = 200  # the smallest chunks the CLI allows: several chunks a bulletin, so a document can fail part-way
FAULT_RATE = 0.3


@dataclass
class FaultRun:
    sources: list[str]
    first: Run
    second: Run
    model: FaultyModel
    first_requests: list[dict[str, Any]]
    second_requests: list[dict[str, Any]]
    usable_after_first: set[str]
    cases_after_first: dict[str, Case]
    cases_after_second: dict[str, Case]
    seconds: float

    def slug(self, source: str) -> str:
        return load_document(source).slug


def _cases(reports: Path) -> dict[str, Case]:
    return {folder.name: load_case(folder) for folder in sorted(reports.iterdir()) if (folder / "case.json").is_file()}


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> FaultRun:
    tmp = tmp_path_factory.mktemp("faults")
    (tmp / "docs").mkdir()
    sources = [str(p) for p in generated_documents(tmp / "docs")] + [str(SEED)]
    model = FaultyModel(rate=FAULT_RATE, seed=7, slow_seconds=1.5)
    with quiet(FakeLLMServer(model)) as server:
        confirm_json_schema(tmp / "cache", server.url)
        env = cli_env(tmp, server.url)
        started = time.monotonic()
        args = ["extract", *sources, "--concurrency", "4", "--chunk-tokens", str(CHUNK_TOKENS)]
        first = factcheck(env, *args, "--timeout", "1")
        first_requests = list(server.requests)
        cases_after_first = _cases(tmp / "reports")
        usable = model.usable_keys()
        model.enabled = False
        second = factcheck(env, *args)
        seconds = time.monotonic() - started
        second_requests = server.requests[len(first_requests) :]
    return FaultRun(
        sources, first, second, model, first_requests, second_requests, usable, cases_after_first,
        _cases(tmp / "reports"), seconds,
    )  # fmt: skip


def _strip_headers(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "_headers"}


def _summary(stderr: str, source: str) -> tuple[str, list[str]]:
    """The status word a document's summary line starts with, and the indented lines that follow it."""
    lines = stderr.splitlines()
    heads = [
        i
        for i, line in enumerate(lines)
        if re.match(rf"\s*(drafted|partial|failed|unchanged) {re.escape(source)}\b", line)
    ]
    assert len(heads) == 1, f"{source}: expected one summary line, got {len(heads)}:\n{stderr}"
    head = heads[0]
    after = []
    for line in lines[head + 1 :]:
        if not line.startswith("          "):
            break
        after.append(line.strip())
    return lines[head].split()[0], after


# ----------------------------------------------------------------------------------------------- the fault run


def test_a_share_of_requests_near_the_fault_rate_was_answered_with_faults(fault_run: FaultRun) -> None:
    random_share = [s for s in fault_run.model.served[: len(fault_run.first_requests)] if not s.forced]
    faulted = sum(1 for s in random_share if s.fault is not None)

    assert 0.2 <= faulted / len(random_share) <= 0.4, f"{faulted} of {len(random_share)}"
    assert len({s.fault for s in fault_run.model.served if s.fault}) >= 10, "too few kinds of fault were exercised"


def test_every_document_is_drafted_or_fails_with_a_one_line_reason(fault_run: FaultRun) -> None:
    for source in fault_run.sources:
        status, reason = _summary(fault_run.first.stderr, source)
        case = fault_run.cases_after_first[fault_run.slug(source)]
        if status == "drafted":
            assert not case.drafting.failures and not reason
        else:
            assert status == "partial", f"{source}: {status}"
            assert reason == ["; ".join(case.drafting.failures)]
            assert all("\n" not in failure and failure for failure in case.drafting.failures)


def test_the_command_exits_non_zero_when_any_document_failed(fault_run: FaultRun) -> None:
    assert any(case.drafting.failures for case in fault_run.cases_after_first.values())
    assert fault_run.first.code == 1


def test_no_traceback_reaches_the_user(fault_run: FaultRun) -> None:
    for run in (fault_run.first, fault_run.second):
        assert "Traceback" not in run.output
        assert "unexpected error" not in run.output


def test_every_claim_saved_stands_in_its_document_at_its_offsets(fault_run: FaultRun) -> None:
    for cases in (fault_run.cases_after_first, fault_run.cases_after_second):
        for case in cases.values():
            for claim in case.claims:
                assert case.document.text[claim.start : claim.end] == claim.quote


def test_a_quote_the_server_invented_is_only_ever_rejected(fault_run: FaultRun) -> None:
    invented_doc = next(s for s in fault_run.sources if "bulletin-07" in s)  # it carries the "Cinder Hill" marker
    for cases in (fault_run.cases_after_first, fault_run.cases_after_second):
        for case in cases.values():
            assert all(INVENTED_QUOTE not in c.quote and "moon" not in c.statement for c in case.claims)
        rejected = cases[fault_run.slug(invented_doc)].rejected
        assert INVENTED_QUOTE in [r.draft.quote for r in rejected]


def test_work_done_before_a_failure_is_kept_in_a_partial_case(fault_run: FaultRun) -> None:
    for number, marker in ((3, "Kettle Point"), (5, "Marrow Creek"), (9, "Quarry Lane")):
        case = fault_run.cases_after_first[f"bulletin-{number:02d}"]
        kind = MARKERS[marker][1]
        assert case.drafting.failures, f"bulletin {number} should be partial ({kind})"
        assert case.claims, f"bulletin {number}: the claims drafted before the failure were not kept"
        kept = {c.id for c in case.claims}
        assert kept <= {c.id for c in fault_run.cases_after_second[case.document.slug].claims}


def test_the_rerun_finishes_every_partial_case_and_leaves_complete_ones_unchanged(fault_run: FaultRun) -> None:
    assert fault_run.second.code == 0, fault_run.second.stderr
    for source in fault_run.sources:
        slug = fault_run.slug(source)
        status, _ = _summary(fault_run.second.stderr, source)
        was_partial = bool(fault_run.cases_after_first[slug].drafting.failures)
        assert status == ("drafted" if was_partial else "unchanged"), source
        assert not fault_run.cases_after_second[slug].drafting.failures


def test_the_rerun_asks_again_only_what_failed(fault_run: FaultRun) -> None:
    """Exactly the chunks that failed are extracted again, and questions are asked only for claims without them:
    those of failed batches and those first found in the chunks that failed."""
    failed_chunks: set[tuple[str, str]] = set()
    question_batches = 0
    failed_calls = 0
    for slug, before in fault_run.cases_after_first.items():
        if not before.drafting.failures:
            continue
        failed_calls += len(before.drafting.failures)
        chunks = chunk_document(before.document, CHUNK_TOKENS)
        for failure in before.drafting.failures:
            found = re.match(r"chunk (\d+)/\d+:", failure)
            if found:
                failed_chunks.add((slug, chunks[int(found.group(1)) - 1].text(before.document)))
        had_questions = {c.id for c in before.claims if c.questions}
        after = fault_run.cases_after_second[slug]
        missing = [c for c in after.claims if c.nature == "fact" and c.id not in had_questions]
        question_batches += math.ceil(len(missing) / DEFAULT_BATCH_SIZE)
        asked = [_question_ids(b) for b in fault_run.second_requests if _is_questions_for(b, before)]
        assert not had_questions & {i for ids in asked for i in ids}, f"{slug}: questions asked twice"

    extracted_again = {_fenced_text(b) for b in fault_run.second_requests if schema_name(b) == "DraftClaims"}
    assert extracted_again == {text for _, text in failed_chunks}
    assert len(fault_run.second_requests) == len(failed_chunks) + question_batches, (
        f"{len(fault_run.second_requests)} requests on the rerun; {failed_calls} calls had failed, "
        f"{len(failed_chunks)} of them chunks, and {question_batches} question batches were needed"
    )


def test_the_rerun_repeats_no_request_that_was_answered_usably(fault_run: FaultRun) -> None:
    repeated = [b for b in fault_run.second_requests if body_key(_strip_headers(b)) in fault_run.usable_after_first]
    assert not repeated


def test_the_whole_fault_run_takes_under_thirty_seconds(fault_run: FaultRun) -> None:
    assert fault_run.seconds < 30


def _fenced_text(body: dict[str, Any]) -> str:
    user = body["messages"][1]["content"]
    found = re.search(r"<<<DOCUMENT (\w+)>>>\n(.*)\n<<<END DOCUMENT \1>>>", user, re.DOTALL)
    assert found, "an extraction request without a fenced document"
    return found.group(2)


def _is_questions_for(body: dict[str, Any], case: Case) -> bool:
    return schema_name(body) == "DraftQuestionBatch" and f'"{case.document.title}"' in body["messages"][1]["content"]


def _question_ids(body: dict[str, Any]) -> set[str]:
    user = body["messages"][1]["content"]
    return {item["claim_id"] for item in json.loads(user[user.index("\n[") :])}


# ----------------------------------------------------------------------------------------------- one fault at a time


class Switchboard:
    """One fake server for the focused tests, answering with whichever model the test puts in: a server each would
    cost half a second of shutdown each."""

    def __init__(self) -> None:
        self.model: Any = FaultyModel(enabled=False)
        self.server = quiet(FakeLLMServer(lambda body: self.model(body)))


@pytest.fixture(scope="module")
def switchboard() -> Iterator[Switchboard]:
    board = Switchboard()
    with board.server:
        yield board


@pytest.fixture
def drafting(switchboard: Switchboard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``drafting(model)`` drafts the sample seed through the library against the fake server answering with
    ``model``; the outcome and how many requests it sent."""
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FACTCHECK_RETRY_SCALE", "0.01")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-secret")
    server = switchboard.server
    confirm_json_schema(tmp_path / "cache", server.url)

    def draft(model: Any, *, timeout: float = 0.4) -> tuple[Outcome, int]:
        switchboard.model = model
        before = len(server.requests)
        options = DraftOptions(
            model="fake-model", base_url=server.url, timeout=timeout, reports=tmp_path / "reports", concurrency=2
        )
        return draft_sources([str(SEED)], options)[0], len(server.requests) - before

    return draft


@pytest.mark.parametrize("fault", [*TRANSIENT, *UNUSABLE])
def test_a_fault_on_the_first_attempt_is_retried_or_re_asked_and_the_case_drafted(drafting: Any, fault: str) -> None:
    model = FaultyModel(only=fault, slow_seconds=0.8)
    outcome, _ = drafting(model)

    assert outcome.status == "drafted", outcome.message
    assert outcome.case is not None and outcome.case.claims
    assert [s.fault for s in model.served].count(fault) == 2  # the extraction request and the questions batch


_SERVER = r"http://127\.0\.0\.1:\d+/v1"
_HINT = r" \(.+\)"  # every message ends with a hint of what to do; its wording is the client's to change
_KEPT_FAILING = r"the LLM server kept failing \(HTTP {status} after 6 attempts\): {detail}" + _HINT
_NO_USABLE_ANSWER = r"the model gave no usable answer in 3 attempts.*" + _HINT
NEVER_ENDING = {
    "rate-limited": _KEPT_FAILING.format(status=429, detail="injected fault: rate-limited"),
    "rate-limited-retry-after": _KEPT_FAILING.format(status=429, detail="injected fault: rate-limited-retry-after"),
    "server-error-500": _KEPT_FAILING.format(status=500, detail="injected fault: server-error-500"),
    "bad-gateway-502": _KEPT_FAILING.format(status=502, detail="Error code: 502"),
    "unavailable-503": _KEPT_FAILING.format(status=503, detail="injected fault: unavailable-503"),
    "connection-reset": rf"the LLM server at {_SERVER} could not be reached \(6 attempts\)" + _HINT,
    "slower-than-timeout": rf"the LLM server at {_SERVER} timed out \(6 attempts\)" + _HINT,
    "garbled-body": rf"the LLM server at {_SERVER} answered with something that is not a chat completion "
    r"\(6 attempts\): invalid JSON: .+ \(character \d+\)" + _HINT,
    "malformed-json": _NO_USABLE_ANSWER,
    "cut-at-max-tokens": _NO_USABLE_ANSWER,
    "schema-violation": _NO_USABLE_ANSWER,
    "refusal": r"the model refused: I can't help with that request\." + _HINT,
}


@pytest.mark.parametrize("fault", sorted(NEVER_ENDING))
def test_a_fault_that_never_ends_fails_the_chunk_with_a_one_line_reason(drafting: Any, fault: str) -> None:
    outcome, _ = drafting(FaultyModel(only=fault, always=True, slow_seconds=0.5), timeout=0.2)

    assert outcome.status == "partial"
    assert outcome.case is not None and outcome.case.drafting.failures
    (failure,) = outcome.case.drafting.failures
    assert re.fullmatch(r"chunk 1/1: " + NEVER_ENDING[fault], failure), failure
    assert "\n" not in failure


def test_an_invented_quote_is_rejected_and_the_real_ones_kept(drafting: Any) -> None:
    outcome, _ = drafting(FaultyModel(only="invented-quote", always=True))

    assert outcome.case is not None and outcome.case.claims
    assert [r.draft.quote for r in outcome.case.rejected] == [INVENTED_QUOTE]
    assert "quote not found in the document" in outcome.case.rejected[0].reason


def test_an_empty_claim_list_drafts_a_case_with_no_claims(drafting: Any) -> None:
    outcome, _ = drafting(FaultyModel(only="empty-answer", always=True))

    assert outcome.status == "drafted"
    assert outcome.case is not None and outcome.case.claims == []


def test_every_kind_of_fault_has_a_focused_test() -> None:
    covered = {*TRANSIENT, *UNUSABLE, *NEVER_ENDING, "invented-quote", "empty-answer"}
    assert covered == set(FAULTS)


def test_a_refusal_is_not_cached_so_drafting_again_can_succeed(drafting: Any) -> None:
    refused, _ = drafting(FaultyModel(only="refusal", always=True))
    again, requests = drafting(FaultyModel(enabled=False))

    assert refused.status == "partial"
    assert again.status == "drafted"
    assert requests == 2  # the refused extraction, asked again, and its questions


def test_a_body_that_is_not_a_completion_is_not_cached(drafting: Any) -> None:
    broken, _ = drafting(FaultyModel(only="garbled-body", always=True))
    again, _ = drafting(FaultyModel(enabled=False))

    assert broken.status == "partial"
    assert again.status == "drafted"


# ----------------------------------------------------------------------------------------------- probing under faults


def _client(url: str, capabilities: dict[str, str]) -> LLMClient:
    settings = Settings(model="fake-model", base_url=url, timeout=2, retry=RetryPolicy(wait_scale=0.001))
    return LLMClient(settings, capabilities=capabilities)


def _draft_request() -> list[dict[str, str]]:
    return [{"role": "system", "content": "List claims."}, {"role": "user", "content": "<<<DOCUMENT x>>>\nA.\n"}]


def test_a_server_failing_every_way_of_asking_is_not_remembered_as_refusing_them() -> None:
    capabilities: dict[str, str] = {}
    with quiet(FakeLLMServer(lambda body: Reply(500, {"error": {"message": "down"}}))) as server:
        client = _client(server.url, capabilities)
        with pytest.raises(ModelAPIError, match="HTTP 500"):
            client.structured(_draft_request(), DraftClaims)

    assert capabilities == {}


def test_a_server_refusing_json_schema_alone_is_still_remembered_as_refusing_it() -> None:
    def llama_like(body: dict[str, Any]) -> Reply:
        if (body.get("response_format") or {}).get("type") == "json_schema":
            return Reply(500, {"error": {"message": "json_schema is not supported"}})
        return Reply(body=completion(json.dumps({"claims": []})))

    capabilities: dict[str, str] = {}
    with quiet(FakeLLMServer(llama_like)) as server:
        _client(server.url, capabilities).structured(_draft_request(), DraftClaims)

    assert capabilities == {
        f"{server.url} fake-model !json_schema": "refused",
        f"{server.url} fake-model": "json_object",
    }


def test_the_fake_model_answers_a_re_ask_as_it_would_the_question() -> None:
    body = {"messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "y"}]}
    reask = {"messages": [*body["messages"], {"role": "user", "content": "Your reply did not validate"}]}
    assert echo_answer(body) == FaultyModel(enabled=False)(reask).body["choices"][0]["message"]["content"]
