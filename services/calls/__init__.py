"""The calls service: call plans, scheduled calls and their outcomes."""
