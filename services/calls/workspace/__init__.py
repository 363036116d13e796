"""The agent's workspace: server-rendered pages under ``/workspace`` (my queue, a
call page with its outcome form), signed in like every page (shared/web/pages.py).
Views call the API's own use cases: ``reads.queue``, ``context.call_page`` and
``outcomes.record_outcome`` through ``OutcomeIn``; finding a customer and logging a
call (``find_views``) call ``find.search`` and ``unplanned.log_call``."""
