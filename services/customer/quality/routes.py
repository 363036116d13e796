"""Data-quality routes: duplicate candidates over the whole base, fix-it items and
the summary, a scan on demand, and resolving an item."""

from flask.views import MethodView
from marshmallow import RAISE

from services.customer.profiles import duplicates
from services.customer.quality import quality
from services.customer.quality.schemas import (
    DataQualityOut,
    DuplicateArgs,
    DuplicatePage,
    QualityArgs,
    QualityItemOut,
    ResolveIn,
    ScanOut,
)
from services.customer.web import ADMINS, READERS
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.pagination import decode_cursor, encode_cursor

quality_blp = Blueprint(
    "data_quality",
    __name__,
    url_prefix="",
    description="Duplicates, irregularities and fix-it items",
)


@quality_blp.route("/duplicates")
class Duplicates(MethodView):
    @roles(*ADMINS)
    @quality_blp.arguments(DuplicateArgs, location="query", unknown=RAISE)
    @quality_blp.response(200, DuplicatePage)
    def get(self, args):
        """Candidate duplicate pairs over the whole base, best first."""
        with service().uow.reader() as session:
            pairs, comparisons = duplicates.find_all(session, args["min_score"])
        start = 0
        key = decode_cursor(args["cursor"], 1)
        if key is not None:
            start = key[0] if isinstance(key[0], int) and key[0] >= 0 else 0
        chunk = pairs[start : start + args["limit"]]
        more = start + args["limit"] < len(pairs)
        return {
            "items": chunk,
            "comparisons": comparisons,
            "next_cursor": encode_cursor(start + args["limit"]) if more else None,
        }


@quality_blp.route("/data-quality")
class DataQuality(MethodView):
    @roles(*READERS)
    @quality_blp.arguments(QualityArgs, location="query", unknown=RAISE)
    @quality_blp.response(200, DataQualityOut)
    def get(self, args):
        """Open items by rule and segment, and the list of fix-it items."""
        limit, cursor = args.pop("limit"), args.pop("cursor")
        return {
            **quality.summary(service().uow),
            **quality.list_items(service().uow, args, limit, cursor),
        }


@quality_blp.route("/data-quality/scan")
class Scan(MethodView):
    @roles(*ADMINS)
    @quality_blp.response(200, ScanOut)
    def post(self):
        """Evaluate every rule over the base now."""
        return quality.scan(service().uow, principal().subject)


@quality_blp.route("/data-quality/items/<string:item_id>/resolve")
class Resolve(MethodView):
    @roles(*ADMINS)
    @quality_blp.arguments(ResolveIn)
    @quality_blp.response(200, QualityItemOut)
    def post(self, data, item_id):
        """Mark an item fixed, saying how."""
        return quality.resolve(service().uow, item_id, principal().subject, data["resolution"])
