"""Call plans: defining and editing them, their recurrence and calling windows, the rolling
schedule that plans their calls, the contact cap and coverage."""
