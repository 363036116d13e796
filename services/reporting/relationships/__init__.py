"""Does routine calling improve the relationship: the call-effectiveness report, its
per-customer measures and statistics, and the frequency advice drawn from them."""
