"""How the read models are written inside the consumer's transaction, which covers a whole
delivery window of events: counters and sums added by upsert (``counters``), per-entity
rows read and locked once (``locked_rows``), and the per-customer year-to-date
roll-ups (``year_to_date``)."""
