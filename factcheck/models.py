"""The contracts between factcheck's stages.

Data flows one way: documents -> extract -> questions -> review -> report. Each stage takes and returns the models
defined here. Field descriptions of the ``Draft*`` models double as the JSON schema the LLM sees, so they are written
for that reader.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1


class Contract(BaseModel):
    """Base of every stored model: unknown fields are an error, so a hand-edited file cannot drift silently."""

    model_config = ConfigDict(extra="forbid")


class Draft(BaseModel):
    """Base of what the model answers: extra keys are dropped, since models add them freely and they are harmless."""

    model_config = ConfigDict(extra="ignore")


# --------------------------------------------------------------------------------------------------- documents


class Span(Contract):
    """A half-open range ``[start, end)`` of character offsets into a document's stored text."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before its start {self.start}")
        return self

    def __len__(self) -> int:
        return self.end - self.start


MediaType = Literal["text/plain", "text/markdown", "text/html"]


class Document(Contract):
    """A source document, normalised. Every offset elsewhere in a case points into ``text``."""

    slug: str = Field(description="Stable, filesystem-safe name of the case folder.")
    title: str
    source: str = Field(description="Path or URL the document was read from.")
    media_type: MediaType
    text: str
    sha256: str = Field(description="sha256 of the normalised text, hex.")
    paragraphs: list[Span]

    def paragraph_index(self, offset: int) -> int:
        """Index of the paragraph that contains ``offset`` (the nearest one before it if it falls between two)."""
        index = 0
        for i, span in enumerate(self.paragraphs):
            if span.start <= offset:
                index = i
            else:
                break
        return index


# --------------------------------------------------------------------------------------------------- drafting


class ClaimKind(StrEnum):
    statistic = "statistic"
    date_time = "date_time"
    event = "event"
    legal_official_action = "legal_official_action"
    attribution = "attribution"
    causal = "causal"
    comparison = "comparison"
    prediction = "prediction"
    characterisation = "characterisation"
    other = "other"


class Nature(StrEnum):
    fact = "fact"
    opinion = "opinion"


class DraftClaim(Draft):
    """One claim as the model proposes it. Nothing here is trusted until the program grounds the quote."""

    quote: str = Field(
        description="The exact words of the document that make the claim, copied character for character, "
        "one sentence or less. Do not paraphrase, shorten with '...', or add anything."
    )
    statement: str = Field(
        description="The claim restated so it stands alone: replace pronouns and phrases like 'the group' with "
        "the names they refer to, and include the time and place the document implies."
    )
    kind: ClaimKind = Field(description="What sort of claim this is.")
    nature: Nature = Field(
        description="'fact' if evidence could show it true or false; 'opinion' for judgement, advocacy, "
        "prediction of policy effects or value statements."
    )
    checkworthiness: int = Field(
        ge=1,
        le=5,
        description="1-5: how much it matters whether this is true, and how likely readers are to be misled.",
    )
    entities: list[str] = Field(default_factory=list, description="People, organisations, places, laws named.")
    time_reference: str | None = Field(
        default=None, description="The date or period the claim is about, as the document states it, if any."
    )


class DraftClaims(Draft):
    """The model's answer to the extraction prompt for one chunk of a document."""

    claims: list[DraftClaim] = Field(description="Every checkable claim and every opinion in the chunk.")


class DraftQuestion(Draft):
    question: str = Field(description="A question a fact-checker must answer to rate the claim.")
    establishes: str = Field(description="What answering it would establish about the claim.")
    primary_sources: list[str] = Field(
        min_length=1,
        description="Primary sources that could settle it: named documents, registers, datasets, officials.",
    )
    search_query: str = Field(description="A web search query likely to find those sources.")


class DraftClaimQuestions(Draft):
    claim_id: str = Field(description="The id of the claim, exactly as given.")
    questions: list[DraftQuestion] = Field(min_length=2, max_length=5)


class DraftQuestionBatch(Draft):
    """The model's answer to the questions prompt for one batch of claims."""

    items: list[DraftClaimQuestions] = Field(description="One entry per claim given, in the same order.")


# --------------------------------------------------------------------------------------------------- the case


class Grounding(Contract):
    """How the program found the model's quote in the text."""

    method: Literal["exact", "normalised", "fuzzy", "reviewer"]
    score: float = Field(ge=0, le=1, description="1.0 for exact and normalised matches.")
    model_quote: str | None = Field(
        default=None, description="What the model wrote, kept when it differs from the text found."
    )


class Question(Contract):
    question: str
    establishes: str
    primary_sources: list[str]
    search_query: str


class Claim(Contract):
    """A claim grounded in the document: ``document.text[start:end] == quote`` always holds."""

    id: str
    statement: str
    quote: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    paragraph: int = Field(ge=0)
    also_at: list[Span] = Field(default_factory=list, description="Other places the same words stand.")
    kind: ClaimKind
    nature: Nature
    checkworthiness: int = Field(ge=1, le=5)
    entities: list[str] = Field(default_factory=list)
    time_reference: str | None = None
    grounding: Grounding
    origin: Literal["model", "reviewer"] = "model"
    model: str | None = Field(default=None, description="The model that drafted the claim.")
    prompt_sha256: str | None = Field(default=None, description="sha256 of the extraction prompt it answered.")
    questions: list[Question] = Field(default_factory=list)
    questions_error: str | None = Field(
        default=None, description="Why questions could not be drafted, when they could not."
    )


class RejectedDraft(Contract):
    """A model draft that did not become a claim, and why."""

    draft: DraftClaim
    reason: str
    chunk: int


class PromptRef(Contract):
    name: str
    version: str
    sha256: str


class Usage(Contract):
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            requests=self.requests + other.requests,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


class RecordingSource(Contract):
    """Where a recorded exchange came from. An authored fixture is never model output."""

    kind: Literal["recorded", "authored"]
    server: str | None = Field(default=None, description="Base URL of the server it was recorded from.")
    model: str | None = None
    date: str | None = Field(default=None, description="ISO date of the recording or of the authoring.")
    note: str | None = None

    def describe(self) -> str:
        if self.kind == "authored":
            return f"authored by hand as a fixture ({self.date or 'undated'}), not model output"
        return f"recorded from {self.model or 'unknown model'} at {self.server or 'unknown server'} on {self.date}"


class Drafting(Contract):
    """How the drafts in a case were made: enough to reproduce or distrust them."""

    model: str
    base_url: str
    mode: Literal["live", "record", "replay", "cache", "batch"] = Field(
        description="live: answered by the server; record: answered live and saved; replay: answered from saved "
        "exchanges; cache: every answer came from the local response cache; batch: answered through the OpenAI "
        "Batch API."
    )
    structured_output: list[str] = Field(
        default_factory=list, description="Structured-output modes the server accepted."
    )
    prompts: list[PromptRef]
    usage: Usage
    recordings: list[RecordingSource] = Field(
        default_factory=list, description="Provenance of every saved exchange a replay answered from."
    )
    cached_responses: int = 0
    started_at: datetime
    finished_at: datetime
    failures: list[str] = Field(default_factory=list, description="Chunks or batches whose drafting failed.")


class Case(Contract):
    """Everything drafted for one document: the document, its claims, what was rejected and how it was made."""

    schema_version: int = SCHEMA_VERSION
    document: Document
    claims: list[Claim]
    rejected: list[RejectedDraft] = Field(default_factory=list)
    drafting: Drafting
    scale: str = Field(default="newsroom", description="Name of the rating scale reviewers use for this case.")

    def claim(self, claim_id: str) -> Claim | None:
        return next((c for c in self.claims if c.id == claim_id), None)


# --------------------------------------------------------------------------------------------------- ratings


class Rating(Contract):
    key: str = Field(description="Short stable key, typed by reviewers and stored in the log.")
    label: str
    definition: str
    value: int | None = Field(
        description="ClaimReview ratingValue, higher is truer; null for a rating off the numeric scale "
        "(published with its alternateName only)."
    )
    needs_evidence: bool = Field(default=True, description="A verdict needs a source or an explicit 'no source'.")
    publish: bool = Field(
        default=True,
        description="Whether a claim with this verdict is published as a ClaimReview; false for a rating that is "
        "not a fact-check, such as 'opinion'.",
    )


class RatingScale(Contract):
    name: str
    title: str
    ratings: list[Rating]
    best: int
    worst: int

    def rating(self, key: str) -> Rating | None:
        key = key.strip().lower()
        return next((r for r in self.ratings if r.key == key), None)


# --------------------------------------------------------------------------------------------------- review log


class Source(Contract):
    url: str
    title: str
    excerpt: str | None = None


class _Event(Contract):
    event_id: str = Field(description="Unique id; two reviewers' logs merge on it.")
    at: datetime
    reviewer: str
    claim_id: str


class VerdictEvent(_Event):
    action: Literal["verdict"] = "verdict"
    rating: str
    note: str | None = None
    no_source: bool = Field(default=False, description="The reviewer states that no source could be cited.")
    previous: str | None = Field(default=None, description="This reviewer's rating before, if any.")
    statement: str | None = Field(
        default=None,
        description="The wording the verdict was given on; a verdict counts only while the claim still says this. "
        "Absent from logs written before it was recorded.",
    )


class NoteEvent(_Event):
    action: Literal["note"] = "note"
    text: str


class SourceEvent(_Event):
    action: Literal["source"] = "source"
    source: Source


class EditEvent(_Event):
    action: Literal["edit"] = "edit"
    statement: str
    previous: str


class RejectEvent(_Event):
    action: Literal["reject"] = "reject"
    reason: Literal["not_checkable", "duplicate", "misquoted", "other"]
    detail: str | None = None


class RestoreEvent(_Event):
    action: Literal["restore"] = "restore"


class AddClaimEvent(_Event):
    action: Literal["add_claim"] = "add_claim"
    claim: Claim


ReviewEvent = Annotated[
    VerdictEvent | NoteEvent | SourceEvent | EditEvent | RejectEvent | RestoreEvent | AddClaimEvent,
    Field(discriminator="action"),
]


class ReviewerVerdict(Contract):
    reviewer: str
    rating: str
    note: str | None = None
    no_source: bool = False
    at: datetime


class SetAside(Contract):
    """A verdict that no longer counts: the wording changed after it was given, or its reviewer rejected the claim."""

    verdict: ReviewerVerdict
    cause: Literal["edit", "reject"]
    by: str = Field(description="The reviewer whose edit or rejection set it aside.")
    at: datetime


class ClaimState(Contract):
    """A claim as the review log leaves it: folded, never stored."""

    claim: Claim
    statement: str = Field(description="The current wording, after reviewers' edits.")
    verdicts: dict[str, ReviewerVerdict] = Field(
        default_factory=dict, description="Latest verdict per reviewer, given on the current wording."
    )
    notes: list[NoteEvent] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    rejected: RejectEvent | None = Field(
        default=None, description="The rejection that stands; null while another reviewer's verdict disputes it."
    )
    history: list[ReviewEvent] = Field(default_factory=list)
    rejection: RejectEvent | None = Field(
        default=None, exclude=True, description="The latest rejection not since restored, disputed or not."
    )
    set_aside: list[SetAside] = Field(
        default_factory=list, exclude=True, description="Verdicts that no longer count, in the order set aside."
    )

    @property
    def ratings(self) -> set[str]:
        return {v.rating for v in self.verdicts.values()}

    @property
    def disputed(self) -> bool:
        """Reviewers' verdicts differ, or one reviewer rejected the claim while another's verdict stands."""
        return len(self.ratings) > 1 or (self.rejection is not None and bool(self.verdicts))

    @property
    def reviewed(self) -> bool:
        return bool(self.verdicts) or self.rejected is not None

    @property
    def rating(self) -> str | None:
        """The agreed rating, or None while unreviewed or disputed."""
        ratings = self.ratings
        return next(iter(ratings)) if len(ratings) == 1 and not self.disputed else None

    @property
    def reworded(self) -> bool:
        """Back to pending because the wording changed after its verdicts were given."""
        last = self.set_aside[-1] if self.set_aside else None
        return not self.verdicts and self.rejection is None and last is not None and last.cause == "edit"

    def sources_by(self, reviewer: str) -> list[Source]:
        """The sources ``reviewer`` cited on this claim, in the order cited."""
        return [e.source for e in self.history if isinstance(e, SourceEvent) and e.reviewer == reviewer]


class ReviewState(Contract):
    """The whole case under review, folded from the log."""

    case: Case
    claims: list[ClaimState]
    reviewers: list[str]
    warnings: list[str] = Field(default_factory=list, description="Log lines that were skipped, and why.")
    events: int = 0

    def get(self, claim_id: str) -> ClaimState | None:
        return next((c for c in self.claims if c.claim.id == claim_id), None)
