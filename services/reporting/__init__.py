"""The reporting service: read models fed by every event, and the reports built on them."""
