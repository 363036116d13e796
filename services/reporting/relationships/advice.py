"""Proposed changes of call frequency per segment, from the effectiveness
statistics, with the reasoning in words. A proposal is only made on a measured
basis: with too little data it says so and proposes nothing."""

from __future__ import annotations


def _significant(result: dict) -> int:
    """+1 if the 95% interval lies above 0, −1 if below, 0 if it spans 0."""
    low, high = result.get("ci95", (None, None))
    if low is None:
        return 0
    return 1 if low > 0 else -1 if high < 0 else 0


def propose(segment: str, correlations: dict, cohorts: dict) -> dict:
    sat = correlations["satisfaction"]
    measured = {m: c for m, c in correlations.items() if "rho" in c}
    if not measured:
        return {
            "change": "none",
            "reason": (
                f"Too little data in segment {segment!r} (satisfaction: n = {sat['n']}; at least "
                "10 customers with scores in both halves of the window are needed): no proposal."
            ),
        }
    signs = {m: _significant(c) for m, c in measured.items()}
    cohort = cohorts["difference"]
    described = "; ".join(
        f"{m}: rho = {c['rho']} (95% CI {c['ci95'][0]} to {c['ci95'][1]}, "
        f"n = {c['n']}, p = {c['p_value']})"
        for m, c in measured.items()
    )
    if any(s > 0 for s in signs.values()):
        extra = ""
        if _significant(cohort) > 0:
            extra = (
                f" Customers called as planned improved more than under-called ones "
                f"(difference {cohort['difference']}, 95% CI {cohort['ci95']}): bring "
                "under-called customers back to plan first."
            )
        return {
            "change": "keep_or_increase",
            "reason": (
                f"In {segment!r} more calls go with a better relationship ({described}). Keep the "
                f"call frequency; consider raising it where customers fall behind plan.{extra}"
            ),
        }
    if any(s < 0 for s in signs.values()):
        return {
            "change": "review",
            "reason": (
                f"In {segment!r} more calls go with a worsening relationship ({described}). Review "
                "what the calls do before changing how often they happen; calls may be reacting "
                "to problems rather than causing them."
            ),
        }
    return {
        "change": "reduce",
        "reason": (
            f"In {segment!r} calls show no measurable effect on the relationship ({described}; "
            "every 95% interval includes 0). Propose lowering the call frequency by one step "
            "(e.g. monthly to every six weeks), moving the time to segments where calls work, "
            "and measuring again over the next window."
        ),
    }
