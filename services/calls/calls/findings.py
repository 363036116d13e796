"""What a call's outcome must carry beside its code: answers to the checklist of the
plan version the call was planned with, profile gaps confirmed, and its cost."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.customers.consent import NOT_MARKETING
from services.calls.customers.tables import Customer
from services.calls.people.tables import Agent, Partner
from services.calls.plans.tables import CallPlan, CallPlanVersion
from shared.errors import Invalid

# Outcomes on which the customer was spoken to: the checklist applies.
SPOKEN = (
    "reached",
    "callback_requested",
    "not_interested",
    "interested",
    "sale_opportunity",
    "complaint",
    "do_not_call_requested",
)
_STEP = Decimal("0.0001")


def checklist(session, call: Call) -> list[dict]:
    """The checklist of the plan version the call was planned with."""
    if call.plan_version is not None:
        version = session.get(CallPlanVersion, (call.plan_id, call.plan_version))
        if version is not None:
            return version.snapshot.get("checklist") or []
    plan = session.get(CallPlan, call.plan_id)
    return (plan.checklist or []) if plan else []


def check(session, call: Call, data: dict) -> float | None:
    """Refuse answers and confirmations that do not fit the call; answers the
    checklist compliance (share of required items answered), None if not spoken."""
    items = {item["id"]: item for item in checklist(session, call)}
    answers, outcome = data.get("answers") or {}, data["outcome"]
    errors: dict = {}
    if outcome not in SPOKEN:
        for name in ("answers", "confirmed_fields", "competitor_mentions", "referrals"):
            if data.get(name):
                errors[name] = [f"Only recorded when the customer was spoken to, not '{outcome}'."]
        if errors:
            raise Invalid("findings given for a call on which no one was spoken to", errors=errors)
        return None
    bad = {
        key: [why]
        for key, value in answers.items()
        if (why := _answer_problem(items.get(key), value))
    }
    if outcome == "reached":
        bad.update(
            {
                key: ["Required: this checklist item must be answered."]
                for key, item in items.items()
                if item.get("required") and key not in answers
            }
        )
    if bad:
        errors["answers"] = bad
    if first_marketing_contact(session, call) and not data.get("opt_out_notice_given"):
        errors["opt_out_notice_given"] = [
            "Required on the first direct-marketing contact: tell the customer of the right "
            "to opt out (PDPO), and record that it was done."
        ]
    gaps = set((session.get(Customer, call.customer_id) or Customer(gaps=[])).gaps or [])
    unknown = sorted(set(data.get("confirmed_fields") or {}) - gaps)
    if unknown:
        errors["confirmed_fields"] = [f"Not an item to confirm on this call: {', '.join(unknown)}."]
    if errors:
        raise Invalid("the outcome does not fit the call's checklist", errors=errors)
    required = [key for key, item in items.items() if item.get("required")]
    if not required:
        return 1.0
    return round(sum(key in answers for key in required) / len(required), 4)


def first_marketing_contact(session, call: Call) -> bool:
    """No earlier direct-marketing conversation with this customer is on record."""
    if (call.purpose or "service") in NOT_MARKETING:
        return False
    earlier = session.scalar(
        select(Call.id)
        .where(
            Call.customer_id == call.customer_id,
            Call.status == "completed",
            Call.id != call.id,
            Call.outcome.in_(SPOKEN),
            Call.purpose.not_in(NOT_MARKETING),
        )
        .limit(1)
    )
    return earlier is None


def _answer_problem(item: dict | None, value) -> str | None:
    if item is None:
        return "Not an item of this call's checklist."
    kind = item["answer_type"]
    if kind == "yes_no" and not isinstance(value, bool):
        return "Answer true or false."
    if kind == "text" and not (isinstance(value, str) and value.strip() and len(value) <= 2000):
        return "Answer with text (at most 2000 characters)."
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "Answer with a number."
    if kind == "choice" and value not in (item.get("options") or []):
        return f"Answer one of: {', '.join(item.get('options') or [])}."
    if kind == "rating" and (isinstance(value, bool) or value not in (1, 2, 3, 4, 5)):
        return "Answer with a rating from 1 to 5."
    return None


def costing(session, agent_id: str | None, duration_seconds: int) -> dict:
    """Who made the call and what it cost: staff minutes x rate, or the partner's fee."""
    agent = session.get(Agent, agent_id) if agent_id else None
    if agent is None:
        return {"agent_kind": "staff", "partner_id": None, "team": None, "cost": None}
    if agent.kind == "partner":
        partner = session.get(Partner, agent.partner_id)
        cost = partner.fee_per_call if partner else None
    else:
        rate = agent.rate_per_minute or Decimal(0)
        cost = (rate * Decimal(duration_seconds) / Decimal(60)).quantize(_STEP, ROUND_HALF_UP)
    return {
        "agent_kind": agent.kind,
        "partner_id": agent.partner_id,
        "team": agent.team,
        "cost": cost,
    }
