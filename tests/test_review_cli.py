"""The non-interactive review commands: verdict, import and status."""

from __future__ import annotations

import ast
import io
import json
import multiprocessing
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from review_helpers import at, by_worth, run_cli, save_case, source, verdict
from rich.console import Console

import factcheck
import factcheck.review
import factcheck.session
from factcheck import store
from factcheck.console import run_review
from factcheck.models import EditEvent, RatingScale, ReviewEvent, ReviewState, VerdictEvent
from factcheck.report import write_markdown_report
from factcheck.review import load_state

MEMBERS, RICO, PRISON, OPINION = by_worth()
SLUG = "tren-de-aragua-terrorist-designation"


# --------------------------------------------------------------------------------------------------- verdict


def test_verdict_records_a_verdict_with_its_source(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    code, out, err = run_cli(
        monkeypatch, capsys, "verdict", SLUG, MEMBERS, "--rating", "false", "--source", "https://example.org/doj",
        "--source-title", "DOJ", "--note", "27 charged, not 5,000", "--reviewer", "ana",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert f"{MEMBERS}: verdict recorded: False" in out
    events = store.read_events(folder)[0]
    assert [e.action for e in events] == ["source", "verdict"]


def test_verdict_finds_the_case_by_its_folder_or_its_source_document(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    seed = "seeds/tren-de-aragua-terrorist-designation.txt"
    for case in (str(folder), seed):
        code, _, err = run_cli(monkeypatch, capsys, "verdict", case, OPINION, "--rating", "opinion", "--reviewer", "a")
        assert (code, err) == (0, "")
    assert len(store.read_events(folder)[0]) == 2


def test_verdict_without_a_source_is_refused_in_one_line(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    code, _, err = run_cli(monkeypatch, capsys, "verdict", SLUG, MEMBERS, "--rating", "false", "--reviewer", "ana")
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("factcheck: error: a 'false' verdict needs a source")
    assert store.read_events(folder)[0] == []


def test_verdict_resting_on_another_reviewers_source_is_refused_in_one_line_naming_the_flags(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports, events=[source(MEMBERS, reviewer="bob")])
    code, _, err = run_cli(monkeypatch, capsys, "verdict", SLUG, MEMBERS, "--rating", "true", "--reviewer", "ana")
    assert code == 1
    assert err.count("\n") == 1
    assert f"needs a source ana cited on claim {MEMBERS}" in err
    assert "--source" in err and "--no-source" in err
    assert len(store.read_events(folder)[0]) == 1


def test_verdict_with_a_note_over_the_limit_is_refused_stating_the_limit(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    args = ["verdict", SLUG, MEMBERS, "--rating", "unproven", "--no-source", "--note", "x" * 4001, "--reviewer", "a"]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert (code, err) == (1, "factcheck: error: the note is 4,001 characters; the limit is 4,000\n")
    assert store.read_events(folder)[0] == []


def test_verdict_with_no_source_and_a_note_is_recorded(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    args = ["verdict", SLUG, MEMBERS, "--rating", "unproven", "--no-source", "--note", "No register", "--reviewer", "a"]
    assert run_cli(monkeypatch, capsys, *args)[0] == 0
    (event,) = store.read_events(folder)[0]
    assert isinstance(event, VerdictEvent) and event.no_source


def test_verdict_uses_factcheck_reviewer_when_no_reviewer_is_given(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    monkeypatch.setenv("FACTCHECK_REVIEWER", "desk-ana")
    run_cli(monkeypatch, capsys, "verdict", SLUG, OPINION, "--rating", "opinion")
    assert store.read_events(folder)[0][0].reviewer == "desk-ana"


def test_verdict_for_a_case_that_does_not_exist_is_one_line(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(monkeypatch, capsys, "verdict", "nope", MEMBERS, "--rating", "false")
    assert code == 1
    assert err.startswith("factcheck: error: no case found for 'nope'")
    assert err.count("\n") == 1


def _verdicts_from_one_process(reports: str, worker: int, count: int) -> None:
    import os

    from factcheck.cli import main

    os.environ["FACTCHECK_REPORTS"] = reports
    for n in range(count):
        claim = by_worth()[n % 4]
        sys.argv = ["factcheck", "verdict", SLUG, claim, "--rating", "unproven", "--no-source"]
        sys.argv += ["--note", f"worker {worker} verdict {n}", "--reviewer", f"w{worker}-{n}"]
        try:
            main()
        except SystemExit as exit_:
            assert not exit_.code


def test_verdicts_from_four_processes_at_once_are_all_kept(reports: Path) -> None:
    folder = save_case(reports)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_verdicts_from_one_process, args=(str(reports), w, 25)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    events, warnings = store.read_events(folder)
    assert warnings == []
    assert len(events) == len({e.event_id for e in events}) == 100
    notes = {e.note for e in events if isinstance(e, VerdictEvent)}
    assert notes == {f"worker {w} verdict {n}" for w in range(4) for n in range(25)}


def test_a_failing_report_refresh_is_a_warning_and_the_verdict_stays(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import factcheck.report

    def broken(folder: Path, *folded: object) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(factcheck.report, "write_markdown_report", broken, raising=False)
    folder = save_case(reports)
    code, _, err = run_cli(monkeypatch, capsys, "verdict", SLUG, OPINION, "--rating", "opinion", "--reviewer", "a")
    assert code == 0
    assert "the report was not updated: disk full" in err
    assert len(store.read_events(folder)[0]) == 1


def test_a_recorded_verdict_brings_the_markdown_report_up_to_date(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    run_cli(monkeypatch, capsys, "verdict", SLUG, OPINION, "--rating", "opinion", "--reviewer", "ana")
    assert "Not checkable / opinion" in (folder / store.REPORT_FILE).read_text()


def test_verdict_reads_the_case_once_and_folds_the_log_once_before_and_once_after_writing(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    loads, folds = _count_loads_and_folds(monkeypatch)
    code, _, err = run_cli(monkeypatch, capsys, "verdict", SLUG, OPINION, "--rating", "opinion", "--reviewer", "ana")
    assert (code, err) == (0, "")
    assert (len(loads), len(folds)) == (1, 2)
    assert "Not checkable / opinion" in (folder / store.REPORT_FILE).read_text()


def test_a_verdict_whose_claim_was_reworded_while_it_was_checked_is_set_aside_and_says_so(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    append = store.append_events
    edit = EditEvent(event_id="e1", at=at(5), reviewer="bob", claim_id=OPINION, statement="Less money, a weaker gang",
                     previous="")  # fmt: skip

    def edit_lands_first(folder: Path, events: Sequence[ReviewEvent]) -> None:
        append(folder, [edit])
        append(folder, events)

    monkeypatch.setattr(store, "append_events", edit_lands_first)
    code, _, err = run_cli(monkeypatch, capsys, "verdict", SLUG, OPINION, "--rating", "opinion", "--reviewer", "ana")
    assert code == 0
    told = "bob changed the wording while the verdict was being given, so it is set aside: rate the new wording"
    assert f"! {OPINION}: {told}" in err
    opinion = load_state(folder).get(OPINION)
    assert opinion is not None and opinion.verdicts == {} and opinion.reworded


def test_verdict_and_import_name_the_wording_each_verdict_was_given_on(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    edit = EditEvent(event_id="e1", at=at(5), reviewer="bob", claim_id=OPINION, statement="Less money, a weaker gang",
                     previous="")  # fmt: skip
    folder = save_case(reports, events=[edit])
    run_cli(monkeypatch, capsys, "verdict", SLUG, OPINION, "--rating", "opinion", "--reviewer", "ana")
    rows = _write(tmp_path / "verdicts.csv", f"claim_id,rating,reviewer\n{OPINION},opinion,bob\n")
    run_cli(monkeypatch, capsys, "import", SLUG, str(rows))
    given = [e for e in store.read_events(folder)[0] if isinstance(e, VerdictEvent)]
    assert [(v.reviewer, v.statement) for v in given] == [("ana", edit.statement), ("bob", edit.statement)]


def test_each_action_of_a_review_session_is_folded_once_and_the_report_written_from_that_state(
    reports: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = save_case(reports)
    loads, folds = _count_loads_and_folds(monkeypatch)
    given: list[ReviewState] = []

    def update_report(folder: Path, state: ReviewState, scale: RatingScale) -> None:
        given.append(state)
        write_markdown_report(folder, state, scale)

    lines = iter(["n", "Checked against the DOJ release", "q"])
    console = Console(file=io.StringIO(), width=100)
    run_review(folder, "ana", console=console, read=lambda _: next(lines), pending=list, update_report=update_report)
    assert (len(loads), len(folds)) == (1, 2)  # when the session starts, and after the note
    assert [[e.action for e in claim.history] for claim in given[0].claims if claim.history] == [["note"]]
    assert "added a note" in (folder / store.REPORT_FILE).read_text()


def _count_loads_and_folds(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Path], list[int]]:
    """Every read of a case file, and every fold of a review log, from now on."""
    loads: list[Path] = []
    folds: list[int] = []
    load_case, fold = store.load_case, factcheck.review.fold

    def counted_load(folder: Path) -> object:
        loads.append(folder)
        return load_case(folder)

    def counted_fold(*args: object, **kwargs: object) -> object:
        folds.append(1)
        return fold(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "load_case", counted_load)
    monkeypatch.setattr(factcheck.review, "fold", counted_fold)
    monkeypatch.setattr(factcheck.session, "fold", counted_fold)
    return loads, folds


@pytest.mark.parametrize(
    "module", ["review", "commands", "session", "console", "screens", "missed_claims", "verdict_import"]
)
def test_the_review_stage_never_imports_the_report_stage(module: str) -> None:
    source = (Path(factcheck.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    report_stage = {f"factcheck.{name}" for name in ("report", "report_md", "report_data", "claimreview", "tally")}
    assert imported & (report_stage | {"factcheck.markdown"}) == set()
    assert "import_module" not in source  # nor reached for by name


# --------------------------------------------------------------------------------------------------- import


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_of_a_csv_records_every_row(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports, events=[source(RICO)])
    csv = _write(
        tmp_path / "verdicts.csv",
        "claim_id,rating,reviewer,note,source_url,source_title,no_source\n"
        f'{MEMBERS},false,ana,"27 charged, not 5,000",https://example.org/doj,DOJ,\n'
        f"{RICO},true,ana,,,,\n"
        f'{PRISON},unproven,ana,"No record\nof the start",,,yes\n',
    )
    code, out, err = run_cli(monkeypatch, capsys, "import", SLUG, str(csv))
    assert (code, err) == (0, "")
    assert "3 verdict(s) imported" in out
    verdicts = [e for e in store.read_events(folder)[0] if isinstance(e, VerdictEvent)]
    assert [(v.claim_id, v.rating, v.reviewer) for v in verdicts] == [  # the second rests on ana's source on RICO
        (MEMBERS, "false", "ana"),
        (RICO, "true", "ana"),
        (PRISON, "unproven", "ana"),
    ]
    assert verdicts[2].no_source and verdicts[2].note == "No record\nof the start"


def test_import_of_jsonl_takes_the_reviewer_from_the_option_when_a_row_has_none(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    rows = [
        {"claim_id": OPINION, "rating": "opinion"},
        {"claim_id": MEMBERS, "rating": "unproven", "no_source": True, "note": "n", "reviewer": "bob"},
    ]
    jsonl = _write(tmp_path / "v.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    code, _, err = run_cli(monkeypatch, capsys, "import", SLUG, str(jsonl), "--reviewer", "ana")
    assert (code, err) == (0, "")
    assert [e.reviewer for e in store.read_events(folder)[0]] == ["ana", "bob"]


def test_import_with_bad_rows_refuses_the_whole_file_and_names_each_line(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    csv = _write(
        tmp_path / "v.csv",
        "claim_id,rating,reviewer,note,source_url\n"
        f"{OPINION},opinion,ana,,\n"
        f"{MEMBERS},sorta,ana,,https://example.org\n"
        f"{RICO},false,ana,,\n"
        "c-nope,true,ana,,https://example.org\n"
        f"{PRISON},true,ana,,not-a-url\n",
    )
    code, _, err = run_cli(monkeypatch, capsys, "import", SLUG, str(csv))
    assert code == 1
    lines = err.strip().splitlines()
    assert [line.split(":")[0].strip() for line in lines[:-1]] == ["line 3", "line 4", "line 5", "line 6"]
    assert lines[-1].startswith(f"factcheck: error: {csv}: 4 problems, nothing was imported")
    assert store.read_events(folder)[0] == []


def test_import_of_a_row_resting_on_another_reviewers_source_is_refused_naming_the_columns(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports, events=[source(RICO, reviewer="ana")])
    csv = _write(tmp_path / "v.csv", f"claim_id,rating,reviewer\n{RICO},true,bob\n")
    code, _, err = run_cli(monkeypatch, capsys, "import", SLUG, str(csv))
    assert code == 1
    assert f"line 2: a 'true' verdict needs a source bob cited on claim {RICO} (fill source_url" in err
    assert len(store.read_events(folder)[0]) == 1


def test_import_of_a_row_with_a_note_over_the_limit_is_refused_stating_the_limit(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    save_case(reports)
    csv = _write(tmp_path / "v.csv", f"claim_id,rating,reviewer,note\n{OPINION},opinion,ana,{'x' * 4001}\n")
    code, _, err = run_cli(monkeypatch, capsys, "import", SLUG, str(csv))
    assert code == 1
    assert "line 2: the note is 4,001 characters; the limit is 4,000" in err


def test_import_of_a_file_with_an_unknown_column_is_refused(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    save_case(reports)
    csv = _write(tmp_path / "v.csv", f"claim_id,rating,verdict_url\n{OPINION},opinion,x\n")
    code, _, err = run_cli(monkeypatch, capsys, "import", SLUG, str(csv), "--reviewer", "ana")
    assert code == 1
    assert "line 1: unknown column 'verdict_url'" in err


def test_importing_the_same_file_twice_records_its_verdicts_once(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = save_case(reports)
    csv = _write(tmp_path / "v.csv", f"claim_id,rating,reviewer\n{OPINION},opinion,ana\n")
    run_cli(monkeypatch, capsys, "import", SLUG, str(csv))
    code, out, _ = run_cli(monkeypatch, capsys, "import", SLUG, str(csv))
    assert code == 0
    assert "1 already imported before" in out
    assert len(store.read_events(folder)[0]) == 1


# --------------------------------------------------------------------------------------------------- status


def test_status_shows_the_progress_of_every_case(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [
        source(MEMBERS),
        verdict(MEMBERS, "true", "ana"),
        verdict(MEMBERS, "false", "bob"),
        verdict(OPINION, "opinion"),
    ]
    save_case(reports, events=events)
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = run_cli(monkeypatch, capsys, "status")
    assert code == 0
    row = next(line for line in out.splitlines() if "tren-de-aragua" in line)
    assert "2/4" in row and "ana, bob" in row
    assert "opinion 1" in out


def test_status_keeps_the_slug_on_one_line_at_80_columns(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    save_case(reports, events=[source(MEMBERS), verdict(MEMBERS, "true", "ana"), verdict(OPINION, "opinion", "bob")])
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_cli(monkeypatch, capsys, "status")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    assert SLUG in out


def test_status_counts_claims_back_to_pending_after_an_edit(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    edit = EditEvent(event_id="e1", at=at(5), reviewer="bob", claim_id=MEMBERS, statement="new", previous="old")
    save_case(reports, events=[source(MEMBERS), verdict(MEMBERS, "true", "ana"), edit])
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = run_cli(monkeypatch, capsys, "status")
    assert code == 0
    assert "1 re-worded, to rate again" in out
    assert "0/4" in out


def test_status_of_an_unreadable_case_is_one_short_line_and_exits_1(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    save_case(reports)
    broken = reports / "broken-by-hand"
    broken.mkdir()
    (broken / store.CASE_FILE).write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_cli(monkeypatch, capsys, "status")
    assert code == 1
    assert SLUG in out
    problems = [line for line in out.splitlines() if "invalid JSON" in line]
    assert len(problems) == 1 and len(problems[0]) <= 80
    assert problems[0].startswith("✗ broken-by-hand: case.json: invalid JSON at line 1")


def test_status_with_no_cases_says_how_to_make_one(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(monkeypatch, capsys, "status")
    assert code == 0
    assert "factcheck extract" in out
