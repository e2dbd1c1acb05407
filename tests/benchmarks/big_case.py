"""A case of many claims and a long review log, built directly (no model), for timing the report and the fold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from articles import article

from factcheck.documents import document_from_bytes
from factcheck.extract import claim_id
from factcheck.models import (
    Case,
    Claim,
    ClaimKind,
    Drafting,
    Grounding,
    Nature,
    NoteEvent,
    PromptRef,
    Question,
    ReviewEvent,
    Source,
    SourceEvent,
    Usage,
    VerdictEvent,
)

_SENTENCE = re.compile(r"[^.!?\n]{30,240}[.!?]")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def big_case(claims: int) -> Case:
    """A case whose ``claims`` claims are sentences of one long generated article, each with two questions."""
    document = document_from_bytes(article(7, claims * 160).encode(), source="big-case.txt", media_type="text/plain")
    sentences = list(_SENTENCE.finditer(document.text))[:claims]
    question = Question(
        question="What does the primary record say?",
        establishes="Whether the figure matches the record.",
        primary_sources=["the official statistical release"],
        search_query="official statistics release",
    )
    made = []
    for index, match in enumerate(sentences):
        start = match.start() + len(match.group()) - len(match.group().lstrip())
        quote = document.text[start : match.end()]
        made.append(
            Claim(
                id=claim_id(document, start, match.end()),
                statement=quote,
                quote=quote,
                start=start,
                end=match.end(),
                paragraph=document.paragraph_index(start),
                kind=ClaimKind.statistic,
                nature=Nature.fact if index % 4 else Nature.opinion,
                checkworthiness=1 + index % 5,
                entities=["The national statistics office"],
                grounding=Grounding(method="exact", score=1.0),
                questions=[question, question] if index % 4 else [],
            )
        )
    drafting = Drafting(
        model="fake-model", base_url="http://127.0.0.1:9/v1", mode="live",
        prompts=[PromptRef(name="extract", version="1", sha256="0" * 64)],
        usage=Usage(requests=1, prompt_tokens=1, completion_tokens=1), started_at=WHEN, finished_at=WHEN,
    )  # fmt: skip
    return Case(document=document, claims=made, drafting=drafting)


def review_log(case: Case, events: int) -> list[ReviewEvent]:
    """``events`` events spread over the case's claims by five reviewers: verdicts (some changed), notes, sources."""
    reviewers = ["ana", "ben", "chidi", "dana", "eli"]
    ratings = ["true", "mostly-true", "mixed", "false"]
    log: list[ReviewEvent] = []
    for n in range(events):
        claim = case.claims[n % len(case.claims)]
        common = {
            "event_id": f"e{n:07d}", "at": WHEN + timedelta(seconds=n), "reviewer": reviewers[n % 5],
            "claim_id": claim.id,
        }  # fmt: skip
        if n % 10 == 7:
            log.append(NoteEvent(text=f"Checked against the register, entry {n}.", **common))
        elif n % 10 == 9:
            source = Source(url=f"https://stats.example.org/release/{n % 300}", title="Statistical release")
            log.append(SourceEvent(source=source, **common))
        else:
            log.append(VerdictEvent(rating=ratings[n % 4], note="Matches the release.", **common))
    return log
