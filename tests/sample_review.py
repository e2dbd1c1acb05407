"""A fixed review of the sample case, shared by the report tests: two reviewers, a changed verdict, a dispute, a
note, a source, an edit, a rejection, and a model draft that failed grounding."""

from __future__ import annotations

from conftest import make_case
from review_helpers import at

from factcheck.models import (
    Case,
    ClaimKind,
    DraftClaim,
    EditEvent,
    Nature,
    NoteEvent,
    RatingScale,
    RejectedDraft,
    RejectEvent,
    ReviewEvent,
    ReviewState,
    Source,
    SourceEvent,
    VerdictEvent,
)
from factcheck.ratings import load_scale
from factcheck.review import fold

SEED_SOURCE = "seeds/tren-de-aragua-terrorist-designation.txt"


def newsroom() -> RatingScale:
    return load_scale("newsroom")


def report_case() -> Case:
    """The sample case, with a machine-independent source path and one draft the program could not ground."""
    case = make_case()
    failed = RejectedDraft(
        draft=DraftClaim(
            quote="Tren de Aragua has 50,000 members",
            statement="Tren de Aragua has 50,000 members",
            kind=ClaimKind.statistic,
            nature=Nature.fact,
            checkworthiness=4,
        ),
        reason="the quote is not in the document",
        chunk=0,
    )
    return case.model_copy(
        update={
            "document": case.document.model_copy(update={"source": SEED_SOURCE}),
            "drafting": case.drafting.model_copy(update={"structured_output": ["json_schema"]}),
            "rejected": [failed],
        }
    )


def claim_ids(case: Case) -> tuple[str, str, str, str]:
    """Ids of the sample claims: the 5,000 members, the RICO charges, the 2014 prison start, the opinion."""
    members, rico, prison, opinion = (c.id for c in case.claims)
    return members, rico, prison, opinion


def sample_events(case: Case) -> list[ReviewEvent]:
    members, rico, prison, opinion = claim_ids(case)
    source = Source(
        url="https://insightcrime.org/venezuela-organized-crime-news/tren-de-aragua/",
        title="InSight Crime: Tren de Aragua",
        excerpt="Estimates of its membership range from 2,000 to 5,000.",
    )
    edited = "In April 2025, the U.S. filed RICO charges against 27 members and associates of Tren de Aragua"
    return [
        SourceEvent(event_id="e01", at=at(0), reviewer="alice", claim_id=members, source=source),
        VerdictEvent(
            event_id="e02",
            at=at(1),
            reviewer="alice",
            claim_id=members,
            rating="mostly-true",
            note="Estimates vary; 5,000 is the upper end.",
        ),
        VerdictEvent(event_id="e03", at=at(10), reviewer="bob", claim_id=members, rating="true", no_source=False),
        VerdictEvent(
            event_id="e04", at=at(12), reviewer="bob", claim_id=members, rating="mostly-true", previous="true"
        ),
        EditEvent(
            event_id="e05",
            at=at(20),
            reviewer="alice",
            claim_id=rico,
            statement=edited,
            previous=case.claims[1].statement,
        ),
        VerdictEvent(
            event_id="e06",
            at=at(21),
            reviewer="alice",
            claim_id=rico,
            rating="true",
            no_source=True,
            note="The indictment is on the DOJ site.",
        ),
        VerdictEvent(
            event_id="e07",
            at=at(30),
            reviewer="bob",
            claim_id=rico,
            rating="mixed",
            no_source=True,
            note="Not all 27 defendants are members.",
        ),
        NoteEvent(event_id="e08", at=at(40), reviewer="bob", claim_id=prison, text="Sources date its start 2005-2014."),
        RejectEvent(
            event_id="e09",
            at=at(50),
            reviewer="alice",
            claim_id=opinion,
            reason="not_checkable",
            detail="A prediction about policy effects.",
        ),
    ]


def reviewed_state() -> ReviewState:
    case = report_case()
    return fold(case, sample_events(case))
