"""Claims -> verification questions: what a fact-checker must establish, which primary sources would settle it,
what to search for. Checkable claims are sent in batches with their local context, never the whole document."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePath

from factcheck.documents import is_web_url
from factcheck.errors import FactcheckError
from factcheck.llm import Completion, LLMClient, ask_each
from factcheck.models import Claim, Document, DraftQuestionBatch, Nature, Question, Usage
from factcheck.prompts import Prompt

DEFAULT_BATCH_SIZE = 8
CONTEXT_CHARS = 160


@dataclass
class QuestionsResult:
    claims: list[Claim]
    usage: Usage
    failures: list[str] = field(default_factory=list)
    batches: int = 0


def batches_of(claims: list[Claim], size: int) -> list[list[Claim]]:
    checkable = [c for c in claims if c.nature is Nature.fact and not c.questions]
    return [checkable[i : i + size] for i in range(0, len(checkable), size)]


def source_name(source: str) -> str:
    """How the prompt names the document: a URL as given, a file by its name. The folder it was read from says
    nothing about it, and would tie every recorded exchange to the path as one user typed it."""
    return source if is_web_url(source) else PurePath(source).name or source


def local_context(document: Document, claim: Claim) -> str:
    """The words just before the quote in its paragraph, so a pronoun or 'this' can be resolved."""
    paragraph = document.paragraphs[claim.paragraph]
    start = max(paragraph.start, claim.start - CONTEXT_CHARS)
    before = document.text[start : claim.start]
    if start > paragraph.start:
        before = "…" + before.split(" ", 1)[-1]
    return before.strip()


def claims_payload(document: Document, batch: list[Claim]) -> str:
    items = []
    for claim in batch:
        item = {"claim_id": claim.id, "claim": claim.statement, "quote": claim.quote}
        context = local_context(document, claim)
        if context:
            item["preceding_text"] = context
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=1)


def _covers_batch(batch: list[Claim]) -> Callable[[DraftQuestionBatch], None]:
    wanted = [c.id for c in batch]

    def check(answer: DraftQuestionBatch) -> None:
        given = [item.claim_id for item in answer.items]
        missing = [i for i in wanted if i not in given]
        unknown = [i for i in given if i not in wanted]
        repeated = sorted({i for i in given if given.count(i) > 1})
        problems = []
        if missing:
            problems.append(f"no questions for claim_id {', '.join(missing)}")
        if unknown:
            problems.append(f"claim_id {', '.join(unknown)} was not given")
        if repeated:
            problems.append(f"claim_id {', '.join(repeated)} answered more than once")
        if problems:
            raise ValueError("; ".join(problems) + ". Answer with exactly one item per claim_id given.")

    return check


def draft_questions(
    document: Document,
    claims: list[Claim],
    client: LLMClient,
    prompt: Prompt,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    pool: ThreadPoolExecutor | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> QuestionsResult:
    """Draft 2-5 verification questions for every checkable claim that has none yet."""
    batches = batches_of(claims, batch_size)

    def ask(batch: list[Claim]) -> Completion[DraftQuestionBatch]:
        messages = prompt.render(
            title=document.title, source=source_name(document.source), claims=claims_payload(document, batch)
        )
        return client.structured(messages, DraftQuestionBatch, check=_covers_batch(batch))

    results = ask_each(ask, batches, pool=pool, on_each=(lambda batch: on_batch(len(batch))) if on_batch else None)
    answered: dict[str, list[Question]] = {}
    errors: dict[str, str] = {}
    usage = Usage()
    failures = []
    for batch, answer in zip(batches, results, strict=True):
        if isinstance(answer, FactcheckError):
            failures.append(f"questions for {len(batch)} claims: {answer}")
            answered.update({c.id: [] for c in batch})
            errors.update({c.id: str(answer) for c in batch})
            continue
        usage = usage + answer.usage
        answered.update(
            (item.claim_id, [Question.model_validate(q.model_dump()) for q in item.questions])
            for item in answer.value.items
        )
    updated = [
        c.model_copy(update={"questions": answered[c.id], "questions_error": errors.get(c.id)})
        if c.id in answered
        else c
        for c in claims
    ]
    return QuestionsResult(updated, usage, failures, len(batches))
