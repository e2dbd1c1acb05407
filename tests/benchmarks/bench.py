"""Speed and cost of factcheck, measured against a latency-injecting local server.

    python tests/benchmarks/bench.py [--latency 0.2] [--markdown]

Starts ``FakeLLMServer(echo_model(latency))`` on loopback and runs the real command (``factcheck extract`` in a
subprocess, OPENAI_BASE_URL pointing at the server, reports and response cache in a temporary folder), then times
the library's report renderer and review-log fold in this process. Prints one table, each row with its target and
whether it was met. A script, not a test: timings depend on the machine, so nothing here fails a build.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(HERE)]

from articles import article  # noqa: E402
from fakeserver import FakeLLMServer, Reply, Responder, echo_model, schema_name  # noqa: E402

SEED = ROOT / "seeds" / "tren-de-aragua-terrorist-designation.txt"
FACTCHECK = Path(sys.executable).parent / "factcheck"
CHARS_PER_TOKEN = 4  # factcheck's own estimate (extract.CHARS_PER_TOKEN)
SIZES = [3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000, 12_000, 14_000,
         16_000, 18_000, 20_000, 24_000, 28_000, 32_000, 36_000, 40_000, 48_000]  # fmt: skip
CRITICAL_PATH = (
    "critical path = max(2, ceil(R / C)) x L: R requests the run made, C = --concurrency, L = latency; "
    "2 because a document's questions wait for its extraction"
)


@dataclass
class Row:
    name: str
    value: str
    target: str = ""
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.passed is None else ("pass" if self.passed else "FAIL")


# ----------------------------------------------------------------------------------------------- the server


class Timed:
    """A responder that notes when each request arrived, so the server's busy span and overlap can be read."""

    def __init__(self, inner: Responder) -> None:
        self.inner = inner
        self.arrivals: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.arrivals.append(time.perf_counter())
        return self.inner(body)


@contextmanager
def server(latency: float) -> Iterator[tuple[FakeLLMServer, Timed]]:
    timed = Timed(echo_model(latency))
    running = FakeLLMServer(timed)  # it sets TCP_NODELAY: the bench measures factcheck, not delayed ACKs
    with running:
        yield running, timed


def max_in_flight(arrivals: list[float], latency: float) -> int:
    events = sorted([(t, 1) for t in arrivals] + [(t + latency, -1) for t in arrivals])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


# ----------------------------------------------------------------------------------------------- the command


def command_env(work: Path, url: str, run: str = "run") -> dict[str, str]:
    """Reports and response cache of their own for each ``run``; what factcheck learnt of the server is shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FACTCHECK_"))}
    cache = work / run / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    learnt = work / "capabilities.json"
    if learnt.exists():
        shutil.copy(learnt, cache / "capabilities.json")
    env.update(
        OPENAI_BASE_URL=url, OPENAI_API_KEY="bench", FACTCHECK_MODEL="fake-model",
        FACTCHECK_REPORTS=str(work / run / "reports"), FACTCHECK_CACHE_DIR=str(cache),
    )  # fmt: skip
    return env


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    returncode: int
    stderr: str


def run_factcheck(args: list[str], env: dict[str, str]) -> Run:
    """Run the installed ``factcheck`` and wait for it."""
    started = time.perf_counter()
    done = subprocess.run([str(FACTCHECK), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return Run(time.perf_counter() - started, 0.0, done.returncode, done.stderr.decode())


# A child's ru_maxrss starts from its parent's resident size when it was forked (Linux keeps the high-water mark
# across exec), and this process holds a 10,000-claim case by then. So a small launcher starts factcheck and
# reports its ru_maxrss: the grandchild's count starts from the launcher's few megabytes.
_LAUNCHER = """
import os, sys
devnull = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=devnull)
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_factcheck_for_memory(args: list[str], env: dict[str, str]) -> Run:
    """Run ``factcheck`` through the launcher; its own peak resident memory, as ru_maxrss gives it."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(FACTCHECK), *args], env=env, capture_output=True)
    max_rss_kb, returncode = map(int, done.stdout.split())
    return Run(time.perf_counter() - started, max_rss_kb / 1024, returncode, done.stderr.decode())


def write_documents(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / SEED.name]
    shutil.copy(SEED, paths[0])
    for index, size in enumerate(SIZES):
        path = folder / f"article-{index + 1:02d}.txt"
        path.write_text(article(index + 1, size), encoding="utf-8")
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------------------------- measures


def bench_extract(latency: float, concurrency: int, repeats: int = 3) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="factcheck-bench-") as tmp, server(latency) as (fake, timed):
        work = Path(tmp)
        docs = write_documents(work / "docs")
        warm_up(work, fake.url)
        runs = []
        for attempt in range(repeats):
            fake.requests.clear()
            timed.arrivals.clear()
            env = command_env(work, fake.url, f"run-{attempt}")
            args = ["extract", "--concurrency", str(concurrency), *map(str, docs)]
            started = time.perf_counter()
            run = run_factcheck(args, env)
            if run.returncode:
                raise SystemExit(f"extract failed:\n{run.stderr}")
            runs.append((run, min(timed.arrivals) - started, list(fake.requests), list(timed.arrivals)))
        first, to_first_request, requests, arrivals = sorted(runs, key=lambda r: r[0].seconds)[repeats // 2]
        answered = len(fake.requests)
        again = run_factcheck(args, env)
        after_unchanged = len(fake.requests) - answered
        forced = run_factcheck([*args[:1], "--force", *args[1:]], env)
        after_forced = len(fake.requests) - answered - after_unchanged
        if again.returncode or forced.returncode:
            raise SystemExit(f"second run failed:\n{again.stderr}{forced.stderr}")
        doc_chars = sum(len(_document_text(d)) for d in docs)
    total = len(requests)
    critical = max(2, math.ceil(total / concurrency)) * latency
    drafting = first.seconds - to_first_request
    busy = max(arrivals) + latency - min(arrivals)
    by_stage = _stage_costs(requests)
    doc_tokens = doc_chars / CHARS_PER_TOKEN
    ex, qu = by_stage["DraftClaims"], by_stage["DraftQuestionBatch"]
    fixed_ex = ex.fixed_chars / max(1, ex.count) / CHARS_PER_TOKEN
    return [
        Row("documents / total document tokens", f"{len(docs)} / {doc_tokens:,.0f}"),
        Row(
            f"extract wall, L={latency * 1000:.0f} ms, C={concurrency} (median of {repeats})",
            f"{first.seconds:.2f} s = start-up {to_first_request:.2f} s + drafting {drafting:.2f} s; "
            f"critical path {critical:.2f} s (R={total}); drafting {drafting / critical:.2f}x, "
            f"whole command {first.seconds / critical:.2f}x",
            "drafting <= 1.25x critical path",
            drafting <= 1.25 * critical,
        ),
        Row(
            "request slots in use, first request to last answer",
            f"{total * latency / (concurrency * busy):.0%} of {concurrency} over {busy:.2f} s, "
            f"peak {max_in_flight(arrivals, latency)} in flight",
        ),
        Row(
            "LLM calls per document: extraction / questions", f"{ex.count / len(docs):.2f} / {qu.count / len(docs):.2f}"
        ),
        Row(
            "extraction prompt tokens per doc token (without / with fixed prompt)",
            f"{ex.variable_chars / doc_chars:.3f} / {ex.all_chars / doc_chars:.3f} "
            f"(fixed prompt {fixed_ex:,.0f} tokens a call)",
            "<= 1.3 + fixed prompt",
            ex.variable_chars / doc_chars <= 1.3,
        ),
        Row(
            "questions prompt tokens per doc token (without / with fixed prompt)",
            f"{qu.variable_chars / doc_chars:.3f} / {qu.all_chars / doc_chars:.3f}",
            "<= 0.5 (without)",
            qu.variable_chars / doc_chars <= 0.5,
        ),
        Row(
            "requests by a second run, unchanged input (cache on)",
            f"{after_unchanged} ({again.seconds:.2f} s); with --force: {after_forced} ({forced.seconds:.2f} s)",
            "0",
            after_unchanged == 0 and after_forced == 0,
        ),
    ]


def warm_up(work: Path, url: str) -> None:
    """Let factcheck learn the server's structured-output mode once, as any earlier run would have: a first-ever
    run against a server spends one extra round trip on it (see docs/benchmarks.md)."""
    path = work / "warm-up.txt"
    path.write_text(article(0, 1_000), encoding="utf-8")
    run = run_factcheck(["extract", str(path)], command_env(work, url, "warm-up"))
    if run.returncode:
        raise SystemExit(f"warm-up extract failed:\n{run.stderr}")
    shutil.copy(work / "warm-up" / "cache" / "capabilities.json", work / "capabilities.json")


def _document_text(path: Path) -> str:
    from factcheck.documents import load_document

    return load_document(str(path)).text


@dataclass
class StageCost:
    count: int = 0
    variable_chars: int = 0
    all_chars: int = 0

    @property
    def fixed_chars(self) -> int:
        return self.all_chars - self.variable_chars


def _stage_costs(requests: list[dict[str, Any]]) -> dict[str, StageCost]:
    """Characters of message text each stage sent; "variable" is the document's own part (the chunk, or the claims
    payload), the rest is the fixed prompt: instructions, title, fences."""
    from fakeserver import _FENCED

    costs = {"DraftClaims": StageCost(), "DraftQuestionBatch": StageCost()}
    for body in requests:
        name = schema_name(body)
        cost = costs.setdefault(name, StageCost())
        user = body["messages"][-1]["content"]
        if name == "DraftClaims":
            fenced = _FENCED.search(user)
            variable = len(fenced.group(2)) if fenced else 0
        else:
            variable = len(user[user.index("[") :]) if "[" in user else 0
        cost.count += 1
        cost.variable_chars += variable
        cost.all_chars += sum(len(m.get("content") or "") for m in body["messages"])
    return costs


def bench_help(runs: int = 7) -> list[Row]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(FACTCHECK), "--help"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    probe = (
        "import sys; sys.argv = ['factcheck', '--help']\n"
        "from factcheck.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('openai', 'httpx2', 'pydantic') if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    heavy = done.stderr.strip().splitlines()[-1]
    median = statistics.median(times)
    return [
        Row(
            f"factcheck --help start-up (median of {runs})",
            f"{median:.3f} s; heavy modules imported: {heavy}",
            "<= 0.3 s, no openai",
            median <= 0.3 and "openai" not in heavy,
        )
    ]


def bench_report(claims: int = 10_000) -> list[Row]:
    from big_case import big_case

    from factcheck.ratings import load_scale
    from factcheck.report import render_markdown, write_markdown_report
    from factcheck.review import load_state
    from factcheck.store import save_case

    with tempfile.TemporaryDirectory(prefix="factcheck-bench-") as tmp:
        folder = Path(tmp) / "big"
        save_case(big_case(claims), folder)
        seconds = _best_of(3, lambda: write_markdown_report(folder))
        state = load_state(folder)
        scale = load_scale(state.case.scale)
        render = _best_of(3, lambda: render_markdown(state, scale))
    return [
        Row(
            f"Markdown report of {claims:,} claims (load + fold + render + write)",
            f"{seconds:.3f} s (render alone {render:.3f} s)",
            "<= 1 s",
            seconds <= 1.0,
        )
    ]


def bench_fold(events: int = 100_000) -> list[Row]:
    from big_case import big_case, review_log

    from factcheck.review import fold, load_state
    from factcheck.store import append_events, read_events, save_case

    with tempfile.TemporaryDirectory(prefix="factcheck-bench-") as tmp:
        folder = Path(tmp) / "log"
        case = big_case(1_000)
        save_case(case, folder)
        append_events(folder, review_log(case, events))
        seconds = _best_of(3, lambda: load_state(folder))
        read = _best_of(3, lambda: read_events(folder))
        parsed, _ = read_events(folder)
        folded = _best_of(3, lambda: fold(case, parsed))
    return [
        Row(
            f"fold of a {events:,}-event review log (load_state: read + parse + fold)",
            f"{seconds:.3f} s (parse {read:.3f} s, fold alone {folded:.3f} s)",
            "<= 1 s",
            seconds <= 1.0,
        )
    ]


def bench_memory(chars: int = 600_000, latency: float = 0.005) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="factcheck-bench-") as tmp, server(latency) as (fake, _):
        work = Path(tmp)
        path = work / "two-hundred-pages.txt"
        path.write_text(article(200, chars), encoding="utf-8")
        run = run_factcheck_for_memory(["extract", str(path)], command_env(work, fake.url))
        if run.returncode:
            raise SystemExit("extract of the long document failed")
        case = json.loads((work / "run" / "reports" / "two-hundred-pages" / "case.json").read_text())
    return [
        Row(
            f"peak memory extracting a 200-page document ({chars // 1000} KB)",
            f"{run.max_rss_mb:.0f} MB ({run.seconds:.1f} s, {len(fake.requests)} requests, "
            f"{len(case['claims'])} claims)",
            "< 300 MB",
            run.max_rss_mb < 300,
        )
    ]


def _best_of(runs: int, work: Callable[[], object]) -> float:
    best = math.inf
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


# ----------------------------------------------------------------------------------------------- output


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.system()}"


def print_table(rows: list[Row], markdown: bool) -> None:
    if markdown:
        print("| measure | result | target | |\n|---|---|---|---|")
        for row in rows:
            print(f"| {row.name} | {row.value} | {row.target} | {row.verdict} |")
        return
    width = max(len(r.name) for r in rows)
    target_width = max(len(r.target) for r in rows)
    for row in rows:
        print(f"{row.name:<{width}}  {row.target:<{target_width}}  {row.verdict:<4}  {row.value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the fake server takes per answer")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--only", choices=["extract", "help", "report", "fold", "memory"], action="append")
    options = parser.parse_args()
    benches: dict[str, Callable[[], list[Row]]] = {
        "extract": lambda: bench_extract(options.latency, options.concurrency),
        "help": bench_help,
        "report": bench_report,
        "fold": bench_fold,
        "memory": bench_memory,
    }
    rows: list[Row] = []
    for name, bench in benches.items():
        if not options.only or name in options.only:
            rows.extend(bench())
    print(f"machine: {machine()}")
    print(f"definition: {CRITICAL_PATH}")
    print("prompt tokens: characters / 4 (factcheck's estimate); 'without fixed prompt' counts only the chunk text "
          "(extraction) or the claims payload (questions)")  # fmt: skip
    print_table(rows, options.markdown)


if __name__ == "__main__":
    main()
