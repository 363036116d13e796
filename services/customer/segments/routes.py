"""Segment routes: list, read, create and change market segments."""

from flask.views import MethodView
from marshmallow import RAISE

from services.customer.segments import segments
from services.customer.segments.schemas import SegmentIn, SegmentOut, SegmentPage, SegmentPatch
from services.customer.web import ADMINS, READERS, NoArgs
from shared.web.app import roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

segments_blp = Blueprint(
    "segments",
    __name__,
    url_prefix="/segments",
    description="Market segments and what their profiles must carry",
)


@segments_blp.route("")
class Segments(MethodView):
    @roles(*READERS)
    @segments_blp.arguments(PageArgs, location="query", unknown=RAISE)
    @segments_blp.response(200, SegmentPage)
    def get(self, args):
        """The segments by code, a page at a time (``next_cursor``)."""
        return segments.list_segments(service().uow, args["limit"], args["cursor"])

    @roles(*ADMINS)
    @idempotent
    @segments_blp.arguments(SegmentIn)
    @segments_blp.response(201, SegmentOut)
    def post(self, data):
        """Create a segment."""
        return segments.create_segment(service().uow, data)


@segments_blp.route("/<string:code>")
class Segment(MethodView):
    @roles(*READERS)
    @segments_blp.arguments(NoArgs, location="query", unknown=RAISE)
    @segments_blp.response(200, SegmentOut)
    def get(self, _args, code):
        return segments.get_segment(service().uow, code)

    @roles(*ADMINS)
    @segments_blp.arguments(SegmentPatch)
    @segments_blp.response(200, SegmentOut)
    def patch(self, data, code):
        """Change a segment's name, required fields or staleness threshold."""
        return segments.update_segment(service().uow, code, data)
