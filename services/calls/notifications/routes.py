"""The routes of webhook subscriptions (managers for internal apps, partners for
their own work), their deliveries, and partners' acknowledgements of withdrawn work."""

from flask.views import MethodView

from services.calls.notifications import webhooks
from services.calls.notifications.schemas import (
    DeliveryArgs,
    DeliveryOut,
    DeliveryPage,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WithdrawalArgs,
    WithdrawalOut,
    WithdrawalPage,
)
from services.calls.partner import withdrawals
from services.calls.partner.routes import partners_only
from shared.web.app import principal, roles, service
from shared.web.blueprint import Blueprint
from shared.web.idempotency import idempotent
from shared.web.pagination import PageArgs

webhooks_bp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/webhooks",
    description="Notifications out: signed deliveries to your URL",
)
withdrawals_bp = Blueprint(
    "withdrawals",
    __name__,
    url_prefix="/withdrawals",
    description="Work withdrawn from partners, and their acknowledgements",
)
partner_withdrawals_bp = Blueprint(
    "partner_withdrawals",
    __name__,
    url_prefix="/partner",
    description="For outsourcers: work withdrawn from you",
)
SUBSCRIBERS = ("manager", "partner")


@webhooks_bp.route("")
class Webhooks(MethodView):
    @roles(*SUBSCRIBERS)
    @idempotent
    @webhooks_bp.arguments(WebhookIn)
    @webhooks_bp.response(201, WebhookCreated)
    def post(self, data):
        """Subscribe a URL to some kinds of notification; the secret is shown only here
        (and to a retry with the same Idempotency-Key, which subscribes nothing more)."""
        ctx = service()
        return webhooks.create(ctx.uow, ctx.settings, principal(), data)

    @roles(*SUBSCRIBERS)
    @webhooks_bp.arguments(PageArgs, location="query")
    @webhooks_bp.response(200, WebhookPage)
    def get(self, args):
        """The subscriptions you may see (a partner: its own), oldest first, a page at
        a time (``next_cursor``)."""
        return webhooks.listed(service().uow, principal(), args["limit"], args["cursor"])


@webhooks_bp.route("/<string:webhook_id>")
class Webhook(MethodView):
    @roles(*SUBSCRIBERS)
    @webhooks_bp.response(200, WebhookOut)
    def get(self, webhook_id):
        """One subscription (without its secret)."""
        return webhooks.get(service().uow, principal(), webhook_id)

    @roles(*SUBSCRIBERS)
    @webhooks_bp.response(204)
    def delete(self, webhook_id):
        """Unsubscribe; the subscription's deliveries go with it."""
        webhooks.delete(service().uow, principal(), webhook_id)


@webhooks_bp.route("/<string:webhook_id>/deliveries")
class Deliveries(MethodView):
    @roles(*SUBSCRIBERS)
    @webhooks_bp.arguments(DeliveryArgs, location="query")
    @webhooks_bp.response(200, DeliveryPage)
    def get(self, args, webhook_id):
        """The subscription's deliveries, newest first, with their status and attempts;
        a page at a time (``next_cursor``)."""
        return webhooks.deliveries(
            service().uow,
            principal(),
            webhook_id,
            args.get("status"),
            args["limit"],
            args["cursor"],
        )


@webhooks_bp.route("/<string:webhook_id>/deliveries/<string:delivery_id>/resend")
class Resend(MethodView):
    @roles(*SUBSCRIBERS)
    @webhooks_bp.response(200, DeliveryOut)
    def post(self, webhook_id, delivery_id):
        """Send a delivery again (a failed one, say) as soon as the sender runs."""
        return webhooks.resend(service().uow, principal(), webhook_id, delivery_id)


@withdrawals_bp.route("")
class Withdrawals(MethodView):
    @roles("manager")
    @withdrawals_bp.arguments(WithdrawalArgs, location="query")
    @withdrawals_bp.response(200, WithdrawalPage)
    def get(self, args):
        """Work withdrawn from every partner (acknowledged=false: not yet acknowledged),
        oldest first, a page at a time (``next_cursor``)."""
        return withdrawals.listed(
            service().uow, None, args.get("acknowledged"), args["limit"], args["cursor"]
        )


@partner_withdrawals_bp.route("/withdrawals")
class PartnerWithdrawals(MethodView):
    @partners_only
    @partner_withdrawals_bp.arguments(WithdrawalArgs, location="query")
    @partner_withdrawals_bp.response(200, WithdrawalPage)
    def get(self, args):
        """Work withdrawn from you, oldest first, a page at a time (``next_cursor``):
        stop it, and acknowledge each."""
        return withdrawals.listed(
            service().uow, principal(), args.get("acknowledged"), args["limit"], args["cursor"]
        )


@partner_withdrawals_bp.route("/withdrawals/<string:withdrawal_id>/ack")
class Acknowledge(MethodView):
    @partners_only
    @partner_withdrawals_bp.response(200, WithdrawalOut)
    def post(self, withdrawal_id):
        """Acknowledge that you stopped work on a withdrawn call (recorded with the time)."""
        return withdrawals.acknowledge(service().uow, principal(), withdrawal_id)
