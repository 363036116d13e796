"""Rapport's shared library: what every service needs exactly once.

Event contracts, the transactional outbox and inbox, the confirming publisher,
the consumer loop, the broker topology, the Flask app factory helpers, errors,
auth, metrics and logging.
"""
