"""The routes of agents' calendar feeds: the feed itself (no bearer token: its URL
carries the agent's secret) and the rotation of that secret."""

from flask import Response, request
from flask.views import MethodView

from services.calls.notifications.schemas import CalendarArgs, CalendarTokenOut
from services.calls.people import calendar
from shared.web.app import principal, public, roles, service
from shared.web.blueprint import Blueprint

calendar_bp = Blueprint(
    "calendar", __name__, url_prefix="/agents", description="Agents' queues as iCalendar feeds"
)
FEED = "The agent's open calls, one VEVENT each"
ICS = {"type": "string", "description": "RFC 5545 iCalendar"}


@calendar_bp.route("/<string:agent_id>/calendar-token")
class CalendarToken(MethodView):
    @roles("agent", "manager")
    @calendar_bp.response(201, CalendarTokenOut)
    def post(self, agent_id):
        """A new secret for the agent's feed (the old one stops working); the agent
        itself or a manager."""
        token = calendar.rotate(service().uow, principal(), agent_id)
        url = f"{request.url_root}api/v1/agents/{agent_id}/calendar.ics?token={token}"
        return {"token": token, "url": url}


@public
@calendar_bp.route("/<string:agent_id>/calendar.ics")
class CalendarFeed(MethodView):
    @calendar_bp.arguments(CalendarArgs, location="query")
    @calendar_bp.response(200, description=FEED)
    @calendar_bp.alt_response(
        200, content_type="text/calendar", schema=ICS, success=True, description=FEED
    )
    @calendar_bp.doc(security=[])
    def get(self, args, agent_id):
        """The agent's open calls as iCalendar (subscribe to it in a calendar app)."""
        link = f"{request.url_root}api/v1/calls/"
        body = calendar.feed(service().uow, agent_id, args["token"], link)
        return Response(body, mimetype="text/calendar")
