"""What partners (outsourcers) see and do: the partner API, its OAuth2 clients, withdrawn
work and the partner portal."""
