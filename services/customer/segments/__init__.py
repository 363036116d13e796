"""Market segments: what a complete profile in each carries, and when it is stale."""
