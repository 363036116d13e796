"""The duplicate finder over a large base: it finds planted duplicates among
100,000 generated profiles without comparing every pair."""

import random

from services.customer.profiles import matching

SURNAMES = [
    "Chan",
    "Wong",
    "Lee",
    "Cheung",
    "Lau",
    "Ng",
    "Leung",
    "Ho",
    "Lam",
    "Tam",
    "Yeung",
    "Tsang",
    "Chow",
    "Mak",
    "Kwok",
    "Fung",
    "Choi",
    "Lai",
    "Yip",
    "Siu",
]
GIVEN = [
    "Tai",
    "Man",
    "Siu",
    "Ming",
    "Ka",
    "Wai",
    "Chi",
    "Kin",
    "Wing",
    "Yan",
    "Hoi",
    "Mei",
    "Ling",
    "Fai",
    "Kwan",
    "Shing",
    "Yee",
    "Lok",
    "Hin",
    "Tsz",
    "Kit",
    "Pui",
    "Sze",
    "Ho",
    "Yu",
    "Chun",
    "Hung",
    "Keung",
    "Fong",
    "Lun",
]
STREETS = [
    "Nathan Road",
    "Queen's Road Central",
    "Hennessy Road",
    "King's Road",
    "Des Voeux Road",
    "Castle Peak Road",
    "Sai Yeung Choi Street",
    "Argyle Street",
    "Tai Po Road",
    "Shau Kei Wan Road",
    "Lockhart Road",
    "Canton Road",
]
DISTRICTS = [
    "Mong Kok",
    "Central",
    "Wan Chai",
    "North Point",
    "Sham Shui Po",
    "Tsuen Wan",
    "Tsim Sha Tsui",
    "Kowloon Tong",
    "Sha Tin",
    "Causeway Bay",
    "Aberdeen",
    "Tuen Mun",
]


def person(rng: random.Random, i: int) -> tuple[str, dict]:
    name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)} {rng.choice(GIVEN)}"
    address = {
        "line1": f"Flat {rng.randint(1, 40)}{rng.choice('ABCDEFGH')}, "
        f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
        "district": rng.choice(DISTRICTS),
        "city": "Hong Kong",
    }
    return name, address


def variant(rng: random.Random, name: str, address: dict) -> tuple[str, dict]:
    """The same customer entered again, differently."""
    tokens = name.split()
    kind = rng.randrange(4)
    if kind == 0:  # a typo
        t = rng.randrange(len(tokens))
        word = tokens[t]
        k = rng.randrange(len(word))
        tokens[t] = word[:k] + rng.choice("aeiou") + word[k + 1 :]
        name = " ".join(tokens)
    elif kind == 1:  # given names first
        name = " ".join(tokens[1:] + tokens[:1])
    elif kind == 2:  # hyphenated, upper case
        name = f"{tokens[0].upper()} {tokens[1]}-{tokens[2].lower()}"
    else:  # abbreviated address
        address = {**address, "line1": address["line1"].replace("Road", "Rd").replace(",", "")}
    return name, address


def profiles(n=100_000, planted=500, seed=7):
    rng = random.Random(seed)
    records, pairs = [], set()
    for i in range(n - planted):
        name, address = person(rng, i)
        records.append(
            matching.Profile(f"c{i:06d}", matching.name_key(name), matching.address_key(address))
        )
        if i < planted:
            twin_name, twin_address = variant(rng, name, address)
            twin = f"d{i:06d}"
            records.append(
                matching.Profile(
                    twin, matching.name_key(twin_name), matching.address_key(twin_address)
                )
            )
            pairs.add((f"c{i:06d}", twin))
    rng.shuffle(records)
    return records, pairs


def test_planted_duplicates_are_found_without_n_squared_comparisons():
    records, planted = profiles()
    n = len(records)
    finding = matching.find_fuzzy(records)
    found = set(finding.pairs)
    recall = len(planted & found) / len(planted)
    assert recall >= 0.95, f"found {recall:.1%} of the planted duplicates"
    assert finding.comparisons <= 3 * n * (matching.WINDOW - 1)
    assert finding.comparisons < n * (n - 1) / 2 / 1000
    # Unplanted pairs share a name *and* most of an address: a handful, not thousands.
    assert len(found - planted) < n * 0.01


def test_scores():
    a = matching.Profile(
        "a",
        matching.name_key("Chan Tai Man"),
        matching.address_key({"line1": "12 Nathan Road", "city": "Hong Kong"}),
    )
    same = matching.Profile(
        "b",
        matching.name_key("CHAN, Tai-man"),
        matching.address_key({"line1": "12 Nathan Rd", "city": "Hong Kong"}),
    )
    other = matching.Profile(
        "c",
        matching.name_key("Wong Siu Ming"),
        matching.address_key({"line1": "3 Canton Road", "city": "Kowloon"}),
    )
    assert matching.score(a, same) >= matching.THRESHOLD > matching.score(a, other)
    no_address = matching.Profile("d", a.name_key)
    assert matching.score(a, no_address) < matching.THRESHOLD
