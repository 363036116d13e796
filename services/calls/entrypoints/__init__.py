"""The calls service's processes besides the API: the consumer and the outbox relay."""
