"""Time-ordered ids for bulk rows (shared.ids): valid version 7 UUIDs, distinct, in order."""

import time
import uuid

from shared.ids import ordered_ids


def test_a_batch_is_distinct_sorted_version_7_uuids_of_now():
    before = time.time_ns() // 1_000_000
    ids = ordered_ids(5000)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 5000 and ids == sorted(ids)
    for text in (ids[0], ids[-1]):
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        assert before <= parsed.int >> 80 <= after


def test_later_batches_sort_after_and_never_repeat():
    seen, last = set(), ""
    for _ in range(200):
        batch = ordered_ids(50)
        assert not seen.intersection(batch)
        seen.update(batch)
        time.sleep(0.002)
        assert batch[0] > last
        last = batch[-1]
