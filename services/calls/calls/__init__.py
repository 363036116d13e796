"""Calls and their outcomes: reading calls and the queue, recording an outcome (one or
many), what it must carry, follow-ups, quality flags, missed calls and calls logged
after the fact."""
