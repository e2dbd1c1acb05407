"""Claims a reviewer adds because the model missed them: the pasted quote is grounded like any draft's.

The reviewer's words are looked for exactly, then after folding whitespace and typographic quotes; a quote that is
not there word for word is refused, so a reviewer's claim always quotes the document word for word.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from factcheck.errors import UserError
from factcheck.extract import claim_id
from factcheck.grounding import ground_quote, occurrences
from factcheck.models import (
    AddClaimEvent,
    Case,
    Claim,
    ClaimKind,
    ClaimState,
    Grounding,
    Nature,
    ReviewState,
    Span,
)
from factcheck.review import check_reviewer, clip, new_event_id, utc_now


def ground_pasted_quote(case: Case, quote: str) -> tuple[int, int, str]:
    """Where a quote a reviewer pasted stands: an exact match, else one after folding whitespace and typography.

    Returns the offsets and the document's own words there. A quote not there word for word is refused, with
    the closest words shown, when an approximate match finds some, so the reviewer can paste those.
    """
    text = case.document.text
    found = ground_quote(text, quote, fuzzy=False)
    if found is not None:
        return found.start, found.end, text[found.start : found.end]
    closest = ground_quote(text, quote)  # never a claim's grounding: only the words to suggest instead
    if closest is None:
        raise UserError("that quote is not in the document", hint="paste the words exactly as they stand")
    words = text[closest.start : closest.end]
    raise UserError("that quote is not in the document word for word", hint=f"closest: {clip(words, 80)!r}")


def claim_at(state: ReviewState, start: int, end: int) -> ClaimState | None:
    """The claim that stands exactly on ``[start, end)``, if any."""
    return next((c for c in state.claims if (c.claim.start, c.claim.end) == (start, end)), None)


def overlapping_claims(state: ReviewState, start: int, end: int) -> list[ClaimState]:
    """Claims whose words overlap ``[start, end)`` without standing exactly there, in document order."""
    return [
        c
        for c in state.claims
        if c.claim.start < end and start < c.claim.end and (c.claim.start, c.claim.end) != (start, end)
    ]


def add_claim_event(
    state: ReviewState,
    *,
    start: int,
    end: int,
    pasted: str,
    statement: str,
    kind: ClaimKind,
    nature: Nature,
    checkworthiness: int,
    reviewer: str,
    at: datetime | None = None,
) -> AddClaimEvent:
    """The event that adds a claim a reviewer found, grounded at ``[start, end)`` of the document.

    ``pasted`` is what the reviewer typed: the grounding is exact only when it is the document's text verbatim.
    """
    document = state.case.document
    quote = document.text[start:end]
    taken = claim_at(state, start, end)
    if taken is not None:
        raise UserError(f"those words are already claim {taken.claim.id}")
    method: Literal["exact", "normalised"] = "exact" if pasted.strip() == quote else "normalised"
    claim = Claim(
        # The id a draft of these words would have, marked r: a reviewer's claim never takes a draft's id.
        id="r" + claim_id(document, start, end).removeprefix("c"),
        statement=statement.strip() or quote,
        quote=quote,
        start=start,
        end=end,
        paragraph=document.paragraph_index(start),
        also_at=[Span(start=o, end=o + len(quote)) for o in occurrences(document.text, quote) if o != start],
        kind=kind,
        nature=nature,
        checkworthiness=checkworthiness,
        grounding=Grounding(method=method, score=1.0, model_quote=None if method == "exact" else pasted.strip()),
        origin="reviewer",
    )
    return AddClaimEvent(
        event_id=new_event_id(), at=at or utc_now(), reviewer=check_reviewer(reviewer), claim_id=claim.id, claim=claim
    )
