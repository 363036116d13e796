"""What the service knows of customers, from the customer service's events: the projection,
consent, what their events do to calls, their data-access export and the customer search
API."""
