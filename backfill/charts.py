"""The HTML report's charts, drawn by matplotlib as inline SVG: the page needs no network
and no script, and any browser (or a mail client) shows it."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

# A colour per failure stage, in a fixed order, so that one stage keeps its colour across
# charts and reports.
STAGE_COLOURS = {"validate": "#8c564b", "scrub": "#9467bd", "extract": "#d62728",
                 "embed": "#ff7f0e", "write": "#7f7f7f"}
OK_COLOUR = "#1f77b4"


def _figure(width: float = 8.0, height: float = 2.8) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=96, layout="constrained")
    return fig


def _svg(fig: Any, title: str) -> str:
    import matplotlib

    buf = io.StringIO()
    # Text stays text (smaller, selectable); the id names the chart for tests and readers.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "backfill"}):
        fig.savefig(buf, format="svg", metadata={"Title": title, "Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]  # no XML prologue inside HTML


def _time_axis(ax: Any) -> None:
    from matplotlib.dates import AutoDateFormatter, AutoDateLocator

    locator = AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(AutoDateFormatter(locator))
    ax.grid(alpha=0.3)


def throughput(times: Sequence[dt.datetime], per_hour: Sequence[float],
               target: float | None) -> str:
    fig = _figure()
    ax = fig.add_subplot()
    ax.step(times, per_hour, where="post", color=OK_COLOUR, label="records/h")
    if target:
        ax.axhline(target, color="#2ca02c", linestyle="--", label=f"target {target:,.0f}/h")
    return _over_time(fig, ax, "records / hour", "Throughput over time")


def cumulative(times: Sequence[dt.datetime], done: Sequence[int], total: int) -> str:
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(times, done, color=OK_COLOUR, label="records processed")
    ax.axhline(total, color="#7f7f7f", linestyle=":", label=f"{total:,} in the run")
    return _over_time(fig, ax, "records", "Cumulative records")


def _over_time(fig: Any, ax: Any, ylabel: str, title: str) -> str:
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower right", fontsize="small")
    _time_axis(ax)
    return _svg(fig, title)


def failures(times: Sequence[dt.datetime], by_stage: dict[str, Sequence[int]]) -> str:
    fig = _figure()
    ax = fig.add_subplot()
    bottom = [0] * len(times)
    width = _bar_width(times)
    for stage, counts in by_stage.items():
        ax.bar(times, counts, width=width, bottom=bottom, align="edge",
               color=STAGE_COLOURS.get(stage, "#17becf"), label=stage)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_ylabel("failed records")
    if by_stage:
        ax.legend(loc="upper right", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no failed records", transform=ax.transAxes, ha="center")
    _time_axis(ax)
    return _svg(fig, "Failed records by stage over time")


def _bar_width(times: Sequence[dt.datetime]) -> float:
    if len(times) < 2:
        return 1 / 1440
    step = min((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False))
    return step / 86400  # in days, the unit of matplotlib's date axis


def usage(rows: list[dict[str, Any]]) -> str:
    """Tokens by deployment (prompt and completion, stacked) and, beside, cost."""
    fig = _figure(8.0, 0.9 + 0.5 * max(len(rows), 1))
    ax, ax_cost = fig.subplots(1, 2, width_ratios=[3, 1], sharey=True)
    names = [r["deployment"] for r in rows]
    prompt = [r["prompt_tokens"] for r in rows]
    completion = [r["completion_tokens"] for r in rows]
    ax.barh(names, prompt, color=OK_COLOUR, label="prompt")
    ax.barh(names, completion, left=prompt, color="#aec7e8", label="completion")
    ax.set_xlabel("tokens")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3, axis="x")
    costs = [r["cost"] or 0.0 for r in rows]
    ax_cost.barh(names, costs, color="#2ca02c")
    ax_cost.set_xlabel("cost")
    for y, r in enumerate(rows):
        ax_cost.text(costs[y], y, " -" if r["cost"] is None else f" {r['cost']:,.4f}",
                     va="center", fontsize="small")
    return _svg(fig, "Tokens and cost by model")


def slowest_partitions(rows: list[dict[str, Any]]) -> str:
    fig = _figure(8.0, 0.9 + 0.3 * max(len(rows), 1))
    ax = fig.add_subplot()
    labels = [f"partition {r['partition']} ({r['rows']:,} rows)" for r in rows][::-1]
    ax.barh(labels, [r["seconds"] for r in rows][::-1], color="#9467bd")
    ax.set_xlabel("seconds from read to last commit")
    ax.grid(alpha=0.3, axis="x")
    return _svg(fig, "Slowest partitions")
