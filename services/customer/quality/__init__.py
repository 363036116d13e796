"""Data quality: the irregularity rules, fix-it items, and the duplicate finder's
route."""
