"""Call plans: defining and editing them, their recurrence and calling windows, the rolling
schedule that plans their calls (``scheduling``; a chunk's calls and their
``call.scheduled`` events written by ``scheduled_calls``), the contact cap and coverage."""
