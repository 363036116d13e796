"""The plan editor's form, turned into the body POST/PATCH /call-plans take, so the
same schemas (``PlanIn``, ``PlanEdit``) and use cases judge it; and a plan back
into the form's values. Lists are typed as one line or comma list; a value a browser
cannot type (a number, a local time) that does not convert is passed on as typed,
so the refusal is the API's own message."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.calls.plans import recurrence
from services.calls.plans.preview_schemas import window_parts
from services.calls.workspace.form import _number

TEXT = ("name", "channel", "purpose", "rrule", "timezone")
LISTS = ("segments", "required_trainings", "required_certifications")


def body(form) -> dict:
    out = {name: form.get(name, "").strip() for name in TEXT}
    zone = out["timezone"] if recurrence.is_timezone(out["timezone"]) else "Asia/Hong_Kong"
    out.update({name: _list(form.get(name, "")) for name in LISTS})
    out["windows"] = [
        window_parts(line) for line in form.get("windows", "").splitlines() if line.strip()
    ]
    out["allow_holidays"] = form.get("allow_holidays") == "yes"
    out["starts_at"] = _local(form.get("starts_at"), zone)
    out["ends_at"] = _local(form.get("ends_at"), zone)
    out["priority"] = _number(form.get("priority")) or 3
    out["horizon_days"] = _number(form.get("horizon_days")) or 30
    return {name: value for name, value in out.items() if value is not None}


def values(plan) -> dict:
    """A stored plan as the form's fields."""
    zone = ZoneInfo(plan.timezone)
    return {
        **{name: getattr(plan, name) for name in TEXT},
        **{name: ", ".join(getattr(plan, name) or []) for name in LISTS},
        "windows": "\n".join(
            f"{','.join(w['days'])} {w['start']}-{w['end']}" for w in plan.windows or []
        ),
        "allow_holidays": "yes" if plan.allow_holidays else "",
        "starts_at": plan.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": plan.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if plan.ends_at else "",
        "priority": plan.priority,
        "horizon_days": plan.horizon_days,
    }


def preview_args(form) -> dict:
    """The preview's query from the form (or the query string the script sends)."""
    args = {name: form.get(name, "") for name in ("rrule", "timezone")}
    zone = args["timezone"] if recurrence.is_timezone(args["timezone"]) else "Asia/Hong_Kong"
    starts = _local(form.get("starts_at"), zone)
    return {
        **args,
        "window": [line for line in form.get("windows", "").splitlines() if line.strip()],
        "allow_holidays": form.get("allow_holidays") == "yes",
        "count": 10,
        **({"starts_at": starts} if starts else {}),
    }


def field_errors(errors: dict | None) -> dict:
    """The API's ``errors`` by form field: a window's by its line number."""
    flat: dict = {}
    for name, value in (errors or {}).items():
        key = {"_schema": "_", "segment": "segments", "window": "windows"}.get(name, name)
        if isinstance(value, dict):
            for index, why in value.items():
                line = f"Line {int(index) + 1}: " if str(index).isdigit() else ""
                flat.setdefault(key, []).extend(line + m for m in _messages(why))
        else:
            flat.setdefault(key, []).extend(_messages(value))
    return flat


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    return [str(m) for m in value] if isinstance(value, list) else [str(value)]


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _local(raw: str | None, zone: str):
    """``datetime-local`` sends a wall-clock time: it is the plan's time zone's."""
    if not raw or not raw.strip():
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(zone)).isoformat()
    except ValueError:
        return raw
