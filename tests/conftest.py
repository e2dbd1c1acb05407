"""Shared fixtures. Tests reach no remote LLM: FACTCHECK_ALLOW_MODEL_REQUESTS=0 allows loopback servers only."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from factcheck.documents import load_document
from factcheck.models import Case, Claim, ClaimKind, Drafting, Grounding, Nature, PromptRef, Question, Usage

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "tren-de-aragua-terrorist-designation.txt"

SAMPLE_QUOTES: list[tuple[str, ClaimKind, Nature, int]] = [
    (
        "Tren de Aragua is estimated to have around 5,000 members",
        ClaimKind.statistic,
        Nature.fact,
        5,
    ),
    (
        "In April, the U.S. filed charges under the Racketeer Influenced and Corrupt Organizations Act against 27 "
        "members and associates of Tren de Aragua",
        ClaimKind.legal_official_action,
        Nature.fact,
        4,
    ),
    (
        "Tren de Aragua, which began in a Venezuelan state prison around 2014",
        ClaimKind.date_time,
        Nature.fact,
        3,
    ),
    (
        "Cutting off access to these resources will severely weaken Tren de Aragua.",
        ClaimKind.prediction,
        Nature.opinion,
        2,
    ),
]


@pytest.fixture(autouse=True)
def _no_live_model_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_ALLOW_MODEL_REQUESTS", "0")  # loopback fakes only; inherited by subprocesses
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def make_case(quotes: list[tuple[str, ClaimKind, Nature, int]] = SAMPLE_QUOTES) -> Case:
    """A small hand-made case over the sample seed, with exact offsets, for tests of the later stages."""
    document = load_document(str(SEED))
    claims = []
    for quote, kind, nature, worth in quotes:
        start = document.text.index(quote)
        claims.append(
            Claim(
                id="c" + hashlib.sha256(quote.encode()).hexdigest()[:6],
                statement=quote.rstrip("."),
                quote=quote,
                start=start,
                end=start + len(quote),
                paragraph=document.paragraph_index(start),
                kind=kind,
                nature=nature,
                checkworthiness=worth,
                entities=["Tren de Aragua"],
                grounding=Grounding(method="exact", score=1.0),
                questions=[
                    Question(
                        question=f"Is it so that {quote[:40]}?",
                        establishes="Whether the figure or event is on record.",
                        primary_sources=["U.S. Department of Justice press releases"],
                        search_query="Tren de Aragua " + quote[:30],
                    )
                ]
                if nature is Nature.fact
                else [],
            )
        )
    when = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    return Case(
        document=document,
        claims=claims,
        drafting=Drafting(
            model="test-model",
            base_url="http://127.0.0.1:9/v1",
            mode="replay",
            prompts=[PromptRef(name="extract", version="1", sha256="0" * 64)],
            usage=Usage(requests=2, prompt_tokens=1000, completion_tokens=500),
            started_at=when,
            finished_at=when,
        ),
    )


@pytest.fixture
def sample_case() -> Case:
    return make_case()


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty reports folder, made the default for the library and the CLI."""
    root = tmp_path / "reports"
    root.mkdir()
    monkeypatch.setenv("FACTCHECK_REPORTS", str(root))
    return root
