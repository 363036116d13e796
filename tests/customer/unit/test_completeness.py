"""Profile completeness against a segment's required fields
(services.customer.profiles.versions.completeness), on plain profiles: phone and email count
when a contact point of that kind exists, other fields when they hold a value."""

from services.customer.profiles.versions import completeness


def profile(**fields):
    return {"name": "Chan Tai Man", "contact_points": [], **fields}


def test_a_segment_that_requires_nothing_is_always_complete():
    assert completeness(profile(), []) == {"score": 1.0, "missing": []}


def test_phone_and_email_are_met_by_contact_points_of_their_kind():
    points = [{"kind": "phone", "value": "+85291234567"}]
    found = completeness(profile(contact_points=points), ["phone", "email"])
    assert found == {"score": 0.5, "missing": ["email"]}
    # A field named phone on the profile itself does not count: the contact point does.
    assert completeness(profile(phone="+85291234567"), ["phone"])["missing"] == ["phone"]


def test_empty_values_count_as_missing_and_the_order_of_requirement_is_kept():
    found = completeness(
        profile(address={}, notes="", tags=[], date_of_birth=None),
        ["tags", "name", "address", "notes", "date_of_birth"],
    )
    assert found == {"score": 0.2, "missing": ["tags", "address", "notes", "date_of_birth"]}


def test_the_score_is_the_share_present_to_three_places():
    found = completeness(profile(notes="VIP"), ["name", "notes", "address"])
    assert found == {"score": 0.667, "missing": ["address"]}


def test_a_profile_as_read_scores_as_its_version_snapshot_does():
    # GET /customers/{id} scores the row as read; a version scores its snapshot.
    # Every field a segment can require must be empty or not alike in both.
    from datetime import date

    from services.customer.profiles.versions import snapshot_of
    from services.customer.segments.segments import REQUIRABLE

    points = [{"kind": "email", "value": "a@example.com", "do_not_contact": 0, "status": None}]
    full = profile(
        contact_points=points,
        address={"line1": "1 Queen's Road"},
        preferred_language="yue",
        owner_team="hk",
        date_of_birth=date(1980, 1, 2),
        external_ref="X-1",
        tags=["vip"],
    )
    empty = profile(address={}, tags=[], owner_team="", date_of_birth=None)
    for read in (full, empty):
        snapshot = snapshot_of(read, read["contact_points"])
        assert completeness(read, list(REQUIRABLE)) == completeness(snapshot, list(REQUIRABLE))
