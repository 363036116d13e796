"""Merging a duplicate profile into its survivor, both histories kept."""
