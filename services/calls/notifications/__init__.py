"""Webhooks: subscriptions, the deliveries each event owes, and sending them."""
