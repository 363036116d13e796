"""What every report shares: the query bases (``queries``) and answer pieces
(``schemas``), the period and dimension filters, whole months of a period, the
statistics, and answering as JSON, CSV or a PNG chart."""
