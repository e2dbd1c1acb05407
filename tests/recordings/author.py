"""Regenerate the bundled replay of the sample seed from its hand-authored answers.

The answers in ``authored/`` were written by hand for the sample document; they are not model output. This script
runs the real drafting pipeline against a stand-in server that answers with them, and saves the exchanges with
provenance ``authored``. Run it after changing a prompt, the schema or the sample:

    .venv/bin/python tests/recordings/author.py
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from factcheck.documents import load_document  # noqa: E402
from factcheck.draft import DraftOptions, Session, draft_case  # noqa: E402
from factcheck.llm import LLMClient, Settings  # noqa: E402
from factcheck.models import RecordingSource  # noqa: E402
from factcheck.recording import BUNDLED, RecordingTransport  # noqa: E402

SEED = ROOT / "seeds" / "tren-de-aragua-terrorist-designation.txt"
ANSWERS = Path(__file__).parent / "authored"
MODEL = "authored-fixture"
AUTHORED = RecordingSource(
    kind="authored",
    model=MODEL,
    date="2026-11-25",
    note="Claims and questions written by hand for the sample seed as a fixture; not model output. "
    "Token usage figures are estimates (characters / 4).",
)


class AuthoredAnswers(httpx2.BaseTransport):
    """Answers extraction and question requests for the sample seed from the hand-written files."""

    def __init__(self, stem: str) -> None:
        self.claims = json.loads((ANSWERS / f"{stem}.claims.json").read_text(encoding="utf-8"))
        self.questions: dict[str, Any] = json.loads((ANSWERS / f"{stem}.questions.json").read_text(encoding="utf-8"))

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.read())
        schema_name = body["response_format"]["json_schema"]["name"]
        if schema_name == "DraftClaims":
            answer: Any = self.claims
        elif schema_name == "DraftQuestionBatch":
            answer = {"items": [self._questions_for(item) for item in json.loads(_claims_payload(body))]}
        else:
            return httpx2.Response(400, json={"error": {"message": f"no authored answer for {schema_name}"}})
        content = json.dumps(answer, ensure_ascii=False)
        prompt_chars = sum(len(m["content"]) for m in body["messages"])
        return httpx2.Response(
            200,
            json={
                "id": "authored-" + hashlib.sha256(content.encode()).hexdigest()[:16],
                "object": "chat.completion",
                "created": 0,
                "model": MODEL,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": prompt_chars // 4,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": prompt_chars // 4 + len(content) // 4,
                },
            },
        )

    def _questions_for(self, item: dict[str, str]) -> dict[str, Any]:
        return {"claim_id": item["claim_id"], "questions": self.questions[item["quote"]]}


def _claims_payload(body: dict[str, Any]) -> str:
    user = body["messages"][-1]["content"]
    return user[user.index("[") :]


def main() -> None:
    document = load_document(str(SEED))
    shutil.rmtree(BUNDLED, ignore_errors=True)
    transport = RecordingTransport(
        BUNDLED, "record", base_path="/v1", upstream=AuthoredAnswers(SEED.stem), source=AUTHORED
    )
    client = LLMClient(Settings(model=MODEL, base_url="http://authored.invalid/v1"), transport=transport, offline=True)
    session = Session(client, transport, "record")
    case = draft_case(document, session, DraftOptions())
    session.pool.shutdown()
    facts = sum(1 for c in case.claims if c.nature == "fact")
    print(f"{len(case.claims)} claims ({facts} facts), {len(case.rejected)} rejected, {transport.forwarded} exchanges")
    print(f"saved to {BUNDLED}")


if __name__ == "__main__":
    main()
