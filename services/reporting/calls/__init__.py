"""Calls and coverage: what was planned, done, missed and found on calls (the activity
and findings reports), and which customers are overdue against their plan (the
coverage report); the call-plan events folded into those read models (``projection``)
and a completed call's outcome folded into the calls, agents and customer read models
(``outcomes``)."""
