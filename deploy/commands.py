"""Entry points of the command lines that belong to one service.

Every image installs every console script of the package, but holds only its own
service: ``rapport-customers`` in the calls image (or ``rapport-sales``) would otherwise end in a
ModuleNotFoundError traceback. Here it says in one line where the command lives.
"""

from __future__ import annotations

import importlib
import sys


def customers() -> int:
    return _run("rapport-customers", "customer", "services.customer.cli")


def sales() -> int:
    return _run("rapport-sales", "sales", "services.sales.cli")


def _run(prog: str, service: str, module: str) -> int:
    try:
        main = importlib.import_module(module).main
    except ModuleNotFoundError as exc:
        if exc.name is None or not module.startswith(exc.name):
            raise
        print(
            f"{prog}: the {service} service is not installed here; run it where "
            f"rapport[{service}] is installed (the {service} image, or make's .venv)",
            file=sys.stderr,
        )
        return 2
    return main()
