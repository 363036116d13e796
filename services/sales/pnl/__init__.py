"""Profit and loss: the statement read from the maintained summary (``statement``),
ledger entries booked into that summary (``booking``), the ledger's published day
totals (``day_totals``, re-published by ``republish_totals``), cost to serve and
allocations (``costs``), the segment each customer's P&L counts under
(``segments``), routes (``routes``), schemas (``schemas``) and the tables of costs,
allocations, the summary and the day totals (``tables``)."""
