"""The append-only sales ledger: recording and reading sales (``sales``), returns
and cancellations (``reversals``), the ledger's arithmetic (``amounts``), splitting
cents by largest remainder (``apportion``), routes (``routes``), schemas
(``schemas``) and tables (``tables``)."""
