"""shared/cli.py, the failure handling of every ``rapport-*`` command: each failure
is one line naming the command, with its exit status, and ``rapport-token``'s own
refusals."""

from __future__ import annotations

import json

import pytest
import requests

from shared.auth import main as token_main
from shared.auth import verify_token
from shared.cli import Failed, command, expect
from shared.config import DEV_SECRET


def ran(capsys, fail, status):
    @command("rapport-x")
    def main(argv=None) -> int:
        fail()
        return 0

    assert main([]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err.strip()


def raiser(exc):
    def fail():
        raise exc

    return fail


def test_each_failure_is_one_line_with_its_status(capsys, tmp_path):
    assert ran(capsys, raiser(Failed("no such segment", 1)), 1) == "rapport-x: no such segment"
    assert ran(capsys, lambda: (tmp_path / "f.csv").read_text(), 2) == (
        f"rapport-x: cannot read {tmp_path / 'f.csv'}: No such file or directory"
    )
    assert ran(capsys, raiser(KeyboardInterrupt()), 130) == "rapport-x: interrupted"
    assert ran(capsys, raiser(KeyError("id")), 1) == "rapport-x: unexpected KeyError: 'id'"
    assert ran(capsys, raiser(ValueError("bad\nvalue")), 1) == (
        "rapport-x: unexpected ValueError: bad value"
    )


def test_a_timeout_or_a_malformed_address_is_one_line(capsys):
    timed_out = requests.Timeout(request=requests.Request("GET", "http://h:1/api/v1/x").prepare())
    assert ran(capsys, raiser(timed_out), 2) == "rapport-x: http://h:1 did not answer in time"
    assert ran(capsys, lambda: requests.get("no-scheme", timeout=1), 2).startswith(
        "rapport-x: cannot send the request to the API: Invalid URL 'no-scheme'"
    )


def answer(status: int, body, content_type="application/problem+json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response.headers["Content-Type"] = content_type
    response.request = requests.Request("POST", "http://h:1/api/v1/things").prepare()
    response.url = response.request.url
    return response


def test_expect_passes_what_was_expected_and_names_anything_else():
    ok = answer(202, {"id": "j1"})
    assert expect(ok, 200, 202) is ok
    with pytest.raises(Failed, match=r"^the API refused the token \(401\): expired$"):
        expect(answer(401, {"title": "Unauthorized", "detail": "expired"}), 200)
    with pytest.raises(Failed, match=r"^things refused the token \(403\)$"):
        expect(answer(403, ""), 200, what="things")
    with pytest.raises(
        Failed,
        match=r"^the API answered 502 to POST http://h:1/api/v1/things: "
        r"<html>Bad gateway$",
    ):
        expect(answer(502, "<html>Bad gateway\n</html>", "text/html"), 200)
    with pytest.raises(Failed) as refused:
        expect(answer(500, {"title": "Internal Server Error"}), 200)
    assert refused.value.status == 2 and str(refused.value).endswith(": Internal Server Error")


def test_rapport_token_issues_a_token_and_refuses_in_one_line(capsys, monkeypatch):
    monkeypatch.delenv("RAPPORT_AUTH_SECRET", raising=False)
    monkeypatch.delenv("RAPPORT_DEV_MODE", raising=False)
    assert token_main(["--role", "manager", "--subject", "ann"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rapport-token: RAPPORT_AUTH_SECRET is not set") and err.count("\n") == 1
    monkeypatch.setenv("RAPPORT_DEV_MODE", "1")
    assert token_main(["--role", "manager", "--subject", "ann", "--hours", "nan"]) == 2
    assert capsys.readouterr().err == (
        "rapport-token: --hours must be more than 0 and at most a year, not nan\n"
    )
    assert token_main(["--role", "partner", "--subject", "ann"]) == 2
    assert "needs a partner id" in capsys.readouterr().err
    assert token_main(["--role", "agent", "--subject", "ann", "--hours", "1"]) == 0
    issued = capsys.readouterr().out.strip()
    assert verify_token(DEV_SECRET, issued).role == "agent"
