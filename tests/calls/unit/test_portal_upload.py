"""The partner portal's CSV upload of outcomes: each row is judged by the bulk use
case (as POST /partner/outcomes) and reported with its line, its call and the API's
reasons, or the neutral "not in your work"; only good rows are written; a malformed
file is refused whole and writes nothing."""

import io
import re

import pytest

from tests.calls.helpers import counts, payloads
from tests.calls.unit.test_partner_api import world  # noqa: F401 (fixture)
from tests.calls.unit.test_portal import _completed, _csrf, a  # noqa: F401 (fixture)

HEADER = "call_id,outcome,satisfaction,propensity,duration_seconds,notes\n"


def _csv(body: str, header: str = HEADER):
    return io.BytesIO((header + body).encode())


def _upload(client, data, name="outcomes.csv"):
    csrf = _csrf(client.get("/portal/outcomes").get_data(as_text=True))
    return client.post(
        "/portal/outcomes",
        data={"csrf_token": csrf, "file": (data, name)},
        content_type="multipart/form-data",
    )


def _report(html: str) -> list[list[str]]:
    """The report table's cells, as text, row by row."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def test_a_bulk_upload_reports_each_row_and_records_only_the_good_ones(app, client, a):  # noqa: F811
    mine = [c["id"] for c in a["mine"]]
    theirs = a["theirs"][0]["id"]
    assert len(mine) >= 3
    r = _upload(
        client,
        _csv(
            f"{mine[0]},reached,5,60,200,fine\n"
            f"{theirs},reached,5,60,200,\n"
            f"{mine[1]},shrug,,,,\n"
            f"{mine[1]},reached,7,,abc,\n"
            f"no-such-call,busy,,,,\n"
            f"{mine[2]},no_answer,,,,\n"
        ),
    )
    assert r.status_code == 200
    rows = _report(r.get_data(as_text=True))
    assert [row[:3] for row in rows] == [
        ["2", mine[0], "accepted"],
        ["3", theirs, "refused"],
        ["4", mine[1], "refused"],
        ["5", mine[1], "refused"],
        ["6", "no-such-call", "refused"],
        ["7", mine[2], "accepted"],
    ]
    assert rows[1][3] == rows[4][3] == "This call is not in your work."
    assert rows[2][3].startswith("outcome: Must be one of")
    assert "satisfaction:" in rows[3][3] and "duration_seconds: Not a valid integer." in rows[3][3]
    assert _completed(app) == {mine[0]: "reached", mine[2]: "no_answer"}
    assert len(payloads(app, "call.completed")) == 2
    again = _report(
        _upload(client, _csv(f"{mine[0]},reached,5,60,200,fine\n")).get_data(as_text=True)
    )
    assert again == [["2", mine[0], "accepted (already recorded)", ""]]


@pytest.mark.parametrize(
    "data, why",
    [
        (_csv("x,reached\n", header="call,outcome\n"), "unknown: call; missing: call_id"),
        (_csv("", header="call_id,outcome\n"), "no rows"),
        (_csv("c,reached\n" * 1001, header="call_id,outcome\n"), "more than 1000 rows"),
        (io.BytesIO("call_id,outcome\nc,réussi\n".encode("latin-1")), "not UTF-8"),
        (_csv("x" * (1024 * 1024), header="call_id,outcome\n"), "larger than 1024 KB"),
        (_csv("c,reached,extra\n", header="call_id,outcome\n"), "more values than columns"),
    ],
)
def test_a_malformed_file_is_refused_whole_and_writes_nothing(app, client, a, data, why):  # noqa: F811
    mine = a["mine"][0]["id"]
    body = data.getvalue().replace(b"c,reached", f"{mine},reached".encode())
    before = counts(app)
    r = _upload(client, io.BytesIO(body))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nothing was saved." in html and why in html
    assert counts(app) == before and _completed(app) == {}
