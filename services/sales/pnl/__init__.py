"""Profit and loss: the statement read from the maintained summary (``statement``),
cost to serve and allocations (``costs``), the segment each customer's P&L counts
under (``segments``), routes (``routes``), schemas (``schemas``) and the tables of
costs, allocations and the summary (``tables``). Booking into the summary is
``services.sales.summary``; the published day totals ``services.sales.ledger_totals``."""
