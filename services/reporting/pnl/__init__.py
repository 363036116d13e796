"""The P&L: sales events booked per customer, day and segment, the P&L report and its
reconciliation with the sales ledger's published totals."""
