"""Flask app factory helpers shared by every service's API."""
