"""Articles of realistic size for the benchmark: varied paragraphs of news-like sentences, deterministic by seed.

Every sentence is plain prose between 30 and 240 characters that ends in a full stop, so the stand-in model of
``tests/fakeserver.py`` can quote it and the quote grounds.
"""

from __future__ import annotations

import random

_WHO = [
    "The Ministry of Transport", "The regional health authority", "The city council", "The national statistics office",
    "The central bank", "A parliamentary committee", "The port authority", "The education department",
    "The water utility", "The federal prosecutor", "The state audit office", "The electoral commission",
]  # fmt: skip
_DID = [
    "reported", "announced", "estimated", "confirmed", "published figures showing", "told reporters",
    "said in a statement", "disclosed in its annual report",
]  # fmt: skip
_WHAT = [
    "{n:,} road deaths in the northern region, up {p} percent from the year before",
    "that waiting times for hip operations had fallen to {d} days on average",
    "a budget of {m} million for the renovation of {n:,} school buildings",
    "that unemployment among people under 25 reached {p} percent in the second quarter",
    "{n:,} new homes completed, the highest figure since {y}",
    "that the river had risen {d} centimetres above its average level in March",
    "charges against {d} people over the alleged diversion of {m} million in public funds",
    "that turnout in the municipal election was {p} percent, against {q} percent in {y}",
    "fines totalling {m} million for breaches of the drinking water rules",
    "that {n:,} complaints about late trains were filed in the first half of the year",
]  # fmt: skip
_OPINION = [
    "Critics argue that the plan will do little to help the families most affected.",
    "Supporters say the measure is the most important reform of the decade.",
    "Local residents described the decision as a betrayal of earlier promises.",
    "The opposition called the figures misleading and demanded an independent review.",
    "Observers expect the debate to dominate the next session of parliament.",
]  # fmt: skip


def sentence(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(_OPINION)
    what = rng.choice(_WHAT).format(
        n=rng.randint(120, 98_000), p=rng.randint(2, 64), q=rng.randint(2, 64), d=rng.randint(3, 300),
        m=rng.randint(2, 900), y=rng.randint(1990, 2023),
    )  # fmt: skip
    when = rng.choice(["In 2024, ", "Last year, ", "On Tuesday, ", "In its latest release, ", ""])
    who = rng.choice(_WHO)
    return f"{when}{who if not when else who[0].lower() + who[1:]} {rng.choice(_DID)} {what}."


def article(seed: int, chars: int) -> str:
    """A title, a standfirst and paragraphs of 1 to 6 sentences (an occasional subheading) to about ``chars``."""
    rng = random.Random(seed)
    parts = [f"Report {seed}: what the public records show", sentence(rng)]
    size = sum(len(p) + 2 for p in parts)
    while size < chars:
        if len(parts) % 10 == 0:
            parts.append(f"Part {len(parts) // 10 + 1}")
        parts.append(" ".join(sentence(rng) for _ in range(rng.randint(1, 6))))
        size += len(parts[-1]) + 2
    return "\n\n".join(parts) + "\n"
