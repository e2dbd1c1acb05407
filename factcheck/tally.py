"""Where each claim of a case stands, and the counts every rendering of a report shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from factcheck.markdown import as_utc
from factcheck.models import ClaimState, RatingScale, ReviewState
from factcheck.review import progress


class Status(StrEnum):
    agreed = "agreed"
    disputed = "disputed"
    pending = "pending"
    rejected = "rejected"


STATUS_LABELS = {
    Status.agreed: "Agreed verdict",
    Status.disputed: "Disputed",
    Status.pending: "Pending review",
    Status.rejected: "Rejected",
}


def status_of(state: ClaimState) -> Status:
    if state.rejected is not None:
        return Status.rejected
    if not state.verdicts:
        return Status.pending
    return Status.disputed if state.disputed else Status.agreed


@dataclass(frozen=True)
class Tally:
    """How many claims stand where; ``ratings`` counts agreed verdicts by rating key, in the scale's order."""

    total: int
    statuses: dict[Status, int]
    ratings: dict[str, int]

    def count(self, status: Status) -> int:
        return self.statuses[status]

    @property
    def decided(self) -> int:
        return self.count(Status.agreed) + self.count(Status.rejected)

    @property
    def is_draft(self) -> bool:
        """A report with claims still pending or disputed is not ready to publish."""
        return bool(self.count(Status.pending) or self.count(Status.disputed))


def tally(state: ReviewState, scale: RatingScale) -> Tally:
    counted = progress(state, scale)
    statuses = {
        Status.agreed: counted.reviewed - counted.disputed - counted.rejected,
        Status.disputed: counted.disputed,
        Status.pending: counted.total - counted.reviewed,
        Status.rejected: counted.rejected,
    }
    return Tally(total=counted.total, statuses=statuses, ratings=counted.ratings)


def in_document_order(claims: list[ClaimState]) -> list[ClaimState]:
    return sorted(claims, key=lambda s: (s.claim.start, s.claim.end, s.claim.id))


def checked_at(state: ReviewState) -> datetime:
    """When the case was last checked: its latest review event, else when its drafting finished. Never "now"."""
    times = [as_utc(event.at) for claim in state.claims for event in claim.history]
    return max(times, default=as_utc(state.case.drafting.finished_at))
