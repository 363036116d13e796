"""PNG charts with matplotlib's Agg backend (no display), titled and labelled.

Figures are made with the object API, never pyplot's global state, so that
concurrent requests in one process cannot draw on each other's figure.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

SIZE = (8, 4.5)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def _empty(axes, keys) -> bool:
    if keys:
        return False
    axes.text(
        0.5, 0.5, "no data for this selection", ha="center", va="center", transform=axes.transAxes
    )
    return True


def bars(title: str, keys: list, series: dict, *, xlabel: str, ylabel: str) -> bytes:
    """Grouped bars: one group per key, one bar per series."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if not _empty(axes, keys):
        width = 0.8 / max(len(series), 1)
        for n, (name, values) in enumerate(series.items()):
            axes.bar(
                [i + n * width for i in range(len(keys))],
                [v if v is not None else 0 for v in values],
                width,
                label=name,
            )
        axes.set_xticks([i + 0.4 - width / 2 for i in range(len(keys))])
        axes.set_xticklabels(keys, rotation=45 if len(keys) > 6 else 0, ha="right", fontsize=8)
        axes.legend()
    return _png(figure)


def intervals(
    title: str,
    labels: list,
    estimates: list,
    lows: list,
    highs: list,
    *,
    xlabel: str,
    reference: float = 0.0,
) -> bytes:
    """Point estimates with their 95% intervals, one row per label."""
    figure = Figure(figsize=SIZE)
    axes = figure.subplots()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("comparison")
    if not _empty(axes, labels):
        rows = range(len(labels))
        axes.errorbar(
            estimates,
            rows,
            xerr=[
                [e - lo for e, lo in zip(estimates, lows)],
                [hi - e for e, hi in zip(estimates, highs)],
            ],
            fmt="o",
            capsize=4,
        )
        axes.axvline(reference, color="grey", linestyle="--")
        axes.set_yticks(list(rows))
        axes.set_yticklabels(labels, fontsize=8)
    return _png(figure)
