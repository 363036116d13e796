"""A service's command line in an image that holds another service says so in one
line rather than a ModuleNotFoundError traceback."""

from __future__ import annotations

import sys

import pytest

from deploy import commands


def test_a_command_of_a_service_not_installed_is_one_line(capsys):
    assert commands._run("rapport-billing", "billing", "services.billing.cli") == 2
    assert capsys.readouterr().err == (
        "rapport-billing: the billing service is not installed here; run it where "
        "rapport[billing] is installed (the billing image, or make's .venv)\n"
    )


def test_a_library_missing_under_an_installed_service_is_not_mistaken_for_it(tmp_path, monkeypatch):
    (tmp_path / "brokencli.py").write_text("import no_such_library\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="no_such_library"):
        commands._run("rapport-x", "x", "brokencli")


def test_rapport_customers_runs_the_customer_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        sys, "argv", ["rapport-customers", "import", str(tmp_path / "gone.csv"), "--token", "t"]
    )
    assert commands.customers() == 2
    assert capsys.readouterr().err.startswith("rapport-customers: cannot read ")


def test_rapport_sales_runs_the_sales_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        sys, "argv", ["rapport-sales", "import", str(tmp_path / "gone.csv"), "--token", "t"]
    )
    assert commands.sales() == 2
    err = capsys.readouterr().err
    assert err.startswith("rapport-sales: ") and err.count("\n") == 1 and "gone.csv" in err
