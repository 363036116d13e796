"""Deals: each deal's history folded into the pipeline, stage and funnel tables, and
the sales report read from them."""
