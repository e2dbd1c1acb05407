"""Record and replay of exchanges with the LLM server, as an httpx2 transport under the real SDK."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import ROOT, SEED
from fakeserver import echo_model
from helpers_drafting import (
    MODEL,
    document_of,
    error,
    fast_session,
    files_text,
    ok,
    scripted,
    serving,
)

from factcheck.documents import load_document
from factcheck.draft import REPLAY_BASE_URL, DraftOptions, draft_case, open_session
from factcheck.errors import ReplayMiss, UserError
from factcheck.extract import extract_claims
from factcheck.models import Case, Draft, RecordingSource
from factcheck.prompts import load_prompt
from factcheck.recording import BUNDLED, Exchange, RecordingTransport, load_exchanges

TEXT = (
    "City budget rises\n\n"
    "The council said on Monday that the city budget rose by twelve percent this year, the largest rise yet.\n\n"
    "Taxes will stay flat for households, the mayor said, while fees for parking in the centre will double.\n"
)
AUTHORED = RecordingSource(kind="authored", date="2026-11-25", note="written by hand for a test")


class Count(Draft):
    count: int


def record(folder: Path, url: str, source: RecordingSource | None = None, **client: Any) -> Case:
    transport = RecordingTransport(folder, "record", upstream=httpx2.HTTPTransport(), source=source)
    with fast_session(url, transport=transport, mode="record", **client) as session:
        return draft_case(document_of(TEXT), session, DraftOptions())


def replay(folder: Path, text: str = TEXT) -> tuple[Case, RecordingTransport]:
    transport = RecordingTransport(folder, "replay")
    with fast_session(REPLAY_BASE_URL, transport=transport, offline=True, mode="replay") as session:
        return draft_case(document_of(text), session, DraftOptions(replay=folder)), transport


def cached(folder: Path, url: str) -> Case:
    """A draft through a response cache in ``folder``."""
    transport = RecordingTransport(folder, "cache", upstream=httpx2.HTTPTransport())
    with fast_session(url, transport=transport) as session:
        return draft_case(document_of(TEXT), session, DraftOptions())


def claims_of(case: Case) -> list[dict[str, object]]:
    return [c.model_dump() for c in case.claims]


def test_a_replay_of_a_recording_gives_the_same_claims_and_questions(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        recorded = record(tmp_path, server.url)

    replayed, transport = replay(tmp_path)

    assert recorded.claims
    assert any(c.questions for c in recorded.claims)
    assert claims_of(replayed) == claims_of(recorded)
    assert replayed.drafting.mode == "replay"
    assert replayed.drafting.usage == recorded.drafting.usage
    assert transport.unused() == []


def test_a_replay_makes_no_request_to_any_server(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        record(tmp_path, server.url)
        server.requests.clear()

        replay(tmp_path)

        assert server.requests == []


def test_a_request_with_no_saved_exchange_is_a_replay_miss_saying_what_to_do(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        record(tmp_path, server.url)

    with pytest.raises(ReplayMiss, match="no saved exchange answers POST /chat/completions") as miss:
        replay(tmp_path, TEXT.replace("twelve", "thirteen"))

    assert str(tmp_path) in str(miss.value)
    assert miss.value.hint is not None
    assert "--record" in miss.value.hint


def test_a_replay_miss_on_the_command_line_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        record(tmp_path / "recordings", server.url)
    other = tmp_path / "other.txt"
    other.write_text(TEXT.replace("twelve", "thirteen"), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "FACTCHECK_REPORTS": str(tmp_path / "reports"),
           "FACTCHECK_CACHE_DIR": str(tmp_path / "cache"), "FACTCHECK_ALLOW_MODEL_REQUESTS": "0"}  # fmt: skip

    command = [str(Path(sys.executable).parent / "factcheck"), "extract", str(other)]
    run = subprocess.run(
        [*command, "--replay", str(tmp_path / "recordings")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip

    assert run.returncode == 1
    assert "no saved exchange answers" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "reports" / "other" / "case.json").exists()


def test_a_replay_of_an_empty_folder_says_there_are_no_recordings(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no recordings in"), open_session(DraftOptions(replay=tmp_path)):
        pass


def test_request_headers_and_the_api_key_are_never_saved(tmp_path: Path) -> None:
    secret = "sk-factcheck-test-SECRET-4242"
    with serving(echo_model()) as server:
        record(tmp_path, server.url, api_key=secret)

    assert server.requests[0]["_headers"]["authorization"] == f"Bearer {secret}"
    saved = files_text(tmp_path)
    assert "SECRET-4242" not in saved
    assert "authorization" not in saved.lower()
    assert "bearer" not in saved.lower()


def test_only_headers_that_matter_for_a_replay_are_kept_from_responses(tmp_path: Path) -> None:
    with serving(scripted(error(429, "slow", {"retry-after": "0", "set-cookie": "s=1", "x-request-id": "r"}),
                          ok({"count": 1}))) as server:  # fmt: skip
        transport = RecordingTransport(tmp_path, "record", upstream=httpx2.HTTPTransport())
        with fast_session(server.url, transport=transport) as session:
            session.client.structured([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], Count)

    (exchange,) = load_exchanges(tmp_path).values()
    assert [set(r.headers) for r in exchange.responses] == [{"content-type", "retry-after"}, {"content-type"}]


def test_a_recording_made_live_says_so_with_its_model_and_date(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        record(tmp_path, server.url)

    sources = [e.source for e in load_exchanges(tmp_path).values()]
    assert sources
    assert all(s == sources[0] for s in sources)
    source = sources[0]
    assert source.kind == "recorded"
    assert source.model == MODEL
    assert source.date == date.today().isoformat()


def test_the_provenance_of_a_recording_is_surfaced_in_the_replayed_case(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        record(tmp_path, server.url, source=AUTHORED)

    replayed, _ = replay(tmp_path)

    assert [r.kind for r in replayed.drafting.recordings] == ["authored"]
    assert replayed.drafting.recordings[0].note == "written by hand for a test"


def test_a_recorded_429_then_200_replays_in_the_same_order(tmp_path: Path) -> None:
    messages = [{"role": "system", "content": "Count."}, {"role": "user", "content": "One."}]
    with serving(scripted(error(429, "slow down", {"retry-after": "0"}), ok({"count": 1}))) as server:
        transport = RecordingTransport(tmp_path, "record", upstream=httpx2.HTTPTransport())
        with fast_session(server.url, transport=transport) as session:
            session.client.structured(messages, Count)
    (exchange,) = load_exchanges(tmp_path).values()
    assert [r.status for r in exchange.responses] == [429, 200]

    waits: list[float] = []
    transport = RecordingTransport(tmp_path, "replay")
    with fast_session(server.url, transport=transport, offline=True, waits=waits) as session:
        result = session.client.structured(messages, Count)

    assert result.value.count == 1
    assert waits == [0.0]
    assert transport.served[exchange.key] == 2


def test_unused_names_the_exchanges_a_replay_never_asked_for(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        record(tmp_path, server.url)
    questions_keys = {k for k, e in load_exchanges(tmp_path).items() if "DraftQuestionBatch" in json.dumps(e.request)}

    transport = RecordingTransport(tmp_path, "replay")
    with fast_session(REPLAY_BASE_URL, transport=transport, offline=True) as session:
        extract_claims(document_of(TEXT), session.client, load_prompt("extract"))

    assert questions_keys
    assert set(transport.unused()) == questions_keys


def test_the_bundled_recordings_are_all_used_by_a_replay_of_the_sample_seed() -> None:
    # If this fails, a prompt, the schema or the request changed: rerun tests/recordings/author.py.
    transport = RecordingTransport(BUNDLED, "replay")
    with fast_session(
        REPLAY_BASE_URL, transport=transport, offline=True, mode="replay", model="authored-fixture"
    ) as session:
        case = draft_case(load_document(str(SEED)), session, DraftOptions(replay=BUNDLED))

    assert case.drafting.failures == []
    assert transport.unused() == []
    assert {r.kind for r in case.drafting.recordings} == {"authored"}


def test_the_bundled_replay_does_not_depend_on_how_the_seed_path_is_spelt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "seeds")
    transport = RecordingTransport(BUNDLED, "replay")
    with fast_session(
        REPLAY_BASE_URL, transport=transport, offline=True, mode="replay", model="authored-fixture"
    ) as session:
        case = draft_case(load_document(SEED.name), session, DraftOptions(replay=BUNDLED))

    assert case.drafting.failures == []
    assert transport.unused() == []


def test_a_recording_that_is_not_an_exchange_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"key": "x"}', encoding="utf-8")

    with pytest.raises(UserError, match=r"broken\.json: not a readable recording"):
        RecordingTransport(tmp_path, "replay")


# ----------------------------------------------------------------------------------------------- the response cache


def test_a_cache_file_that_cannot_be_read_is_a_miss_and_the_next_answer_replaces_it(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        first = cached(tmp_path, server.url)
        asked = len(server.requests)
        damaged, old = sorted(tmp_path.glob("*.json"))[:2]
        damaged.write_text('{"key": "cut short', encoding="utf-8")
        older = json.loads(old.read_text(encoding="utf-8"))
        del older["source"]  # saved before exchanges said where they came from
        old.write_text(json.dumps(older), encoding="utf-8")
        (tmp_path / "stray.json").write_text("not an exchange", encoding="utf-8")

        second = cached(tmp_path, server.url)

        assert len(server.requests) == asked + 2
    assert claims_of(second) == claims_of(first)
    for path in (damaged, old):
        assert Exchange.model_validate_json(path.read_bytes()).key == path.stem


def test_a_cached_answer_is_read_when_its_request_comes_not_when_the_run_starts(tmp_path: Path) -> None:
    with serving(echo_model()) as server:
        cached(tmp_path / "filled", server.url)
        server.requests.clear()
        transport = RecordingTransport(tmp_path / "cache", "cache", upstream=httpx2.HTTPTransport())
        shutil.copytree(tmp_path / "filled", tmp_path / "cache")  # answers saved after the transport was made

        with fast_session(server.url, transport=transport) as session:
            draft_case(document_of(TEXT), session, DraftOptions())

        assert server.requests == []
    assert transport.hits > 0


def test_a_replay_reads_each_recording_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: Counter[str] = Counter()
    read_bytes = Path.read_bytes

    def counted(path: Path) -> bytes:
        if path.parent == BUNDLED:
            reads[path.name] += 1
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", counted)
    with open_session(DraftOptions(replay=BUNDLED)) as session:
        assert session.client.settings.model == "authored-fixture"

    assert set(reads) == {path.name for path in BUNDLED.glob("*.json")}
    assert set(reads.values()) == {1}
