"""Sales, returns and deals that need a look: each kind a query (``queries``), the
route (``routes``) and its schemas (``schemas``)."""
