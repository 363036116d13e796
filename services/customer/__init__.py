"""The customer service: profiles and the permanent activity record."""
