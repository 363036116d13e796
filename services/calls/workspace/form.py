"""The outcome form of the call page, turned into the body ``POST
/calls/{id}/outcome`` takes, so the same schema (``OutcomeIn``) and use case judge
it. Values are typed here only where a browser cannot send the type (numbers,
true/false, a local time); anything that does not convert is passed on as typed by
the agent, so the refusal is the API's own message."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Hong_Kong")
ZONE_LABEL = "Hong Kong time (UTC+8)"


def body(form, checklist: list[dict], gaps: list[str]) -> dict:
    """The outcome request body from the posted form."""
    out = {
        "outcome": form.get("outcome", ""),
        "satisfaction": _number(form.get("satisfaction")),
        "propensity": _number(form.get("propensity")),
        "duration_seconds": _number(form.get("duration_seconds")) or 0,
        "notes": form.get("notes") or None,
        "opt_out_notice_given": form.get("opt_out_notice_given") == "yes",
        "callback_at": _local_time(form.get("callback_at")),
        "competitor_mentions": [
            m.strip() for m in form.get("competitor_mentions", "").split(",") if m.strip()
        ],
        "answers": _answers(form, checklist),
        "confirmed_fields": {
            gap: form[f"confirm.{gap}"].strip()
            for gap in gaps
            if form.get(f"confirm.{gap}", "").strip()
        },
    }
    referral = {
        name: form.get(f"referral.{name}", "").strip() or None
        for name in ("name", "phone", "email")
    }
    out["referrals"] = [referral] if any(referral.values()) else []
    return out


def _answers(form, checklist: list[dict]) -> dict:
    answers = {}
    for item in checklist:
        raw = form.get(f"answer.{item['id']}", "").strip()
        if not raw:
            continue
        kind = item["answer_type"]
        if kind == "yes_no":
            answers[item["id"]] = {"yes": True, "no": False}.get(raw, raw)
        elif kind in ("number", "rating"):
            answers[item["id"]] = _number(raw)
        else:
            answers[item["id"]] = raw
    return answers


def _number(raw: str | None):
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw.strip()


def _local_time(raw: str | None):
    """``datetime-local`` sends a wall-clock time without zone: it is Hong Kong's."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=ZONE).isoformat()
    except ValueError:
        return raw


def field_errors(errors: dict | None) -> dict:
    """The API's ``errors`` keyed by form field name (``answers.<id>``,
    ``referrals.0.phone`` → ``referral.phone``, ``confirmed_fields`` as is)."""
    flat: dict = {}
    for name, value in (errors or {}).items():
        if isinstance(value, dict) and name == "referrals":
            for fields in value.values():
                for sub, why in fields.items() if isinstance(fields, dict) else []:
                    flat[f"referral.{sub}"] = _messages(why)
        elif isinstance(value, dict) and name == "answers":
            for item, why in value.items():
                flat[f"answer.{item}"] = _messages(why)
        else:
            flat[name] = _messages(value)
    return flat


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    return [str(m) for m in value] if isinstance(value, list) else [str(value)]
