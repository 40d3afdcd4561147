#!/usr/bin/env python3
"""Peak RSS against repository size, one line per tool (#15).

    python3 bench/history-plot.py RESULTS.tsv OUT.svg

RESULTS.tsv is what bench/history-real.sh writes (columns repo, pack_mb, tool, rss_mib,
wall_s, ...). Writes an SVG (or PNG, by OUT's extension) with two panels: peak RSS and wall
time, both against the size of the repository's `.git` on disk, log-log.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import ScalarFormatter  # noqa: E402

LABELS = {"leadey": "leadey-scan --history", "kingfisher": "kingfisher", "gitleaks": "gitleaks git"}


def main(results, out):
    rows = list(csv.DictReader(open(results), delimiter="\t"))
    tools = list(dict.fromkeys(r["tool"] for r in rows))
    fig, (ax_rss, ax_wall) = plt.subplots(1, 2, figsize=(10, 4.2))
    for tool in tools:
        rs = sorted((r for r in rows if r["tool"] == tool), key=lambda r: float(r["pack_mb"]))
        xs = [float(r["pack_mb"]) for r in rs]
        ax_rss.plot(xs, [float(r["rss_mib"]) for r in rs], marker="o", label=LABELS.get(tool, tool))
        ax_wall.plot(xs, [float(r["wall_s"]) for r in rs], marker="o", label=LABELS.get(tool, tool))
    names = sorted({(float(r["pack_mb"]), r["repo"]) for r in rows})
    for ax, title, unit in ((ax_rss, "peak RSS", "MiB"), (ax_wall, "wall time", "s")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("repository size (.git on disk, MB)")
        ax.set_ylabel(f"{title} ({unit})")
        ax.set_title(f"{title} of a full-history scan")
        ax.grid(True, which="both", alpha=0.3)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(ScalarFormatter())
        for x, name in names:
            ax.axvline(x, color="grey", alpha=0.15)
            ax.annotate(name, (x, 1), xycoords=("data", "axes fraction"), xytext=(2, -12),
                        textcoords="offset points", fontsize=8, color="grey")
    ax_rss.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: history-plot.py RESULTS.tsv OUT.svg")
    main(sys.argv[1], sys.argv[2])
