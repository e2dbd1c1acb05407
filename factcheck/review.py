"""Review: the review state folded from the log, and the rules every recorded action obeys.

Nothing here touches the terminal. The interactive session (:mod:`factcheck.session`) and the ``verdict`` and
``import`` commands build their events with these helpers and append them to the case's log; the state is always
folded from that log, never stored beside it.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from factcheck import store
from factcheck.errors import UserError
from factcheck.models import (
    AddClaimEvent,
    Case,
    Claim,
    ClaimState,
    EditEvent,
    NoteEvent,
    RatingScale,
    RejectEvent,
    RestoreEvent,
    ReviewerVerdict,
    ReviewEvent,
    ReviewState,
    SetAside,
    Source,
    SourceEvent,
    VerdictEvent,
)
from factcheck.ratings import load_scale

Only = Literal["unreviewed", "disputed", "all"]
MAX_TEXT_CHARS = 4_000
"""The longest note or excerpt a reviewer may record."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_event_id() -> str:
    return uuid.uuid4().hex


# --------------------------------------------------------------------------------------------------- reviewers


def default_reviewer() -> str:
    """``$FACTCHECK_REVIEWER``, else the login name."""
    name = os.environ.get("FACTCHECK_REVIEWER", "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = ""
    return check_reviewer(name)


def check_reviewer(name: str) -> str:
    name = name.strip()
    if not name:
        raise UserError("no reviewer name", hint="pass --reviewer NAME or set FACTCHECK_REVIEWER")
    if len(name) > 64 or not name.isprintable():
        raise UserError(f"{name[:64]!r} is not a usable reviewer name (printable, at most 64 characters)")
    return name


# --------------------------------------------------------------------------------------------------- fold


@dataclass
class _Folding:
    claim: Claim
    statement: str
    verdicts: dict[str, VerdictEvent] = field(default_factory=dict)
    notes: list[NoteEvent] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    rejection: RejectEvent | None = None
    set_aside: list[SetAside] = field(default_factory=list)
    history: list[ReviewEvent] = field(default_factory=list)
    edited: EditEvent | None = None

    def apply(self, event: ReviewEvent) -> None:
        self.history.append(event)
        if isinstance(event, VerdictEvent):
            if event.statement is None or event.statement == self.statement:
                self.verdicts[event.reviewer] = event
            else:
                # Given on a wording that was changed before it reached the log: the reviewer never saw this one.
                self._given_on_other_wording(event)
        elif isinstance(event, NoteEvent):
            self.notes.append(event)
        elif isinstance(event, SourceEvent):
            if all(s.url != event.source.url for s in self.sources):
                self.sources.append(event.source)
        elif isinstance(event, EditEvent):
            # A verdict applies to the wording it was given on: new wording waits for new verdicts.
            if event.statement != self.statement:
                self._set_aside(list(self.verdicts), event)
            self.statement = event.statement
            self.edited = event
        elif isinstance(event, RejectEvent):
            self._set_aside([event.reviewer] if event.reviewer in self.verdicts else [], event)
            self.rejection = event
        elif isinstance(event, RestoreEvent):
            self.rejection = None

    def _set_aside(self, reviewers: list[str], by: EditEvent | RejectEvent) -> None:
        for name in reviewers:
            verdict = _reviewer_verdict(self.verdicts.pop(name))
            self.set_aside.append(SetAside(verdict=verdict, cause=by.action, by=by.reviewer, at=by.at))

    def _given_on_other_wording(self, event: VerdictEvent) -> None:
        by: EditEvent | VerdictEvent = self.edited or event  # no edit: a merged log, its verdict named other words
        self.set_aside.append(SetAside(verdict=_reviewer_verdict(event), cause="edit", by=by.reviewer, at=by.at))

    def state(self) -> ClaimState:
        # Every part was validated when it was read or made; building the model again would only cost time.
        # A rejection while another reviewer's verdict stands is a dispute, not a rejection.
        return ClaimState.model_construct(
            claim=self.claim,
            statement=self.statement,
            verdicts={name: _reviewer_verdict(v) for name, v in self.verdicts.items()},
            notes=self.notes,
            sources=self.sources,
            rejected=None if self.verdicts else self.rejection,
            history=self.history,
            rejection=self.rejection,
            set_aside=self.set_aside,
        )


def _reviewer_verdict(event: VerdictEvent) -> ReviewerVerdict:
    return ReviewerVerdict(
        reviewer=event.reviewer, rating=event.rating, note=event.note, no_source=event.no_source, at=event.at
    )


def fold(case: Case, events: Iterable[ReviewEvent], warnings: Sequence[str] = ()) -> ReviewState:
    """The review state the log leaves: each reviewer's latest verdict, notes, sources, edits, rejections, additions.

    Events apply in log order. A verdict counts for the wording it was given on: one that names other words than
    the claim has at its place in the log (an edit landed while its reviewer was deciding) is set aside. An event
    seen twice (the same ``event_id``, as after merging two logs) counts once; one about a claim the case does not
    have, or adding a claim whose quote is not the document's text, is skipped with a warning.
    """
    claims = {c.id: _Folding(c, c.statement) for c in case.claims}
    seen: set[str] = set()
    reviewers: dict[str, None] = {}
    notes = list(warnings)
    for event in events:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        reviewers.setdefault(event.reviewer, None)
        if isinstance(event, AddClaimEvent):
            problem = _add_problem(case, claims, event)
            if problem:
                notes.append(f"event {event.event_id}: skipped an added claim: {problem}")
                continue
            claims.setdefault(event.claim.id, _Folding(event.claim, event.claim.statement)).history.append(event)
            continue
        target = claims.get(event.claim_id)
        if target is None:
            notes.append(f"event {event.event_id} ({event.action}) names claim {event.claim_id!r}, not in the case")
            continue
        target.apply(event)
    ordered = sorted(claims.values(), key=lambda f: (f.claim.start, f.claim.end))
    return ReviewState(
        case=case, claims=[f.state() for f in ordered], reviewers=list(reviewers), warnings=notes, events=len(seen)
    )


def _add_problem(case: Case, claims: dict[str, _Folding], event: AddClaimEvent) -> str | None:
    claim = event.claim
    if claim.id != event.claim_id:
        return f"its claim id {claim.id!r} differs from the event's {event.claim_id!r}"
    if case.document.text[claim.start : claim.end] != claim.quote:
        return f"the quote of {claim.id} is not the document's text at {claim.start}-{claim.end}"
    known = claims.get(claim.id)
    if known is not None and (known.claim.start, known.claim.end) != (claim.start, claim.end):
        return f"claim id {claim.id} is already used for other words"
    return None


def load_state(folder: Path, case: Case | None = None) -> ReviewState:
    """The case in ``folder`` (or ``case``, already read from it) folded with its review log; unreadable log lines
    become warnings."""
    events, warnings = store.read_events(folder)
    return fold(case or store.load_case(folder), events, warnings)


# --------------------------------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    total: int
    reviewed: int
    disputed: int
    rejected: int
    ratings: dict[str, int]
    """Agreed verdicts by rating key, in the scale's order; keys no longer on the scale at the end."""
    reworded: int = 0
    """Claims back to pending because their wording changed after they were rated."""


def progress(state: ReviewState, scale: RatingScale) -> Progress:
    agreed = Counter(c.rating for c in state.claims if c.rejected is None and c.rating)
    order = [r.key for r in scale.ratings] + sorted(set(agreed) - {r.key for r in scale.ratings})
    return Progress(
        total=len(state.claims),
        reviewed=sum(c.reviewed for c in state.claims),
        disputed=sum(c.disputed and c.rejected is None for c in state.claims),
        rejected=sum(c.rejected is not None for c in state.claims),
        ratings={key: agreed[key] for key in order if agreed[key]},
        reworded=sum(c.reworded for c in state.claims),
    )


def queue_order(state: ReviewState, only: Only = "all") -> list[str]:
    """Claim ids to review: most check-worthy first, then in document order."""
    ordered = sorted(state.claims, key=lambda c: (-c.claim.checkworthiness, c.claim.start, c.claim.end))
    return [c.claim.id for c in ordered if in_filter(c, only)]


def in_filter(claim: ClaimState, only: Only) -> bool:
    if only == "unreviewed":
        return not claim.reviewed
    if only == "disputed":
        return claim.disputed and claim.rejected is None
    return True


# --------------------------------------------------------------------------------------------------- rules


def can_rate(claim: ClaimState, reviewer: str) -> bool:
    """Whether ``reviewer`` may give the claim a verdict: not while a rejection stands, nor while their own
    rejection does (even one another reviewer's verdict disputes); restoring it comes first."""
    rejection = claim.rejection
    return rejection is None or (claim.rejected is None and rejection.reviewer != reviewer)


def can_reject(claim: ClaimState, reviewer: str) -> bool:
    """Whether ``reviewer`` may reject the claim: when it is not rejected, or to join a rejection that their own
    verdict disputes."""
    return claim.rejection is None or reviewer in claim.verdicts


def clip(text: str, limit: int) -> str:
    """``text`` on one line, shortened to ``limit`` characters at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,;:") + "…"


def check_url(text: str) -> str:
    """A web address with an http or https scheme and a host, or a UserError saying what is wrong."""
    url = text.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in url):
        hint = "give a full http:// or https:// URL with a host"
        raise UserError(f"{clip(url, 60)!r} is not a web address", hint=hint)
    return url


def check_text(text: str | None, what: str = "note") -> str | None:
    """A note or excerpt stripped (None when empty), or a UserError when it is longer than MAX_TEXT_CHARS."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT_CHARS:
        raise UserError(f"the {what} is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    return text or None


def make_source(url: str, title: str | None = None, excerpt: str | None = None) -> Source:
    """A source cited as ``url``; its title defaults to the URL."""
    url = check_url(url)
    return Source(url=url, title=(title or "").strip() or url, excerpt=check_text(excerpt, "excerpt"))


class MissingSource(UserError):
    """A verdict that needs evidence, from a reviewer who has cited no source on the claim and gave no reason."""


def build_verdict(
    state: ReviewState,
    scale: RatingScale,
    *,
    claim_id: str,
    rating: str,
    reviewer: str,
    note: str | None = None,
    source: Source | None = None,
    no_source: bool = False,
    at: datetime | None = None,
) -> list[ReviewEvent]:
    """The events that record one verdict (the source first, when one is given), once every rule holds; the verdict
    names the claim's wording in ``state``, the one its reviewer was shown.

    A rating that needs evidence needs a source of the reviewer's own: one given now, one they cited on the claim
    before, or an explicit statement that there is none, with a note saying why. Another reviewer's source is
    theirs: a verdict never rests on it unseen.
    """
    claim = require_claim(state, claim_id)
    reviewer = check_reviewer(reviewer)
    found = scale.rating(rating)
    if found is None:
        keys = ", ".join(r.key for r in scale.ratings)
        raise UserError(f"{rating!r} is not a rating of the {scale.name} scale", hint=f"use one of: {keys}")
    if claim.rejection is not None and not can_rate(claim, reviewer):
        raise UserError(f"claim {claim_id} is rejected ({claim.rejection.reason})", hint="restore it first")
    note = check_text(note)
    if no_source and source is not None:
        raise UserError("a verdict has either a source or 'no source', not both")
    if no_source and note is None:
        raise UserError("a verdict without a source needs a note saying why")
    if found.needs_evidence and source is None and not no_source and not claim.sources_by(reviewer):
        raise MissingSource(
            f"a {found.key!r} verdict needs a source {reviewer} cited on claim {claim_id}",
            hint="cite one, or state there is none with a note saying why",
        )
    at = at or utc_now()
    events: list[ReviewEvent] = []
    if source is not None:
        events.append(SourceEvent(event_id=new_event_id(), at=at, reviewer=reviewer, claim_id=claim_id, source=source))
    before = claim.verdicts.get(reviewer)
    events.append(
        VerdictEvent(
            event_id=new_event_id(),
            at=at,
            reviewer=reviewer,
            claim_id=claim_id,
            rating=found.key,
            note=note,
            no_source=no_source,
            previous=before.rating if before else None,
            statement=claim.statement,
        )
    )
    return events


def require_claim(state: ReviewState, claim_id: str) -> ClaimState:
    claim = state.get(claim_id.strip())
    if claim is None:
        ids = [c.claim.id for c in state.claims]
        shown = ", ".join(ids[:6]) + (", ..." if len(ids) > 6 else "")
        raise UserError(f"no claim {claim_id!r} in this case", hint=f"its claims are {shown}" if ids else None)
    return claim


@dataclass(frozen=True)
class Recorded:
    """Events just appended to a case's log, and the log folded after them, other writers' events included."""

    events: list[ReviewEvent]
    state: ReviewState
    scale: RatingScale


def record_verdict(
    folder: Path,
    *,
    claim_id: str,
    rating: str,
    reviewer: str,
    note: str | None = None,
    source_url: str | None = None,
    source_title: str | None = None,
    source_excerpt: str | None = None,
    no_source: bool = False,
) -> Recorded:
    """Check and append one verdict to the case's log; safe from several processes at once."""
    state = load_state(folder)
    scale = load_scale(state.case.scale)
    source = make_source(source_url, source_title, source_excerpt) if source_url else None
    events = build_verdict(
        state,
        scale,
        claim_id=claim_id,
        rating=rating,
        reviewer=reviewer,
        note=note,
        source=source,
        no_source=no_source,
    )
    store.append_events(folder, events)
    # Folded again, not patched: another process may have written between the read above and this append.
    return Recorded(events, load_state(folder, state.case), scale)
