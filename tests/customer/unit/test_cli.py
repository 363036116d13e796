"""``rapport-customers import``: against the real customer API (served on a local
port), a file imports and its rejected rows are listed; a missing or unreadable
file, an API that is not there, a refused token and a refused upload are each one
line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from services.customer import config
from services.customer.app import create_app
from services.customer.cli import main
from tests.conftest import make_token

HEADER = "external_ref,name,phone,email,segment,preferred_language,tags,address_line1,do_not_call"
ROWS = [
    "C1,Chan Tai Man,9123 4567,,smb,,,,",
    "C2,Wong Siu Ming,+852 6123 4567,,smb,,,,",
    "C3,Bad Phone,12345,,smb,,,,",
]


@pytest.fixture
def api_url(service_app, sqlite_url, tmp_path):
    app = service_app(create_app, config.MIGRATIONS, sqlite_url, DATA_DIR=str(tmp_path / "d"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["rapport"].db.dispose()


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    return path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(capsys, *argv):
    status = main(["import", *map(str, argv), "--quiet"])
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("rapport-customers: ")
    return lines[0]


def test_a_file_imports_and_its_rejected_rows_are_listed(api_url, csv_path, capsys):
    status, out, err = run(capsys, csv_path, "--url", api_url, "--token", make_token())
    assert status == 0
    assert out.strip() == "done: 2 created, 0 updated, 0 unchanged, 1 rejected of 3 rows"
    assert err.startswith("line 4: ") and "phone" in err


def test_a_missing_file_is_one_line(tmp_path, capsys):
    missing = tmp_path / "nowhere.csv"
    status, out, err = run(
        capsys, missing, "--token", "t", "--url", f"http://127.0.0.1:{closed_port()}"
    )
    assert status == 2 and out == ""
    assert one_line(err) == f"rapport-customers: cannot read {missing}: No such file or directory"


def test_a_directory_or_an_unreadable_file_is_one_line(tmp_path, csv_path, capsys):
    status, _, err = run(capsys, tmp_path, "--token", "t")
    assert status == 2 and "it is a directory" in one_line(err)
    if os.geteuid() != 0:  # root reads whatever the mode says
        csv_path.chmod(0)
        status, _, err = run(capsys, csv_path, "--token", "t")
        assert status == 2 and "Permission denied" in one_line(err)


def test_an_unreachable_api_is_one_line(csv_path, capsys):
    url = f"http://127.0.0.1:{closed_port()}"
    status, _, err = run(capsys, csv_path, "--url", url, "--token", make_token())
    assert status == 2
    assert one_line(err).startswith(f"rapport-customers: cannot reach {url}:")


def test_a_refused_token_is_one_line_with_the_apis_reason(api_url, csv_path, capsys):
    status, _, err = run(capsys, csv_path, "--url", api_url, "--token", "forged")
    assert status == 2
    assert one_line(err).startswith(
        "rapport-customers: the customer API refused the token (401): the token is not valid"
    )
    status, _, err = run(capsys, csv_path, "--url", api_url, "--token", make_token("agent"))
    assert status == 2
    assert "refused the token (403): this needs one of the roles: manager" in one_line(err)


def test_a_refused_upload_names_the_status_and_the_problem(api_url, tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    status, _, err = run(capsys, empty, "--url", api_url, "--token", make_token())
    assert status == 2
    line = one_line(err)
    assert "the customer API answered 422 to POST" in line and "the upload is empty" in line


def test_no_token_is_one_line(csv_path, capsys, monkeypatch):
    monkeypatch.delenv("RAPPORT_TOKEN", raising=False)
    status = main(["import", str(csv_path)])
    assert status == 2 and "give a token" in one_line(capsys.readouterr().err)


def test_the_installed_command_prints_no_traceback_for_a_missing_file(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.customer.cli",
            "import",
            str(tmp_path / "gone.csv"),
            "--token",
            "t",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        f"rapport-customers: cannot read {tmp_path / 'gone.csv'}: No such file or directory"
    )
