"""``rapport-sales import``: against the sales API served over HTTP, a file is
imported and its counts and rejected lines printed; whatever goes wrong (no file,
no API, a refused token or upload) is one line on stderr and a non-zero status."""

from __future__ import annotations

import socket
import threading

import pytest
from werkzeug.serving import make_server

from services.sales import cli, config
from services.sales.app import create_app
from shared import import_client
from tests.conftest import make_token
from tests.sales.conftest import dispatcher_for, registered

CSV = (
    "external_ref,customer_id,recorded_at,sku,description,quantity,unit_price,unit_cost\n"
    "INV-1,c1,2026-03-01T10:00:00+08:00,,Tea,2,19.99,7.50\n"
    "INV-1,,,,Cups,1,5.00,1.00\n"
    "INV-2,c1,2026-03-01T11:00:00+08:00,,Bad,0,1.00,1.00\n"
)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The sales API on a real port (a thread of this process)."""
    folder = tmp_path_factory.mktemp("sales-cli")
    url = f"sqlite:///{folder / 'sales.db'}"
    from shared import migrations

    migrations.upgrade(url, config.MIGRATIONS)
    app = create_app({"DATABASE_URL": url, "DEV_MODE": "1", "DATA_DIR": str(folder)})
    dispatcher_for(app).dispatch(registered("c1"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["rapport"].db.dispose()


def run(capsys, *argv) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(import_client, "POLL_SECONDS", 0.05)


def test_a_file_is_imported_with_its_counts_and_rejected_lines(api, tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text(CSV)
    status, out, err = run(capsys, "import", str(path), "--url", api, "--token", make_token())
    assert status == 0, err
    assert out.strip() == (
        "done: 1 sales recorded (2 lines), 0 already on file, 1 rejected, of 2 sales in 3 lines"
    )
    assert "line 4: {'lines': {'0': {'quantity':" not in err  # reported on its own row
    assert "line 4: {'quantity': ['Must be greater than 0.']}" in err
    status, out, _ = run(
        capsys, "import", str(path), "--url", api, "--token", make_token(), "--quiet"
    )
    assert status == 0 and "0 sales recorded (0 lines), 1 already on file" in out


def test_json_lines_by_their_suffix(api, tmp_path, capsys):
    path = tmp_path / "sales.jsonl"
    path.write_text(
        '{"external_ref": "J-1", "customer_id": "c1", '
        '"lines": [{"quantity": "1", "unit_price": "2", "unit_cost": "1"}]}\n'
    )
    status, out, _ = run(
        capsys, "import", str(path), "--url", api, "--token", make_token(), "--quiet"
    )
    assert status == 0 and out.startswith("done: 1 sales recorded (1 lines)")


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_what_goes_wrong_is_one_line_and_a_failure_status(api, tmp_path, capsys):
    good = tmp_path / "sales.csv"
    good.write_text(CSV)
    status, _, err = run(
        capsys, "import", str(tmp_path / "missing.csv"), "--url", api, "--token", make_token()
    )
    assert status == 2 and "cannot read" in one_line(err)
    status, _, err = run(
        capsys,
        "import",
        str(good),
        "--url",
        f"http://127.0.0.1:{free_port()}",
        "--token",
        make_token(),
    )
    assert status == 2 and "cannot reach" in one_line(err)
    status, _, err = run(capsys, "import", str(good), "--url", api, "--token", "forged")
    assert status == 2 and "refused the token" in one_line(err)
    status, _, err = run(capsys, "import", str(good), "--url", api, "--token", make_token("agent"))
    assert status == 2 and "refused the token" in one_line(err)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,phone\nChan,91234567\n")
    status, _, err = run(capsys, "import", str(bad), "--url", api, "--token", make_token())
    assert status == 2 and "answered 422" in one_line(err) and "CSV header" in err
    status, _, err = run(capsys, "import", str(good), "--url", api, "--token", "")
    assert status == 2 and "give a token" in one_line(err)
