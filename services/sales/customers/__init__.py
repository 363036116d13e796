"""What the sales service knows of customers, from the customer service's events:
the projection (``projection``: registrations, updates, merges, erasures), its
tables (``tables``) and the service's answer to a data access request
(``subject_export``)."""
