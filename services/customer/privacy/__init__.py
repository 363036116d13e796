"""What the PDPO asks of the service: consent for direct marketing, erasure, and
the data subject's access to everything held (here and across services)."""
