"""Deals through the sales cycle: routes (``routes``), schemas (``schemas``), the
stages and their legal moves with the use cases that move a deal (``pipeline``),
and the tables (``tables``)."""
