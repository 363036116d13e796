"""Bulk import of customers from CSV or JSON Lines, and export of a segment as CSV
in the import's own columns: the job that runs an upload (``jobs``), what one row
says and why it is rejected (``row_validation``), the work worker processes do ahead
of the writes (``preparation``, handed back in order by ``pipeline``), one chunk
written (``chunk_writes``), routes, schemas, files and tables."""
