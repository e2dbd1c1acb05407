"""Drafting through the OpenAI Batch API, offline: the real openai SDK over real HTTP to a local fake of the files
and batches endpoints (tests/fakebatch.py), and, for comparison, the live path against tests/fakeserver.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SEED
from fakebatch import FakeBatchAPI, Fate
from fakeserver import FakeLLMServer, FakeWebSite, echo_model, schema_name
from openai.resources.batches import Batches
from openai.resources.files import Files

from factcheck import batchsubmit
from factcheck.batch import BatchOptions, BatchReport, batch_status, collect_batches, draft_in_batches
from factcheck.batchfile import BATCH_FILE, MAX_SUBMISSIONS, BatchState, load_state
from factcheck.batchsubmit import MARKER_KEY
from factcheck.draft import DraftOptions, draft_sources
from factcheck.models import Case
from factcheck.store import load_case, reports_root

FACTCHECK = str(Path(sys.executable).parent / "factcheck")
KEY = "sk-test-batch-key-0123456789"
NOW = BatchOptions(poll_seconds=0.0)
OPTIONS = DraftOptions(chunk_tokens=300)  # small chunks, so a document takes several extraction requests
SENTENCES = [
    "The council said on Monday that the city budget rose by twelve percent this year.",
    "Taxes will stay flat for households, the mayor said at the press conference.",
    "Parking fees in the centre will double from March, according to the transport office.",
    "The education office reported that 1,240 pupils enrolled in the new schools this autumn.",
    "Police recorded 312 burglaries in the first half of the year, down from 401 a year before.",
    "The chief said the fall was due to the new patrols that began in January.",
]


def bulletin(n: int, paragraphs: int) -> str:
    rows = [f"Bulletin {n}: the week in the city"]
    for p in range(paragraphs):
        rows.append(" ".join(SENTENCES[(n + p + i) % len(SENTENCES)] for i in range(3)) + f" Item {n}.{p} ends here.")
    return "\n\n".join(rows) + "\n"


@pytest.fixture
def sources(tmp_path: Path) -> list[str]:
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = [str(SEED)]
    for n, paragraphs in ((1, 2), (2, 9)):
        path = folder / f"bulletin-{n}.txt"
        path.write_text(bulletin(n, paragraphs), encoding="utf-8")
        paths.append(str(path))
    return paths


@pytest.fixture
def env(reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("FACTCHECK_MODEL", "fake-model")
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(tmp_path / "cache"))
    return reports


def run_batches(api: FakeBatchAPI, sources: list[str], monkeypatch: pytest.MonkeyPatch, **kw: Any) -> BatchReport:
    monkeypatch.setenv("OPENAI_BASE_URL", api.url)
    return draft_in_batches(sources, kw.pop("options", OPTIONS), kw.pop("batch", NOW), **kw)


def cases(reports: Path) -> dict[str, Case]:
    return {p.name: load_case(p) for p in sorted(reports.iterdir()) if (p / "case.json").exists()}


def essence(case: Case) -> list[tuple[Any, ...]]:
    return [(c.id, c.quote, c.statement, c.nature, [q.question for q in c.questions]) for c in case.claims]


def canonical(body: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in body.items() if k != "_headers"}, sort_keys=True)


# ----------------------------------------------------------------------------------------------- same as live


def test_a_batch_run_drafts_the_same_cases_as_the_live_path(
    env: Path, sources: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLMServer(echo_model()) as live:
        monkeypatch.setenv("OPENAI_BASE_URL", live.url)
        draft_sources(sources, DraftOptions(chunk_tokens=300, reports=tmp_path / "live"))
    with FakeBatchAPI() as api:
        report = run_batches(api, sources, monkeypatch)
    assert [o.status for o in report.outcomes] == ["drafted"] * 3
    batch, live_cases = cases(env), cases(tmp_path / "live")
    assert list(batch) == list(live_cases)
    for slug, case in batch.items():
        assert essence(case) == essence(live_cases[slug])
        assert case.rejected == live_cases[slug].rejected


def test_the_batches_hold_exactly_the_bodies_the_live_path_sends(
    env: Path, sources: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLLMServer(echo_model()) as live:
        monkeypatch.setenv("OPENAI_BASE_URL", live.url)
        draft_sources(sources, DraftOptions(chunk_tokens=300, reports=tmp_path / "live", cache=False))
    with FakeBatchAPI() as api:
        run_batches(api, sources, monkeypatch)
    submitted = [line["body"] for upload in api.uploads for line in upload]
    assert sorted(map(canonical, submitted)) == sorted(map(canonical, live.requests))
    assert all(line["method"] == "POST" and line["url"] == "/v1/chat/completions" for u in api.uploads for line in u)
    assert all(body["response_format"]["type"] == "json_schema" for body in submitted)


def test_each_batch_is_a_file_uploaded_for_batch_and_a_chat_completions_batch_within_24h(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        run_batches(api, sources, monkeypatch)
    assert api.purposes == ["batch", "batch"]
    assert [(b.endpoint, b.completion_window) for b in api.batches.values()] == [
        ("/v1/chat/completions", "24h"),
        ("/v1/chat/completions", "24h"),
    ]
    assert api.authorization == {f"Bearer {KEY}"}


def test_extraction_goes_in_the_first_batch_and_questions_in_the_second(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        run_batches(api, sources, monkeypatch)
    stages = [{schema_name(line["body"]) for line in upload} for upload in api.uploads]
    assert stages == [{"DraftClaims"}, {"DraftQuestionBatch"}]


# ----------------------------------------------------------------------------------------------- failures


def test_only_the_requests_that_failed_are_submitted_again(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        monkeypatch.setenv("OPENAI_BASE_URL", api.url)
        first = {"probe": 0}
        failing: set[str] = set()

        def fate(batch: int, custom_id: str, body: dict[str, Any]) -> Fate:
            if batch == 0 and custom_id.startswith("bulletin-2:") and first["probe"] < 2:
                first["probe"] += 1
                failing.add(custom_id)
                return "error" if len(failing) == 1 else "server_error"
            return "answer"

        api.fate = fate
        report = draft_in_batches(sources, OPTIONS, NOW)
    assert [o.status for o in report.outcomes] == ["drafted"] * 3
    again = [c for c in api.custom_ids(1) if schema_name(_line(api, 1, c)["body"]) == "DraftClaims"]
    assert sorted(again) == sorted(failing)
    assert not any(c.startswith("bulletin-2:") for c in api.custom_ids(1) if c not in failing)


def test_an_expired_batch_has_its_unfinished_requests_submitted_again(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        api.fate = lambda batch, custom_id, body: (
            "expire" if batch == 0 and custom_id.startswith("bulletin-1") else "answer"
        )
        report = run_batches(api, sources, monkeypatch)
    assert api.batches["batch_1"].status == "expired"
    assert [o.status for o in report.outcomes] == ["drafted"] * 3
    assert all(
        c.startswith("bulletin-1") for c in api.custom_ids(1) if schema_name(_line(api, 1, c)["body"]) == "DraftClaims"
    )


def test_a_request_failing_in_every_batch_is_recorded_as_its_documents_failure(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        doomed: list[str] = []

        def fate(batch: int, custom_id: str, body: dict[str, Any]) -> Fate:
            if custom_id.startswith("bulletin-1:") and (not doomed or custom_id == doomed[0]):
                doomed[:1] = [custom_id]
                return "server_error"
            return "answer"

        api.fate = fate
        report = run_batches(api, sources, monkeypatch)
    statuses = {Path(o.source).stem: o.status for o in report.outcomes}
    assert statuses == {
        "tren-de-aragua-terrorist-designation": "drafted",
        "bulletin-1": "partial",
        "bulletin-2": "drafted",
    }
    assert sum(doomed[0] in api.custom_ids(n) for n in range(len(api.uploads))) == MAX_SUBMISSIONS
    failures = cases(env)["bulletin-1"].drafting.failures
    assert len(failures) == 1 and "HTTP 500" in failures[0] and "overloaded" in failures[0]


def test_an_invalid_reply_is_asked_again_in_the_next_batch_with_the_error_fed_back(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        api.fate = lambda batch, custom_id, body: (
            "invalid" if batch == 0 and custom_id.startswith("bulletin-1") else "answer"
        )
        report = run_batches(api, sources, monkeypatch)
    assert [o.status for o in report.outcomes] == ["drafted"] * 3
    reasked = [line["body"]["messages"] for line in api.uploads[1] if line["custom_id"].startswith("bulletin-1")]
    assert reasked and all(m[-2] == {"role": "assistant", "content": "this is not JSON"} for m in reasked)
    assert all("did not validate" in m[-1]["content"] for m in reasked)


def test_a_batch_the_api_refuses_fails_its_documents_with_the_apis_reason(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI(refuse={0}) as api:
        report = run_batches(api, sources, monkeypatch)
    assert len(api.uploads) == 1
    assert [o.status for o in report.outcomes] == ["partial"] * 3 and not report.ok
    for case in cases(env).values():
        assert case.claims == [] and all("model not available for batch" in f for f in case.drafting.failures)


# ----------------------------------------------------------------------------------------------- resuming


def test_the_batch_id_is_saved_in_each_case_folder_before_anything_is_drafted(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        report = run_batches(api, sources, monkeypatch, batch=BatchOptions(poll_seconds=0.0, wait=False))
    assert [v.id for v in report.waiting] == ["batch_1"] and report.outcomes == []
    for folder in sorted(env.iterdir()):
        state = load_state(folder)
        assert state is not None and state.batch_id == "batch_1" and not state.done
        assert not (folder / "case.json").exists()


def test_an_interrupted_run_is_taken_up_by_collect(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        run_batches(api, sources, monkeypatch, batch=BatchOptions(poll_seconds=0.0, wait=False))
        report = collect_batches(NOW)
    assert [o.status for o in report.outcomes] == ["drafted"] * 3
    assert len(cases(env)) == 3
    assert all(load_state(folder).done for folder in env.iterdir())  # type: ignore[union-attr]


def test_a_document_edited_between_batches_fails_instead_of_being_drafted_again(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        run_batches(api, sources, monkeypatch, batch=BatchOptions(poll_seconds=0.0, wait=False))
        edited = Path(sources[1])
        edited.write_text(edited.read_text(encoding="utf-8").replace("Item 1.0", "Item 1.0, corrected,"), "utf-8")
        report = collect_batches(NOW)
    outcomes = {Path(o.source).stem: o for o in report.outcomes}
    assert {stem: o.status for stem, o in outcomes.items()} == {
        "tren-de-aragua-terrorist-designation": "drafted",
        "bulletin-1": "failed",
        "bulletin-2": "drafted",
    }
    failed = outcomes["bulletin-1"]
    assert failed.message == (
        f"{sources[1]} changed since its batch run began; the answers so far are for the old text "
        "(run 'factcheck extract --batch' on it again to draft the new text)"
    )
    assert not any(c.startswith("bulletin-1:") for n in range(1, len(api.uploads)) for c in api.custom_ids(n))
    assert not (env / "bulletin-1" / "case.json").exists()
    assert load_state(env / "bulletin-1").done  # type: ignore[union-attr]


def test_status_reports_each_running_batch_and_its_documents(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI(polls=5) as api:
        run_batches(api, sources, monkeypatch, batch=BatchOptions(poll_seconds=0.0, wait=False))
        report = batch_status()
    [view] = report.waiting
    assert (view.id, view.status, view.documents) == ("batch_1", "in_progress", 3)
    assert view.total == len(api.uploads[0])


def test_a_document_in_a_run_under_way_is_not_submitted_twice(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        run_batches(api, sources, monkeypatch, batch=BatchOptions(poll_seconds=0.0, wait=False))
        report = run_batches(api, sources[:1], monkeypatch)
    assert len(api.uploads) == 1
    [outcome] = report.outcomes
    assert outcome.status == "failed" and "a batch run is under way (batch_1)" in outcome.message


def test_an_unchanged_document_is_not_submitted_again(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        run_batches(api, sources, monkeypatch)
        report = run_batches(api, sources, monkeypatch)
    assert len(api.uploads) == 2
    assert [o.status for o in report.outcomes] == ["unchanged"] * 3


def test_credentials_in_a_document_url_fetch_it_in_the_run_and_reach_no_file(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeWebSite() as site, FakeBatchAPI() as api:
        site.pages["/bulletin-3.txt"] = (200, "text/plain", bulletin(3, 2).encode())
        url = site.origin.replace("http://", "http://user:secret@") + "/bulletin-3.txt"
        report = run_batches(api, [url], monkeypatch)
    assert [o.status for o in report.outcomes] == ["drafted"]
    assert site.authorizations and all(site.authorizations)  # every fetch in the run had the credentials
    state = load_state(env / "bulletin-3")
    assert state is not None and state.source == site.origin + "/bulletin-3.txt"
    assert not [p for p in env.rglob("*") if p.is_file() and b"secret" in p.read_bytes()]


def test_a_damaged_state_file_is_a_one_line_error(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = env / "bulletin-1"
    folder.mkdir()
    (folder / BATCH_FILE).write_text("{not json", encoding="utf-8")
    with FakeBatchAPI() as api:
        report = run_batches(api, sources[1:2], monkeypatch)
    [outcome] = report.outcomes
    assert outcome.status == "failed" and "batch.json: not a readable batch state" in outcome.message


# ----------------------------------------------------------------------------------------------- killed mid-submission


class Killed(BaseException):
    """The process dying at that point: not an Exception, so no handler of ours catches it."""


def kill_at(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, *, call: int = 1, before: bool = False) -> None:
    """Make the ``call``-th call of ``owner.name`` kill the run, just before or just after it takes effect."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call and before:
            raise Killed(name)
        result = original(*args, **kwargs)
        if calls["n"] == call:
            raise Killed(name)
        return result

    monkeypatch.setattr(owner, name, dying)


def killed_run(api: FakeBatchAPI, sources: list[str], monkeypatch: pytest.MonkeyPatch) -> list[BatchState]:
    """Run ``extract --batch`` until the kill; the states it leaves, a document each."""
    with pytest.raises(Killed):
        run_batches(api, sources, monkeypatch)
    return [state for folder in sorted(reports_root().iterdir()) if (state := load_state(folder)) is not None]


def assert_finished_with_each_request_submitted_once(api: FakeBatchAPI, report: BatchReport, reports: Path) -> None:
    assert [o.status for o in report.outcomes] == ["drafted"] * 3 and len(cases(reports)) == 3
    assert len(api.uploads) == 2  # one batch for the extraction, one for the questions: none made twice
    submitted = [c for n in range(len(api.uploads)) for c in api.custom_ids(n)]
    assert len(submitted) == len(set(submitted))
    ours = [batch.id for batch in api.ours()]
    for folder in reports.iterdir():
        state = load_state(folder)
        assert state is not None and state.done and state.batches == ours and state.submission is None


def test_a_run_killed_right_after_creating_its_batch_is_resumed_by_adopting_that_batch(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        kill_at(monkeypatch, Batches, "create")
        states = killed_run(api, sources, monkeypatch)
        assert len(states) == 3 and all(s.batch_id is None and s.submission is not None for s in states)
        api.add_foreign_batches(150, {MARKER_KEY: "someone-elses"})  # so the lookup pages back past them
        report = collect_batches(NOW)
    assert_finished_with_each_request_submitted_once(api, report, env)
    first = api.ours()[0]
    assert first.input_file_id == states[0].submission.input_file_id  # type: ignore[union-attr]
    assert (first.metadata or {})[MARKER_KEY] == states[0].submission.marker  # type: ignore[union-attr]
    assert [q.get("after") for q in api.listings] == [None, "batch_52"]  # batch_151 back to batch_52, then its own
    assert {q["limit"] for q in api.listings} == {"100"}


def test_after_such_a_kill_extract_submits_nothing_and_points_to_collect(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        kill_at(monkeypatch, Batches, "create")
        killed_run(api, sources, monkeypatch)
        report = run_batches(api, sources, monkeypatch)
    assert len(api.purposes) == 1 and len(api.batches) == 1
    assert all(o.status == "failed" and "(being submitted)" in o.message for o in report.outcomes)


def test_status_shows_a_batch_created_before_a_kill_and_collect_adopts_it(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI(polls=5) as api:
        kill_at(monkeypatch, Batches, "create")
        killed_run(api, sources, monkeypatch)
        before = batch_status()
        unchanged = [load_state(folder) for folder in sorted(env.iterdir())]
        collect_batches(BatchOptions(poll_seconds=0.0, wait=False))
        after = batch_status()
    [view] = before.waiting
    assert (view.id, view.documents, before.unsubmitted) == ("batch_1", 3, [])
    assert "not yet recorded" in view.note
    assert all(s is not None and s.batch_id is None for s in unchanged)  # status looks, it does not adopt
    [adopted] = after.waiting
    assert (adopted.id, adopted.documents, adopted.note, adopted.status) == ("batch_1", 3, "", "in_progress")


def test_a_run_killed_before_creating_its_batch_creates_it_from_the_file_it_uploaded(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        kill_at(monkeypatch, Batches, "create", before=True)
        states = killed_run(api, sources, monkeypatch)
        assert api.batches == {}
        report = collect_batches(NOW)
    assert_finished_with_each_request_submitted_once(api, report, env)
    assert api.ours()[0].input_file_id == states[0].submission.input_file_id  # type: ignore[union-attr]
    assert api.purposes == ["batch", "batch"]  # the file uploaded before the kill was used, not uploaded again


def test_a_run_killed_right_after_uploading_leaves_only_an_unused_file(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        kill_at(monkeypatch, Files, "create")
        states = killed_run(api, sources, monkeypatch)
        assert len(states) == 3 and all(s.submission is None and s.open == {} for s in states)
        report = collect_batches(NOW)
    assert_finished_with_each_request_submitted_once(api, report, env)
    assert len(api.purposes) == 3 and api.ours()[0].input_file_id != "file-1"  # file-1 is the orphan


def test_a_run_killed_while_recording_its_submission_drops_the_partial_record(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        kill_at(monkeypatch, batchsubmit, "save_state", call=2)
        states = killed_run(api, sources, monkeypatch)
        assert sorted(s.submission is not None for s in states) == [False, True, True]
        events: list[str] = []
        report = collect_batches(NOW, on_event=events.append)
    assert_finished_with_each_request_submitted_once(api, report, env)
    assert api.ours()[0].input_file_id != "file-1" and len(api.purposes) == 3
    assert any(e.startswith("dropped a submission") and "file-1" in e for e in events)


def test_a_run_killed_while_recording_the_batch_id_adopts_it_from_the_cases_that_have_it(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBatchAPI() as api:
        kill_at(monkeypatch, batchsubmit, "save_state", call=5)  # three submissions recorded, two batch ids
        states = killed_run(api, sources, monkeypatch)
        assert sorted(str(s.batch_id) for s in states) == ["None", "batch_1", "batch_1"]
        report = collect_batches(NOW)
    assert_finished_with_each_request_submitted_once(api, report, env)
    assert api.listings == []  # known from the other cases: no need to look


def test_a_create_whose_reply_is_lost_finds_the_batch_instead_of_making_another(
    env: Path, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTCHECK_RETRY_SCALE", "0.01")
    with FakeBatchAPI(lose_replies={0}) as api:
        report = run_batches(api, sources, monkeypatch)
    assert_finished_with_each_request_submitted_once(api, report, env)
    assert len(api.listings) == 1


# ----------------------------------------------------------------------------------------------- the command


def test_the_commands_submit_report_and_collect_with_no_key_written_anywhere(
    sources: list[str], tmp_path: Path
) -> None:
    with FakeBatchAPI() as api:
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OPENAI_BASE_URL": api.url, "OPENAI_API_KEY": KEY,
            "FACTCHECK_MODEL": "fake-model", "FACTCHECK_REPORTS": str(tmp_path / "reports"),
            "FACTCHECK_CACHE_DIR": str(tmp_path / "cache"), "FACTCHECK_ALLOW_MODEL_REQUESTS": "0",
            "FACTCHECK_BATCH_POLL": "0.01",
        }  # fmt: skip

        def factcheck(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([FACTCHECK, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)

        submitted = factcheck("extract", "--batch", "--no-wait", "--chunk-tokens", "300", *sources)
        status = factcheck("batch", "status")
        collected = factcheck("batch", "collect")
        finished = factcheck("batch", "status")
    assert submitted.returncode == 0, submitted.stderr
    assert "submitted batch_1" in submitted.stderr and "factcheck batch collect" in submitted.stderr
    assert status.returncode == 0 and "batch_1:" in status.stdout and "3 document(s)" in status.stdout
    assert collected.returncode == 0, collected.stderr
    assert collected.stderr.count("drafted") == 3 and "Traceback" not in collected.stderr
    assert finished.stdout.strip() == "no batch run under way"
    written = [p.read_text(encoding="utf-8") for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    assert written and not any(KEY in text for text in written)


def _line(api: FakeBatchAPI, batch: int, custom_id: str) -> dict[str, Any]:
    return next(line for line in api.uploads[batch] if line["custom_id"] == custom_id)
