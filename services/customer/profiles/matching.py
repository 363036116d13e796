"""Duplicate detection: normalised keys, a similarity score, and a finder over the
whole base that does not compare every profile with every other.

Exact duplicates share a normalised phone or e-mail (found by the database with a
GROUP BY). Fuzzy duplicates are found by the *sorted-neighbourhood* method: the
profiles are sorted by their name key (tokens sorted, so "Chan Tai Man" and
"Man Tai Chan" sort together) and, in a second pass, by the same key reversed (so a
typo in the first letters does not move a profile far away) and, in a third, by
address (so a typo anywhere in a name still meets its twin at the same address);
each profile is scored only against the next ``window - 1`` profiles of each
order. Comparisons grow as ``3 · n · window``, not ``n²``.

Scores come from rapidfuzz: 60 % name, 40 % address when both profiles have one
and the addresses alone score at least the threshold (else at most 0.8; numbers
in an address must match, or it scores little); without addresses a name alone scores at most
0.8, below the default threshold, so a common name is never enough by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from shared.search_keys import name_key, tokens  # noqa: F401 (the customer service's names)

THRESHOLD = 0.85
WINDOW = 10


def address_key(address: dict | None) -> str:
    if not address:
        return ""
    parts = (address.get(k) or "" for k in ("line1", "line2", "district", "city"))
    return " ".join(tokens(" ".join(parts)))


@dataclass(frozen=True)
class Profile:
    id: str
    name_key: str
    address_key: str = ""
    numbers: frozenset = frozenset()

    def __post_init__(self):
        object.__setattr__(
            self,
            "numbers",
            frozenset(t for t in self.address_key.split() if any(c.isdigit() for c in t)),
        )


def score(a: Profile, b: Profile) -> float:
    name = fuzz.token_sort_ratio(a.name_key, b.name_key) / 100
    if not (a.address_key and b.address_key):
        return round(0.8 * name, 3)
    # Street and district alike count for little if a flat or building number
    # differs: neighbours are not duplicates.
    address = (
        fuzz.ratio(a.address_key, b.address_key) / 100 * (1 if a.numbers == b.numbers else 0.6)
    )
    if name < 0.95 and address >= 0.9:
        # At the same address, a typo in a name's first letter reorders its sorted
        # tokens: compare token by token instead (costlier, so only here).
        name = max(name, _tokenwise(a.name_key, b.name_key))
    combined = 0.6 * name + 0.4 * address
    # Both must be alike: a common name at a merely similar-looking address is not
    # a duplicate (addresses share "flat", "road", "hong kong").
    return round(combined if address >= THRESHOLD else min(combined, 0.8), 3)


def _tokenwise(a: str, b: str) -> float:
    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return 0.0
    forward = sum(max(fuzz.ratio(x, y) for y in tb) for x in ta) / len(ta)
    backward = sum(max(fuzz.ratio(y, x) for x in ta) for y in tb) / len(tb)
    return min(forward, backward) / 100


@dataclass
class Finding:
    pairs: dict[tuple[str, str], float]
    comparisons: int


def find_fuzzy(
    profiles: Iterable[Profile], window: int = WINDOW, threshold: float = THRESHOLD
) -> Finding:
    """Candidate pairs (ids in order) with their score, by sorted neighbourhood."""
    records = list(profiles)
    orders: tuple[Callable[[Profile], tuple], ...] = (
        lambda p: (p.name_key, p.address_key),
        lambda p: (p.name_key[::-1], p.address_key),
        lambda p: (p.address_key, p.name_key),
    )
    seen: set[tuple[str, str]] = set()
    found: dict[tuple[str, str], float] = {}
    for order in orders:
        ordered = sorted(records, key=order)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 : i + window]:
                pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
                if pair in seen:
                    continue
                seen.add(pair)
                s = score(a, b)
                if s >= threshold:
                    found[pair] = s
    return Finding(found, len(seen))
