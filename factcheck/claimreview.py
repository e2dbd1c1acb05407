"""Agreed verdicts -> schema.org ClaimReview JSON-LD, for search engines and fact-check aggregators.

Only claims whose reviewers agree are published: a pending, disputed or rejected claim never becomes a ClaimReview,
and neither does one whose rating the scale marks as not a fact-check (``publish: false``, such as an opinion).
The publisher (who signs the reviews, and where the report lives) comes from a small file or the environment.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from factcheck.errors import UserError
from factcheck.markdown import anchor, as_utc, day, safe_url
from factcheck.models import ClaimState, Contract, Rating, RatingScale, ReviewState
from factcheck.ratings import Ratings
from factcheck.tally import Status, in_document_order, status_of

PUBLISHER_FILES = ("factcheck.toml", "publisher.json")
PUBLISHER_ENV = {
    "name": "FACTCHECK_PUBLISHER_NAME",
    "url": "FACTCHECK_PUBLISHER_URL",
    "report_url": "FACTCHECK_REPORT_URL",
}
_HINT = (
    "set them under [publisher] in factcheck.toml in the reports folder, pass --publisher FILE, "
    "or set FACTCHECK_PUBLISHER_NAME, FACTCHECK_PUBLISHER_URL and FACTCHECK_REPORT_URL"
)


class Publisher(Contract):
    """Who publishes the fact-checks, and where a case's report is published."""

    name: str = Field(min_length=1, description="The organisation that signs the reviews.")
    url: str = Field(description="The organisation's home page.")
    report_url: str = Field(description="Address of a case's published report; '{slug}' stands for the case.")

    def report_url_for(self, slug: str) -> str:
        return self.report_url.replace("{slug}", slug).split("#", 1)[0]


def load_publisher(reports: Path, path: Path | None = None) -> Publisher:
    """The publisher from ``path`` (or else ``factcheck.toml``/``publisher.json`` in ``reports``), then the
    ``FACTCHECK_PUBLISHER_*`` environment; an explicit file wins over the environment, which wins over the folder's."""
    fields: dict[str, str] = {}
    if path is None:
        found = next((reports / name for name in PUBLISHER_FILES if (reports / name).is_file()), None)
        fields |= _read_publisher_file(found) if found else {}
    fields |= {key: os.environ[var] for key, var in PUBLISHER_ENV.items() if os.environ.get(var, "").strip()}
    if path is not None:
        fields |= _read_publisher_file(path)
    missing = [key for key in PUBLISHER_ENV if not fields.get(key, "").strip()]
    if missing:
        raise UserError(f"ClaimReview needs the publisher's {', '.join(missing)}", hint=_HINT)
    publisher = Publisher(**{key: fields[key].strip() for key in PUBLISHER_ENV})
    for key, url in (("url", publisher.url), ("report_url", publisher.report_url_for("slug"))):
        if safe_url(url) != url:
            raise UserError(f"publisher {key} {fields[key]!r} is not a plain http(s) address")
    return publisher


def _read_publisher_file(path: Path) -> dict[str, str]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the publisher file: {exc}") from None
    try:
        data: Any = tomllib.loads(raw) if path.suffix.lower() == ".toml" else json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("publisher"), dict):
        data = data["publisher"]
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected the keys name, url and report_url")
    wrong = sorted(key for key in PUBLISHER_ENV if key in data and not isinstance(data[key], str))
    if wrong:
        raise UserError(f"{path}: {', '.join(wrong)} must be text")
    return {key: data[key] for key in PUBLISHER_ENV if key in data}


@dataclass(frozen=True)
class ClaimReviews:
    """The ClaimReviews of a case, the claims left out with why, and how many were not published for each reason."""

    reviews: list[dict[str, Any]]
    left_out: list[tuple[str, str]]
    """Claims named to the user: id and why. Rejected claims are only counted; the report lists them already."""
    not_published: dict[str, int] = field(default_factory=dict)
    """How many claims were not published, by short reason ("pending", "disputed", "rejected", ...)."""

    @property
    def total(self) -> int:
        return len(self.reviews) + sum(self.not_published.values())

    @property
    def from_a_draft(self) -> bool:
        """Some claims are still pending or disputed, so the Markdown report says DRAFT."""
        return bool(self.not_published.get(_PENDING) or self.not_published.get(_DISPUTED))

    def summary(self) -> str | None:
        """One line: how many claims are published and why the others are not; None when every claim is."""
        if not self.not_published:
            return None
        why = ", ".join(f"{n} {reason}" for reason, n in self.not_published.items())
        draft = " — the Markdown report is a draft" if self.from_a_draft else ""
        return f"publishing {len(self.reviews)} of {self.total} claims; {why}{draft}"

    def to_json(self) -> str:
        # '<', '>' and '&' are escaped so the JSON can be pasted into a <script type="application/ld+json"> as is.
        text = json.dumps(self.reviews, indent=2, ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"

    def left_out_message(self) -> str | None:
        if not self.left_out:
            return None
        return f"left out of ClaimReview: {_listed(self.left_out)}"


def build_claimreviews(state: ReviewState, scale: RatingScale, publisher: Publisher) -> ClaimReviews:
    """One ClaimReview per claim with an agreed verdict its scale publishes; refuses when there is none."""
    document = state.case.document
    url = publisher.report_url_for(document.slug)
    appearance = (
        {"@type": "CreativeWork", "url": document.source}
        if safe_url(document.source) == document.source
        else {"@type": "CreativeWork", "headline": document.title}
    )
    reviews: list[dict[str, Any]] = []
    left_out: list[tuple[str, str]] = []
    reasons: list[str] = []
    ratings = Ratings(scale)
    for claim in in_document_order(state.claims):
        status = status_of(claim)
        if status is Status.rejected:
            reasons.append(_REJECTED)
            continue
        rating = ratings.get(claim.rating) if status is Status.agreed and claim.rating else None
        if status is not Status.agreed:
            reason, why = (_PENDING, "pending review") if status is Status.pending else (_DISPUTED, "disputed")
        elif rating is None:
            reason, why = "rated off the scale", f"rated {claim.rating!r}, which is not on the {scale.title}"
        elif not rating.publish:
            reason, why = f"rated {rating.label}", f"rated {rating.label}: no fact-check to publish"
        else:
            review = _claimreview(claim, rating, scale, publisher, f"{url}#{anchor(claim.claim.id)}")
            reviews.append(review | {"itemReviewed": {"@type": "Claim", "appearance": appearance}})
            continue
        reasons.append(reason)
        left_out.append((claim.claim.id, why))
    if not reviews:
        raise UserError(
            f"no claim of {document.slug} has an agreed verdict to publish as ClaimReview "
            f"({_listed(left_out) or 'every claim was rejected'})",
            hint="review the claims first",
        )
    return ClaimReviews(reviews=reviews, left_out=left_out, not_published=_counted(reasons))


_PENDING, _DISPUTED, _REJECTED = "pending", "disputed", "rejected"


def _counted(reasons: list[str]) -> dict[str, int]:
    """How many claims for each reason: pending and disputed first, rejected last, the rest as they came."""
    order = {_PENDING: 0, _DISPUTED: 1, _REJECTED: 3}
    return dict(sorted(Counter(reasons).items(), key=lambda item: order.get(item[0], 2)))


def _listed(left_out: list[tuple[str, str]]) -> str:
    return ", ".join(f"{claim_id} ({why})" for claim_id, why in left_out)


def render_claimreview(state: ReviewState, scale: RatingScale, publisher: Publisher) -> str:
    """The ClaimReview JSON-LD of a case: a list, one object per claim with an agreed verdict."""
    return build_claimreviews(state, scale, publisher).to_json()


def _claimreview(
    claim: ClaimState, rating: Rating, scale: RatingScale, publisher: Publisher, url: str
) -> dict[str, Any]:
    review_rating: dict[str, Any] = {"@type": "Rating"}
    if rating.value is not None:
        review_rating |= {"ratingValue": rating.value, "bestRating": scale.best, "worstRating": scale.worst}
    review_rating["alternateName"] = rating.label
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim.statement,
        "datePublished": day(max(as_utc(v.at) for v in claim.verdicts.values())),
        "author": {"@type": "Organization", "name": publisher.name, "url": publisher.url},
        "reviewRating": review_rating,
    }
