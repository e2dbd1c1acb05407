"""``factcheck extract`` end to end: the bundled replay, several documents, the cache, bad inputs, record/replay."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import review_helpers
from conftest import ROOT, SEED
from fakeserver import Reply, completion, echo_answer, echo_model, schema_name
from helpers_drafting import claims_answer, draft, serving
from review_helpers import verdict

from factcheck.draft import DraftOptions, draft_sources
from factcheck.errors import CaseError
from factcheck.store import LOCK_FILE, append_events, drafting_lock, load_case

FACTCHECK = str(Path(sys.executable).parent / "factcheck")
SUBTITLE = (
    "By highlighting the threat the group poses on the global stage, the U.S. sends a powerful message of mutually "
    "beneficial collaboration with its Latin American partners."
)
DOCUMENTS = {
    "budget.txt": "City budget rises\n\nThe council said on Monday that the city budget rose by twelve percent "
    "this year, the largest rise in a decade.\n\nTaxes will stay flat for households, the mayor said, while "
    "parking fees in the centre will double from March.\n",
    "schools.md": "# Schools report\n\nThe education office reported that 1,240 pupils enrolled in the new "
    "schools this autumn, against 900 a year ago.\n\nThe head of the office called the rise a clear success "
    "of the programme launched in 2022.\n",
    "police.html": "<html><head><title>Police figures</title></head><body><p>Police recorded 312 burglaries "
    "in the first half of the year, down from 401 in the same period last year.</p><p>The chief said the "
    "fall was due to the new patrols that began in January.</p></body></html>",
}


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no key, no base URL, reports and cache under ``tmp_path``."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FACTCHECK_REPORTS": str(tmp_path / "reports"),
        "FACTCHECK_CACHE_DIR": str(tmp_path / "cache"),
        "FACTCHECK_ALLOW_MODEL_REQUESTS": "0",
        **extra,
    }


def run_subprocess(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FACTCHECK, *args], capture_output=True, text=True, cwd=ROOT, env=subprocess_env(tmp_path, **env),
        timeout=60, check=False,
    )  # fmt: skip


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], reports: Path,
            *args: str) -> tuple[int, str, str]:  # fmt: skip
    """``factcheck ARGS`` in this process (so it can reach the fake server), into ``reports``."""
    monkeypatch.setenv("FACTCHECK_REPORTS", str(reports))
    return review_helpers.run_cli(monkeypatch, capsys, *args)


@pytest.fixture
def documents(tmp_path: Path) -> list[str]:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [str(folder / name) for name in DOCUMENTS]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(folder))
    monkeypatch.setenv("FACTCHECK_ALLOW_MODEL_REQUESTS", "0")
    return folder


def claims_view(case: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (c["id"], c["quote"], c["start"], c["end"], c["nature"], json.dumps(c["questions"])) for c in case["claims"]
    ]


# ----------------------------------------------------------------------------------------------- bundled replay


def test_the_bundled_replay_of_the_sample_seed_gives_grounded_json(tmp_path: Path) -> None:
    run = run_subprocess(tmp_path, "extract", "seeds/tren-de-aragua-terrorist-designation.txt", "--replay", "--json")

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    case = json.loads(run.stdout)
    text = case["document"]["text"]
    assert len(case["claims"]) == 41
    assert all(text[c["start"] : c["end"]] == c["quote"] for c in case["claims"])
    assert {c["nature"] for c in case["claims"]} == {"fact", "opinion"}
    assert next(c for c in case["claims"] if c["quote"].startswith("Cutting off access"))["nature"] == "opinion"
    (subtitle,) = [c for c in case["claims"] if c["quote"] == SUBTITLE]
    again = text.index(SUBTITLE, 200)
    assert subtitle["start"] == text.index(SUBTITLE)
    assert subtitle["also_at"] == [{"start": again, "end": again + len(SUBTITLE)}]
    assert {r["kind"] for r in case["drafting"]["recordings"]} == {"authored"}
    assert case["drafting"]["mode"] == "replay"
    assert case["drafting"]["failures"] == []
    assert all(c["questions"] for c in case["claims"] if c["nature"] == "fact")
    assert "authored fixture" in run.stderr
    assert (tmp_path / "reports" / "tren-de-aragua-terrorist-designation" / "case.json").is_file()


# ----------------------------------------------------------------------------------------------- live server


def test_several_documents_are_drafted_at_once_within_the_concurrency_bound(
    documents: list[str], cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    in_flight, most = [0], [0]
    lock = threading.Lock()
    model = echo_model()

    def counting(body: dict[str, Any]) -> Reply:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.15)
        with lock:
            in_flight[0] -= 1
        return model(body)

    with serving(counting) as server:
        code, out, err = run_cli(
            monkeypatch, capsys, tmp_path / "reports", "extract", *documents,
            "--base-url", server.url, "--concurrency", "2", "--json",
        )  # fmt: skip

    assert code == 0, err
    cases = json.loads(out)
    assert sorted(c["document"]["slug"] for c in cases) == ["budget", "police", "schools"]
    assert all(c["claims"] for c in cases)
    assert most[0] == 2
    assert err.count("drafted") == 3


def test_a_second_run_on_unchanged_input_makes_no_request(
    documents: list[str], cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    with serving(echo_model()) as server:
        run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", documents[0], "--base-url", server.url)
        first = len(server.requests)

        code, _, err = run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", documents[0],
                               "--base-url", server.url)  # fmt: skip

        assert first > 0
        assert code == 0
        assert len(server.requests) == first
        assert "unchanged" in err


def test_answers_come_from_the_cache_when_the_case_is_drafted_again(
    documents: list[str], cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    with serving(echo_model()) as server:
        _, first_out, _ = run_cli(monkeypatch, capsys, tmp_path / "first", "extract", documents[0], "--json",
                                  "--base-url", server.url)  # fmt: skip
        asked = len(server.requests)

        code, out, _ = run_cli(monkeypatch, capsys, tmp_path / "second", "extract", documents[0], "--json",
                               "--base-url", server.url)  # fmt: skip

        assert code == 0
        assert len(server.requests) == asked
        case = json.loads(out)
        assert case["drafting"]["mode"] == "cache"
        assert case["drafting"]["cached_responses"] == asked
        assert claims_view(case) == claims_view(json.loads(first_out))


def test_no_cache_asks_the_server_again(
    documents: list[str], cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    with serving(echo_model()) as server:
        run_cli(monkeypatch, capsys, tmp_path / "first", "extract", documents[0], "--base-url", server.url)
        asked = len(server.requests)

        code, out, _ = run_cli(monkeypatch, capsys, tmp_path / "second", "extract", documents[0], "--json",
                               "--no-cache", "--base-url", server.url)  # fmt: skip

        assert code == 0
        assert len(server.requests) == 2 * asked
        assert json.loads(out)["drafting"]["mode"] == "live"


def test_a_recording_replays_to_the_same_claims(
    documents: list[str], cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    recordings = tmp_path / "recordings"
    with serving(echo_model()) as server:
        code, recorded, err = run_cli(monkeypatch, capsys, tmp_path / "first", "extract", documents[1], "--json",
                                      "--record", str(recordings), "--base-url", server.url)  # fmt: skip
        assert code == 0, err
        asked = len(server.requests)

        code, replayed, err = run_cli(monkeypatch, capsys, tmp_path / "second", "extract", documents[1], "--json",
                                      "--replay", str(recordings))  # fmt: skip

        assert len(server.requests) == asked
    assert code == 0, err
    assert claims_view(json.loads(replayed)) == claims_view(json.loads(recorded))
    assert json.loads(replayed)["drafting"]["mode"] == "replay"
    assert {r["kind"] for r in json.loads(replayed)["drafting"]["recordings"]} == {"recorded"}


def test_record_and_replay_together_are_refused(
    documents: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", documents[0],
                           "--record", str(tmp_path), "--replay", str(tmp_path))  # fmt: skip

    assert code == 1
    assert "exclude each other" in err


# ----------------------------------------------------------------------------------------------- bad inputs


def assert_one_line_error(run: subprocess.CompletedProcess[str], *words: str) -> None:
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    for word in words:
        assert word in run.stderr


def test_a_missing_file_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    run = run_subprocess(tmp_path, "extract", str(tmp_path / "missing.txt"), "--base-url", "http://127.0.0.1:9/v1")

    assert_one_line_error(run, "no such file")


def test_a_binary_file_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")

    run = run_subprocess(tmp_path, "extract", str(binary), "--base-url", "http://127.0.0.1:9/v1")

    assert_one_line_error(run, "binary")


def test_no_key_and_no_base_url_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    run = run_subprocess(tmp_path, "extract", str(SEED))

    assert_one_line_error(run, "OPENAI_API_KEY", "OPENAI_BASE_URL")


def test_answers_that_were_never_usable_are_not_cached_so_a_rerun_asks_again(
    documents: list[str], cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    broken = [True]
    model = echo_model()

    def garbage_then_good(body: dict[str, Any]) -> Reply:
        if broken[0] and schema_name(body) == "DraftClaims":
            return Reply(body=completion("this is not JSON"))
        return model(body)

    with serving(garbage_then_good) as server:
        code, _, err = run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", documents[0],
                               "--base-url", server.url)  # fmt: skip
        assert code == 1
        assert "no usable answer in 3 attempts" in err
        broken[0] = False
        before = len(server.requests)

        code, out, err = run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", documents[0], "--json",
                                 "--base-url", server.url)  # fmt: skip

    assert code == 0, err
    assert len(server.requests) > before
    assert json.loads(out)["claims"]


# ----------------------------------------------------------------------------------------------- case names


def _two_notes(tmp_path: Path) -> tuple[str, str]:
    for folder, figure in (("c", "twelve"), ("d", "forty")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "note.txt").write_text(
            f"Council note\n\nThe council said the budget rose by {figure} percent this year.\n", encoding="utf-8"
        )
    return str(tmp_path / "c" / "note.txt"), str(tmp_path / "d" / "note.txt")


def test_a_document_of_the_same_name_does_not_take_over_another_documents_case(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    first, second = _two_notes(tmp_path)
    with serving(echo_model()) as server:
        run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", first, "--base-url", server.url)
        saved = (tmp_path / "reports" / "note" / "case.json").read_bytes()

        code, _, err = run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", second, "--base-url", server.url)

    assert code == 1
    assert f"holds the case of {first}, not of {second}" in err
    assert (tmp_path / "reports" / "note" / "case.json").read_bytes() == saved


def test_two_documents_of_one_run_with_the_same_case_name_are_told_apart(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    first, second = _two_notes(tmp_path)
    with serving(echo_model()) as server:
        code, _, err = run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", first, second,
                               "--base-url", server.url)  # fmt: skip

    assert code == 1
    assert "drafted" in err
    assert f"same case name 'note' as {first}" in err
    assert "another factcheck process" not in err


def test_the_same_file_named_two_ways_is_one_document(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    first, _ = _two_notes(tmp_path)
    monkeypatch.chdir(tmp_path)
    with serving(echo_model()) as server:
        run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", first, "--base-url", server.url)
        code, _, err = run_cli(monkeypatch, capsys, tmp_path / "reports", "extract", "c/note.txt", "--force",
                               "--base-url", server.url)  # fmt: skip

    assert code == 0, err


def test_a_draft_that_fails_leaves_no_empty_case_folder(tmp_path: Path) -> None:
    (tmp_path / "fresh.txt").write_text("A sentence long enough to be a document of its own.\n", encoding="utf-8")

    run = run_subprocess(tmp_path, "extract", str(tmp_path / "fresh.txt"), "--replay")

    assert run.returncode == 1
    assert "no saved exchange answers" in run.stderr
    assert not (tmp_path / "reports" / "fresh").exists()


# ----------------------------------------------------------------------------------------------- drafting again


def test_drafting_again_keeps_the_claims_reviewers_acted_on_as_they_saw_them(
    documents: list[str], tmp_path: Path
) -> None:
    rise = "The council said on Monday that the city budget rose by twelve percent this year"
    taxes = "Taxes will stay flat for households, the mayor said"
    wording = {rise: "The city budget rose by 12% this year.", taxes: "Household taxes will not change."}

    def model(body: dict[str, Any]) -> Reply:
        if schema_name(body) == "DraftClaims":
            return claims_answer(*(draft(quote, statement) for quote, statement in wording.items()))
        return Reply(body=completion(echo_answer(body)))

    with serving(model) as server:
        options = DraftOptions(base_url=server.url, reports=tmp_path / "reports", cache=False)
        [first] = draft_sources(documents[:1], options)
        assert first.case is not None and first.folder is not None
        reviewed = next(c for c in first.case.claims if c.quote == rise)
        append_events(first.folder, [verdict(reviewed.id, "false")])
        wording = {rise: "The budget grew by a tenth.", taxes: "Taxes stay as they are."}  # a new prompt or model

        [again] = draft_sources(documents[:1], DraftOptions(base_url=server.url, reports=options.reports,
                                                            cache=False, force=True))  # fmt: skip

    assert again.status == "drafted", again.message
    claims = {c.quote: c for c in load_case(first.folder).claims}
    assert claims[rise] == reviewed  # the verdict stays on the words it was given on
    assert claims[rise].id == reviewed.id
    assert claims[taxes].statement == "Taxes stay as they are."  # no one reviewed it: the new draft's wording


def test_a_drafter_that_loses_the_lock_leaves_the_winners_case_folder_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reports" / "budget"
    winner = contextlib.ExitStack()
    raced: list[Path] = []
    make_folder = Path.mkdir

    def made_then_taken(self: Path, *args: Any, **kwargs: Any) -> None:
        """Both drafters saw no folder; the other one takes the lock between our look and our try for it."""
        make_folder(self, *args, **kwargs)
        if self == folder and not raced:
            raced.append(self)
            winner.enter_context(drafting_lock(folder))

    monkeypatch.setattr(Path, "mkdir", made_then_taken)
    with winner:
        with pytest.raises(CaseError, match="another factcheck process is drafting this case"), drafting_lock(folder):
            pass
        assert (folder / LOCK_FILE).is_file()  # the winner's lock, and so its folder, are still there
