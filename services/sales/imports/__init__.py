"""Bulk import of sales with their lines: the routes (``api``), the job that runs
an upload (``jobs``), what a file's rows say (``rows``), one chunk written
(``writes``), ``sale.recorded`` in bulk (``events``) and the job tables
(``tables``). Documented in docs/sales.md, "Bulk import"."""
