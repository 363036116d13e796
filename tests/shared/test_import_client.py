"""``rapport-customers import`` and ``rapport-sales import`` through a deploy
(``shared/import_client.py``): the real API served on a local port behind a proxy
that fails as one does while its pods are replaced. An upload whose answer is lost
is sent again under its Idempotency-Key and makes one job; one met by an API that
is not serving is sent again; a job whose API is away for a while is followed to
its end; one that stays away, or an upload that keeps failing, is one line."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from services.customer import cli as customer_cli
from services.customer import config as customer_config
from services.customer.app import create_app as customer_app
from services.customer.imports.tables import ImportJob
from services.sales import cli as sales_cli
from services.sales import config as sales_config
from services.sales.app import create_app as sales_app
from services.sales.imports.tables import SaleImportJob
from shared import import_client
from tests.conftest import make_token
from tests.sales.conftest import dispatcher_for, registered


@dataclass(frozen=True)
class Command:
    main: object
    create_app: object
    migrations: str
    job: type
    csv: str
    done: str  # how its output begins when the file is imported


CUSTOMERS = Command(
    customer_cli.main,
    customer_app,
    customer_config.MIGRATIONS,
    ImportJob,
    "external_ref,name,phone,segment\nC1,Chan Tai Man,9123 4567,smb\nC2,Bad Phone,12345,smb\n",
    "done: 1 created, 0 updated, 0 unchanged, 1 rejected of 2 rows",
)
SALES = Command(
    sales_cli.main,
    sales_app,
    sales_config.MIGRATIONS,
    SaleImportJob,
    "external_ref,customer_id,recorded_at,description,quantity,unit_price,unit_cost\n"
    "INV-1,c1,2026-03-01T10:00:00+08:00,Tea,2,19.99,7.50\n",
    "done: 1 sales recorded (1 lines)",
)


class Deploying:
    """A proxy in front of the API. ``posts``: what each of the first uploads meets,
    ``"lost"`` (the API takes it, the answer is lost: 502) or ``"away"`` (no API
    behind the proxy: 503, the upload goes nowhere); ``gets``: how many looks at
    a job find the API away (503)."""

    def __init__(self, app, posts=(), gets: int = 0):
        self.app, self.posts, self.gets = app, list(posts), gets
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            posting = environ["REQUEST_METHOD"] == "POST" and self.posts
            mode = self.posts.pop(0) if posting else None
            looking = environ["REQUEST_METHOD"] == "GET" and self.gets > 0 and mode is None
            if looking:
                self.gets -= 1
        if mode == "lost":
            answer = self.app(environ, lambda status, headers, exc_info=None: None)
            b"".join(answer)
            getattr(answer, "close", lambda: None)()
            return self._fail(start_response, "502 Bad Gateway")
        if mode == "away" or looking:
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            return self._fail(start_response, "503 Service Unavailable")
        return self.app(environ, start_response)

    @staticmethod
    def _fail(start_response, status: str):
        start_response(status, [("Content-Type", "text/plain")])
        return [status.encode()]


@pytest.fixture(params=[CUSTOMERS, SALES], ids=["customers", "sales"])
def command(request) -> Command:
    return request.param


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(import_client, "BACKOFF", 0.01)
    monkeypatch.setattr(import_client, "POLL_SECONDS", 0.02)


@pytest.fixture
def api(command, service_app, sqlite_url, tmp_path):
    """``api(posts=…, gets=…)``: the service's URL behind ``Deploying``, and its app."""
    app = service_app(
        command.create_app, command.migrations, sqlite_url, DATA_DIR=str(tmp_path / "data")
    )
    if command is SALES:
        dispatcher_for(app).dispatch(registered("c1"))
    servers = []

    def serve(**failing):
        server = make_server("127.0.0.1", 0, Deploying(app, **failing), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", app

    yield serve
    for server in servers:
        server.shutdown()
    app.extensions["rapport"].db.dispose()


def run(command: Command, url: str, tmp_path, capsys) -> tuple[int, str, str]:
    path = tmp_path / "upload.csv"
    path.write_text(command.csv)
    status = command.main(["import", str(path), "--url", url, "--token", make_token(), "--quiet"])
    out, err = capsys.readouterr()
    return status, out, err


def jobs(app, command: Command) -> int:
    with app.extensions["rapport"].db.reader() as s:
        return s.scalar(select(func.count()).select_from(command.job))


@pytest.mark.parametrize(
    "posts", [["lost"], ["away", "away"], ["lost", "away"]], ids=["lost", "away", "both"]
)
def test_an_upload_met_by_a_deploy_is_sent_again_and_makes_one_job(
    command, api, tmp_path, capsys, posts
):
    url, app = api(posts=posts)
    status, out, err = run(command, url, tmp_path, capsys)
    assert status == 0 and out.startswith(command.done), (out, err)
    assert jobs(app, command) == 1


def test_a_job_whose_api_is_away_for_a_while_is_followed_to_its_end(command, api, tmp_path, capsys):
    url, _ = api(gets=8)
    status, out, err = run(command, url, tmp_path, capsys)
    assert status == 0 and out.startswith(command.done), (out, err)


def test_a_job_whose_api_stays_away_is_one_line_naming_the_job(
    command, api, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(import_client, "PATIENCE", 0.3)
    url, app = api(gets=10**6)
    status, out, err = run(command, url, tmp_path, capsys)
    with app.extensions["rapport"].db.reader() as s:
        job_id = s.scalar(select(command.job.id))
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "Traceback" not in err, err
    assert "has not answered" in lines[0] and job_id in lines[0]


def test_an_upload_that_keeps_meeting_no_api_is_one_line(command, api, tmp_path, capsys):
    url, app = api(posts=["away"] * import_client.ATTEMPTS)
    status, out, err = run(command, url, tmp_path, capsys)
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "answered 503" in lines[0], err
    assert jobs(app, command) == 0
