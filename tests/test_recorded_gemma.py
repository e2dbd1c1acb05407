"""A replay of a real small model (Gemma 3 270M on llama.cpp's server), recorded on loopback.

It shows, on real output, what the program is built to survive: the server refuses ``json_schema`` with HTTP 500,
the model loops to ``max_tokens`` twice, and its final answer quotes words that are not in the document.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from factcheck.draft import DraftOptions, Outcome, draft_sources
from factcheck.recording import BUNDLED

RECORDING = Path(__file__).parent / "recordings" / "gemma-3-270m-seed"
SEED = Path(__file__).parent.parent / "seeds" / "tren-de-aragua-terrorist-designation.txt"


@pytest.fixture
def outcome(reports: Path) -> Outcome:
    [result] = draft_sources([str(SEED)], DraftOptions(replay=RECORDING, reports=reports))
    return result


def test_the_recording_says_it_came_from_a_real_server(outcome: Outcome) -> None:
    assert outcome.case is not None
    [source] = outcome.case.drafting.recordings
    assert source.kind == "recorded"
    assert source.model == "gemma-3-270m"
    assert source.server == "http://127.0.0.1:8091/v1"


def test_json_schema_refused_with_500_falls_back_to_json_object(outcome: Outcome) -> None:
    assert outcome.case is not None
    assert outcome.case.drafting.structured_output == ["json_object"]


def test_replies_cut_at_max_tokens_are_re_asked_until_one_completes(outcome: Outcome) -> None:
    assert outcome.case is not None
    assert outcome.case.drafting.usage.requests == 3
    assert outcome.case.drafting.failures == []


def test_a_quote_the_model_invented_is_rejected_not_shown_as_a_claim(outcome: Outcome) -> None:
    case = outcome.case
    assert case is not None
    assert case.claims == []
    [rejected] = case.rejected
    assert rejected.draft.quote.startswith("I am a member of the U.S. Congress")
    assert "not found in the document" in rejected.reason


QUESTIONS_RECORDING = Path(__file__).parent / "recordings" / "gemma-3-270m-questions"


def test_questions_the_model_could_not_draft_are_marked_as_such(reports: Path) -> None:
    """Asked for questions on four claims, Gemma answered three times for one claim only: each claim of the batch
    says why it has no questions, and the run lists the failure instead of inventing a draft."""
    from factcheck.llm import LLMClient, Settings
    from factcheck.prompts import load_prompt
    from factcheck.questions import draft_questions
    from factcheck.recording import RecordingTransport

    [authored] = draft_sources([str(SEED)], DraftOptions(replay=BUNDLED, reports=reports))
    assert authored.case is not None
    facts = [c.model_copy(update={"questions": []}) for c in authored.case.claims if c.nature == "fact"][:4]
    transport = RecordingTransport(QUESTIONS_RECORDING, "replay")
    settings = Settings(model="gemma-3-270m", base_url="http://replay.invalid/v1", max_tokens=1500)
    client = LLMClient(settings, transport=transport, offline=True)
    result = draft_questions(authored.case.document, facts, client, load_prompt("questions"), batch_size=4)
    assert [c.questions for c in result.claims] == [[], [], [], []]
    assert all(c.questions_error and "no usable answer in 3 attempts" in c.questions_error for c in result.claims)
    assert "no questions for claim_id" in result.failures[0]
    assert len(result.failures) == 1
    assert client.modes_used == {"json_object"}
    assert transport.unused() == []
