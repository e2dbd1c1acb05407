"""factcheck: draft checkable claims with an LLM, review them in the terminal, publish what people decided."""

from __future__ import annotations

__version__ = "0.1.0"
