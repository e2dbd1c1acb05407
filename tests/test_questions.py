"""Verification questions: batches of checkable claims, local context only, coverage checked, failures kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import SEED
from fakeserver import Reply, echo_answer, prompt_chars
from helpers_drafting import (
    error,
    fast_client,
    fast_session,
    ok,
    requests_of,
    serving,
    user_messages,
)

from factcheck.documents import load_document
from factcheck.draft import DraftOptions, draft_source
from factcheck.extract import ground_drafts
from factcheck.models import Claim, Document, DraftClaim, Nature
from factcheck.prompts import load_prompt
from factcheck.questions import batches_of, draft_questions, source_name
from factcheck.store import load_case

SEED_DOC = load_document(str(SEED))
QUESTION = {
    "question": "What does the indictment say?",
    "establishes": "Whether the charges were filed.",
    "primary_sources": ["the indictment"],
    "search_query": "indictment",
}


def seed_claims(count: int = 10, opinions_every: int = 3) -> list[Claim]:
    """Claims over the first sentences of the sample seed's paragraphs; every third one an opinion."""
    drafts = []
    for i, span in enumerate(SEED_DOC.paragraphs[1:count + 1]):  # fmt: skip
        sentence = SEED_DOC.text[span.start : span.end].split(". ")[0]
        nature = "opinion" if i % opinions_every == opinions_every - 1 else "fact"
        drafts.append(
            (0, DraftClaim(quote=sentence, statement=f"Claim {i}.", kind="event", nature=nature, checkworthiness=3))
        )
    claims, rejected = ground_drafts(SEED_DOC, drafts, {})
    assert not rejected
    return claims


def items_of(body: dict[str, Any]) -> list[dict[str, str]]:
    user = user_messages(body)[0]
    return list(json.loads(user[user.index("[") :]))


def ask(document: Document, claims: list[Claim], responder: Any, batch_size: int = 4) -> Any:
    with serving(responder) as server:
        result = draft_questions(
            document, claims, fast_client(server.url), load_prompt("questions"), batch_size=batch_size
        )
    return result, server.requests


def echo(body: dict[str, Any]) -> Reply:
    return ok(echo_answer(body))


# ----------------------------------------------------------------------------------------------- batches


def test_only_checkable_claims_are_sent() -> None:
    claims = seed_claims()
    opinions = {c.id for c in claims if c.nature is Nature.opinion}

    result, requests = ask(SEED_DOC, claims, echo)

    sent = [item["claim_id"] for body in requests for item in items_of(body)]
    assert opinions
    assert not opinions & set(sent)
    assert sorted(sent) == sorted(c.id for c in claims if c.nature is Nature.fact)
    assert all(not c.questions for c in result.claims if c.nature is Nature.opinion)


def test_checkable_claims_are_sent_in_batches_of_the_given_size() -> None:
    claims = seed_claims(count=12)
    facts = [c for c in claims if c.nature is Nature.fact]

    result, requests = ask(SEED_DOC, claims, echo, batch_size=3)

    assert [len(items_of(r)) for r in requests] == [len(b) for b in batches_of(claims, 3)]
    assert all(len(items_of(r)) <= 3 for r in requests)
    assert result.batches == len(requests) == -(-len(facts) // 3)


def test_every_checkable_claim_gets_its_questions() -> None:
    result, _ = ask(SEED_DOC, seed_claims(), echo)

    for claim in result.claims:
        if claim.nature is Nature.fact:
            assert len(claim.questions) == 2
            assert claim.questions_error is None


def test_claims_that_already_have_questions_are_not_asked_again() -> None:
    first, _ = ask(SEED_DOC, seed_claims(), echo)

    second, requests = ask(SEED_DOC, first.claims, echo)

    assert requests == []
    assert second.claims == first.claims


# ----------------------------------------------------------------------------------------------- context


def test_a_request_carries_local_context_never_the_whole_document(tmp_path: Path) -> None:
    paragraphs = [
        f"Paragraph {i}: the council said the budget for district {i} rose by {i} percent this year, "
        f"and the mayor said parking fees in district {i} will double next spring." + " Background." * 40
        for i in range(300)
    ]
    text = "\n\n".join(paragraphs) + "\n"
    document = load_document(_write(tmp_path / "long.txt", text))
    drafts = [
        (0, DraftClaim(quote=f"the budget for district {i} rose by {i} percent this year", statement=f"Budget {i}.",
                       kind="statistic", nature="fact", checkworthiness=4))
        for i in range(0, 300, 10)
    ]  # fmt: skip
    claims, _ = ground_drafts(document, drafts, {})

    _, requests = ask(document, claims, echo, batch_size=8)

    assert len(requests) == 4
    assert all(prompt_chars(r) < len(document.text) / 20 for r in requests)
    first = items_of(requests[0])[1]
    assert first["preceding_text"].endswith("Paragraph 10: the council said")


def test_the_document_is_named_by_its_file_name_not_the_path_typed() -> None:
    assert source_name("/home/ana/work/seeds/budget.txt") == "budget.txt"
    assert source_name("seeds/budget.txt") == "budget.txt"
    assert source_name("https://example.com/news/budget.html") == "https://example.com/news/budget.html"


# ----------------------------------------------------------------------------------------------- coverage


def test_an_answer_missing_a_claim_is_re_asked_naming_it() -> None:
    claims = seed_claims(count=4, opinions_every=99)
    served: list[int] = []

    def forgets_the_last(body: dict[str, Any]) -> Reply:
        served.append(1)
        items = items_of(body)
        if len(served) == 1:
            items = items[:-1]
        return ok({"items": [{"claim_id": i["claim_id"], "questions": [QUESTION, QUESTION]} for i in items]})

    result, requests = ask(SEED_DOC, claims, forgets_the_last)

    assert len(requests) == 2
    assert f"no questions for claim_id {claims[-1].id}" in user_messages(requests[1])[-1]
    assert all(len(c.questions) == 2 for c in result.claims)
    assert result.failures == []


def test_an_answer_about_an_unknown_claim_is_re_asked() -> None:
    claims = seed_claims(count=2, opinions_every=99)
    answers = iter([["c-invented", claims[0].id, claims[1].id], [claims[0].id, claims[1].id]])

    def invents_one(body: dict[str, Any]) -> Reply:
        return ok({"items": [{"claim_id": i, "questions": [QUESTION, QUESTION]} for i in next(answers)]})

    _, requests = ask(SEED_DOC, claims, invents_one)

    assert "claim_id c-invented was not given" in user_messages(requests[1])[-1]


# ----------------------------------------------------------------------------------------------- failures


def test_a_batch_that_fails_keeps_the_error_on_its_claims() -> None:
    claims = seed_claims(count=8, opinions_every=99)
    served: list[int] = []

    def second_batch_fails(body: dict[str, Any]) -> Reply:
        served.append(1)
        if claims[4].id in json.dumps(body):
            return error(400, "prompt too long")
        return echo(body)

    result, _ = ask(SEED_DOC, claims, second_batch_fails, batch_size=4)

    assert [bool(c.questions) for c in result.claims] == [True] * 4 + [False] * 4
    assert all("prompt too long" in (c.questions_error or "") for c in result.claims[4:])
    assert all(c.questions_error is None for c in result.claims[:4])
    assert len(result.failures) == 1


def test_a_case_whose_question_batch_failed_is_still_saved_as_partial(tmp_path: Path) -> None:
    def questions_fail(body: dict[str, Any]) -> Reply:
        if "claim_id" in json.dumps(body["messages"][-1]):
            return error(400, "prompt too long")
        return echo(body)

    with serving(questions_fail) as server, fast_session(server.url) as session:
        outcome = draft_source(str(SEED), session, DraftOptions(reports=tmp_path))

    assert outcome.status == "partial"
    assert outcome.folder is not None
    saved = load_case(outcome.folder)
    facts = [c for c in saved.claims if c.nature is Nature.fact]
    assert facts
    assert all(c.questions_error and "prompt too long" in c.questions_error for c in facts)
    assert saved.drafting.failures
    assert requests_of(server.requests, "DraftClaims")


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)
