"""What reporting knows of each customer: its dimension (segment, name), its facts
(last contact, overdue since, opted out, merged), data-quality items and open
follow-ups; the data-quality and follow-ups reports; erasure."""
