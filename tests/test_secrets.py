"""Secrets never reach a file: the whole workflow runs with a recognisable fake key, then every file it left behind
is searched for the key and for any Authorization header."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED
from fakeserver import FakeLLMServer, FakeWebSite, Reply, echo_model
from faults import Run, cli_env, factcheck, generated_documents
from review_helpers import source, verdict

from factcheck.store import append_events

KEY = "sk-test-SECRET-0123456789abcdefghij"
FORBIDDEN = (KEY.encode(), b"SECRET-0123456789", b"authorization", b"bearer")


@dataclass
class Workflow:
    root: Path
    runs: list[Run]
    requests: list[dict[str, Any]]


def echo_unless_denied(body: dict[str, Any]) -> Reply:
    """The echo model, except for the document titled 'Denied': a 403 quoting the caller's key back, as some
    proxies do."""
    if "Denied" in body["messages"][1]["content"].split("\n", 1)[0]:
        return Reply(403, {"error": {"message": f"key {KEY} may not use this model"}})
    return echo_model()(body)


@pytest.fixture(scope="module")
def workflow(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    root = tmp_path_factory.mktemp("secrets")
    docs = root / "docs"
    docs.mkdir()
    seed = docs / SEED.name
    shutil.copy(SEED, seed)
    bulletin = generated_documents(docs, count=1)[0]
    denied = docs / "denied.txt"
    denied.write_text("Denied\n\nThe port office approved 40 new mooring posts in March 2024.\n", encoding="utf-8")
    (root / "reports").mkdir()
    (root / "reports" / "factcheck.toml").write_text(
        '[publisher]\nname = "Example Desk"\nurl = "https://example.org"\n'
        'report_url = "https://example.org/checks/{slug}"\n',
        encoding="utf-8",
    )
    runs = []
    with FakeLLMServer(echo_unless_denied) as server:
        env = cli_env(root, server.url, OPENAI_API_KEY=KEY)
        runs.append(factcheck(env, "extract", str(bulletin)))  # live, through the response cache
        runs.append(factcheck(env, "extract", str(bulletin), "--force"))  # answered from the cache
        runs.append(factcheck(env, "-v", "extract", str(seed), "--record", str(root / "recordings")))
        runs.append(factcheck(env, "extract", str(seed), "--replay", str(root / "recordings"), "--force"))
        runs.append(factcheck(env, "extract", str(denied)))  # fails: the server's error quotes the key
        case = json.loads((root / "reports" / seed.stem / "case.json").read_text(encoding="utf-8"))
        claim = case["claims"][0]["id"]
        runs.append(
            factcheck(
                env,
                "verdict",
                seed.stem,
                claim,
                "--rating",
                "false",
                "--source",
                "https://example.org/record",
                "--note",
                "The record says otherwise.",
                "--reviewer",
                "ana",
            )
        )
        for fmt in ("md", "json", "claimreview"):
            runs.append(factcheck(env, "report", seed.stem, "--format", fmt))
        runs.append(factcheck(env, "report", "--all"))
        runs.append(factcheck(env, "status"))
        requests = list(server.requests)
    return Workflow(root, runs, requests)


def test_the_workflow_ran_every_step(workflow: Workflow) -> None:
    codes = [run.code for run in workflow.runs]
    assert codes == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], [run.stderr for run in workflow.runs]
    written = {p.relative_to(workflow.root).parts[0] for p in workflow.root.rglob("*") if p.is_file()}
    assert {"reports", "cache", "recordings"} <= written
    assert list((workflow.root / "cache" / "responses").rglob("*.json"))
    assert (workflow.root / "cache" / "capabilities.json").is_file()


def test_the_server_did_receive_the_key(workflow: Workflow) -> None:
    assert workflow.requests
    assert all(r["_headers"].get("authorization") == f"Bearer {KEY}" for r in workflow.requests)


def test_no_file_written_holds_the_key_or_an_authorization_header(workflow: Workflow) -> None:
    leaks = []
    for path in sorted(workflow.root.rglob("*")):
        if path.is_file():
            data = path.read_bytes().lower()
            leaks += [f"{path}: {word.decode()}" for word in FORBIDDEN if word.lower() in data]
    assert not leaks


def test_no_output_shows_the_key(workflow: Workflow) -> None:
    for run in workflow.runs:
        assert KEY not in run.output
        assert "SECRET-0123456789" not in run.output


def test_a_failure_the_server_explained_with_the_key_is_kept_without_it(workflow: Workflow) -> None:
    case = json.loads((workflow.root / "reports" / "denied" / "case.json").read_text(encoding="utf-8"))
    assert case["drafting"]["failures"] == [
        "chunk 1/1: the LLM server denied access (HTTP 403): key [API key] may not use this model "
        "(check the key's permissions)"
    ]


def test_credentials_in_the_base_url_are_not_written_to_any_file(tmp_path: Path) -> None:
    with FakeLLMServer(echo_model()) as server:
        url = server.url.replace("http://", f"http://desk:{KEY}@")
        run = factcheck(cli_env(tmp_path, url), "extract", str(SEED))

    assert run.code == 0, run.stderr
    assert KEY not in run.output
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written
    assert not [p for p in written if KEY.encode() in p.read_bytes()]


def test_credentials_in_a_document_url_fetch_it_and_reach_no_file(tmp_path: Path) -> None:
    page = (
        b"<html><head><title>Harbour works</title></head><body><p>The port office approved 40 new mooring posts "
        b"in March 2024, the harbour master said.</p><p>Work on the eastern quay will begin in the autumn, "
        b"according to the council.</p></body></html>"
    )
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "factcheck.toml").write_text(
        '[publisher]\nname = "Example Desk"\nurl = "https://example.org"\n'
        'report_url = "https://example.org/checks/{slug}"\n',
        encoding="utf-8",
    )
    with FakeWebSite() as site, FakeLLMServer(echo_model()) as server:
        site.pages["/a.html"] = (200, "text/html", page)
        url = site.origin.replace("http://", "http://user:secret@") + "/a.html"
        env = cli_env(tmp_path, server.url)
        runs = [
            factcheck(env, "extract", url),  # live, through the response cache
            factcheck(env, "extract", url, "--force", "--record", str(tmp_path / "recordings")),
        ]
        case = json.loads((tmp_path / "reports" / "a" / "case.json").read_text(encoding="utf-8"))
        claim = next(c["id"] for c in case["claims"] if c["nature"] == "fact")
        append_events(tmp_path / "reports" / "a", [verdict(claim, "false"), source(claim, "https://example.org/r")])
        runs += [factcheck(env, "report", "a", "--format", fmt) for fmt in ("md", "json", "claimreview")]
        prompts = json.dumps([request["messages"] for request in server.requests])

    assert [run.code for run in runs] == [0] * 5, [run.stderr for run in runs]
    assert site.authorizations and all(a and a.startswith("Basic ") for a in site.authorizations)
    assert "secret" not in prompts
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"reports", "cache", "recordings"} <= {p.relative_to(tmp_path).parts[0] for p in written}
    assert not [p for p in written if b"secret" in p.read_bytes()]
    assert case["document"]["source"] == site.origin + "/a.html"
