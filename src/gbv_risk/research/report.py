"""The backtest as a page a person can read: the tables, and three plots made with
matplotlib — observed recurrence by level (calibration, per group), the level distribution
per group, and the reclassification heat map — embedded in one self-contained HTML file."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import Any

from ..messages import _, language, number
from .backtest import Backtest


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _calibration(bt: Backtest, levels: list[str]):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    groups = sorted({r["group"] for r in bt.levels})
    for k, rs in enumerate([bt.ruleset, *([bt.against] if bt.against else [])]):
        # groups for the first rule set only; the second is drawn overall, shifted a little
        for g in (groups if k == 0 else ["all"]):
            rows = [r for r in bt.levels if r["ruleset"] == rs and r["group"] == g and r["cases"]]
            if not rows:
                continue
            x = [levels.index(r["level"]) + 0.06 * k for r in rows]
            y = [r["rate"] for r in rows]
            err = [[r["rate"] - r["rate_low"] for r in rows], [r["rate_high"] - r["rate"] for r in rows]]
            style = {"linewidth": 2.5, "marker": "o"} if g == "all" else \
                {"linewidth": 1, "alpha": .55, "marker": "."}
            ax.errorbar(x, y, yerr=err if g == "all" else None, capsize=3,
                        label=f"{rs} — {g}", **style)
    ax.set_xticks(range(len(levels)), [lvl.replace("_", " ") for lvl in levels])
    ax.set_ylabel(_("observed recurrence"))
    ax.set_ylim(0, 1)
    ax.set_title(_("Recurrence by level (95% intervals for all cases)"))
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(.5, -0.12))
    ax.grid(alpha=.3)
    return _png(fig)


def _distribution(bt: Backtest, levels: list[str]):
    import matplotlib.pyplot as plt

    rs = bt.ruleset
    groups = sorted({r["group"] for r in bt.levels if r["ruleset"] == rs})
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(groups) + 1.2))
    left = [0.0] * len(groups)
    colours = ["#9ecae1", "#fdd0a2", "#fc8d59", "#d7301f"]
    for i, lvl in enumerate(levels):
        share = [next((r["share"] for r in bt.levels if r["ruleset"] == rs and r["group"] == g
                       and r["level"] == lvl), 0) for g in groups]
        ax.barh(groups, share, left=left, color=colours[i % len(colours)],
                label=lvl.replace("_", " "))
        left = [a + b for a, b in zip(left, share, strict=True)]
    ax.set_xlim(0, 1)
    ax.set_xlabel(_("share of cases"))
    ax.set_title(_("Level distribution — {ruleset}").format(ruleset=rs))
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(.5, -0.16))
    return _png(fig)


def _heatmap(bt: Backtest):
    import matplotlib.pyplot as plt

    rows = bt.reclassification
    cols = [k for k in rows[0] if k != "from"]
    data = [[r[c] for c in cols] for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    im = ax.imshow(data, cmap="Blues")
    ax.set_xticks(range(len(cols)), [c[3:].replace("_", " ") for c in cols])
    ax.set_yticks(range(len(rows)), [r["from"].replace("_", " ") for r in rows])
    top = max(max(r) for r in data) or 1
    for i, r in enumerate(data):
        for j, v in enumerate(r):
            ax.text(j, i, str(v), ha="center", va="center",
                    color="white" if v > top / 2 else "black", fontsize=9)
    ax.set_xlabel(bt.against)
    ax.set_ylabel(bt.ruleset)
    ax.set_title(_("Cases moving between levels"))
    fig.colorbar(im, ax=ax, shrink=.8)
    return _png(fig)


def _table(rows: list[dict[str, Any]], title: str, heading: Callable[[str], str]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(heading(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in cols)
                   + "</tr>" for r in rows)
    return f"<h2>{html.escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def render_report(bt: Backtest, levels: list[str],
                  heading: Callable[[str], str] = str) -> str:
    """The page in the run's language. Table columns are the result's keys (as in JSON and
    CSV); ``heading`` may turn each key into what a reader is shown."""
    import matplotlib

    matplotlib.use("Agg")
    figs = [(_("Calibration by level"), _calibration(bt, levels)),
            (_("Level distribution"), _distribution(bt, levels))]
    if bt.reclassification:
        figs.append((_("Reclassification"), _heatmap(bt)))
    images = "".join(f'<figure><img alt="{html.escape(t)}" src="data:image/png;base64,{b}">'
                     f"<figcaption>{html.escape(t)}</figcaption></figure>" for t, b in figs)
    title = (_("Backtest of {ruleset} against {against}").format(ruleset=bt.ruleset,
                                                                   against=bt.against)
             if bt.against else _("Backtest of {ruleset}").format(ruleset=bt.ruleset))
    note = _("{count} cases. Levels are shown with the recurrence observed at each\n"
             "level and its 95% interval, not as a probability for any person.").format(
        count=number(bt.rows))
    return f"""<!DOCTYPE html>
<html lang="{html.escape(language())}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 60em; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; font-size: .85em; }}
th, td {{ border: 1px solid #bbb; padding: .2em .5em; text-align: right; }}
th {{ background: #f0f0f0; }} figure {{ margin: 1em 0; }} img {{ max-width: 100%; }}
.note {{ color: #444; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="note">{html.escape(note)}</p>
{images}
{_table(bt.discrimination, _("Discrimination (AUC with bootstrap 95% interval)"), heading)}
{_table(bt.levels, _("Recurrence by level"), heading)}
{_table(bt.reclassification, _("Reclassification"), heading)}
{_table(bt.demand, _("What providers would be asked for"), heading)}
</body></html>
"""
