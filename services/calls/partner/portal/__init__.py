"""The partner portal: server-rendered pages under ``/portal`` for an outsourcer
(its agents' queue, a call page with the outcome form, withdrawn work to
acknowledge, a CSV upload of outcomes with a per-row report), signed in like every
page (shared/web/pages.py). Views call the partner API's own use cases
(``partner``, ``withdrawals``, ``outcomes.record_outcomes``), so the same scope,
the same minimised customer fields and the same audit of reads apply."""
