"""Bulk import of customers from CSV or JSON Lines, and export of a segment as CSV
in the import's own columns."""
