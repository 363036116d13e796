"""The events reporting has consumed: their append-only log, the rebuild's source
(``event_log``), and each event folded into the read models, in order
(``projections``)."""
