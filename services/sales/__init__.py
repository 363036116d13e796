"""The sales service: the append-only sales ledger and what it needs to know of customers."""
