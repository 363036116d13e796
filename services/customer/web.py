"""What every route of the customer API shares: the roles that may read, write and
administer, and the query of a GET that takes no parameter."""

from marshmallow import Schema

WRITERS = ("manager", "agent")
READERS = ("manager", "agent", "analyst")
ADMINS = ("manager",)


class NoArgs(Schema):
    """The query of a GET that takes no parameter: any one sent is refused (422)."""
