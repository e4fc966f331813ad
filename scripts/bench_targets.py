#!/usr/bin/env python3
"""Summarises `scripts/bench_ab.sh targets` (its lines on stdin): each side's
medians over the rounds and the ratios issue 22's targets name, as a
Markdown table (docs/PERFORMANCE.md, "Issue 22 targets at a glance")."""
import collections
import statistics
import sys

SIDES = ("before", "after")


def seconds(clock):
    """'M:SS.ss' or 'H:MM:SS' of /usr/bin/time -> seconds."""
    total = 0.0
    for part in clock.split(":"):
        total = total * 60 + float(part)
    return total


def parse(lines):
    """{(side, metric): [value per round]}, the index file of each side."""
    values, index = collections.defaultdict(list), {}
    for line in lines:
        f = line.split()
        if len(f) < 3 or line.startswith("#"):
            continue
        rnd, side, kind = f[0], f[1], f[2]
        big = "big " if rnd == "big" else ""
        if kind == "build":
            values[side, big + "build wall s"].append(seconds(f[4]))
            values[side, big + "build CPU %"].append(float(f[6].rstrip("%")))
            for field in f[7:]:
                if "=" in field:
                    stage, value = field.split("=")
                    values[side, big + "stage " + stage + " s"].append(float(value))
        elif kind == "index":
            index[side] = f[3]
            values[side, "snapshot MB"].append(float(f[4]))
        elif kind == "engine":
            values[side, "engine %s qps" % f[3]].append(float(f[4]))
            values[side, "engine %s cpu us" % f[3]].append(float(f[5]))
        elif kind == "search":
            values[side, "search qps"].append(float(f[4]))
        elif kind == "rss":
            values[side, "server RSS %s MB" % f[3]].append(float(f[4]) / 1024)
        elif kind == "rpc":
            work, c = f[3], f[4]
            qps, p50, client, server = map(float, f[5:9])
            key = "%s c=%s" % (work, c)
            values[side, "rpc %s qps" % key].append(qps)
            values[side, "rpc %s p50 ms" % key].append(p50)
            values[side, "client cpu us %s" % key].append(client)
            values[side, "server cpu us %s" % key].append(server)
    return values, index


def add_ratios(values):
    """Per round: server CPU / engine CPU (item 1), RPC qps / search qps (item 5)."""
    for side in SIDES:
        for work in ("u2i", "full"):
            engine = values.get((side, "engine %s cpu us" % work), [])
            for c in ("8", "1"):
                server = values.get((side, "server cpu us %s c=%s" % (work, c)), [])
                values[side, "item 1: server / engine CPU, %s c=%s" % (work, c)] = [
                    s / e for s, e in zip(server, engine) if e > 0]
        rpc, search = values.get((side, "rpc u2i c=8 qps"), []), values.get((side, "search qps"), [])
        values[side, "item 5: RPC u2i c=8 qps / search qps"] = [
            r / s for r, s in zip(rpc, search) if s > 0]


def main():
    values, index = parse(sys.stdin)
    add_ratios(values)
    metrics = sorted({metric for _, metric in values}, key=lambda m: (not m.startswith("item"), m))
    print("\n| measurement | before | after | after / before |")
    print("|---|---|---|---|")
    print("| dssm index file | %s | %s | |" % (index.get("before", "-"), index.get("after", "-")))
    for metric in metrics:
        med = {s: statistics.median(values[s, metric]) for s in SIDES if values.get((s, metric))}
        if not med:
            continue
        cells = ["%.2f" % med[s] if s in med else "-" for s in SIDES]
        ratio = "%.2f" % (med["after"] / med["before"]) if len(med) == 2 and med["before"] else ""
        rounds = max(len(values.get((s, metric), [])) for s in SIDES)
        print("| %s (median of %d) | %s | %s | %s |" % (metric, rounds, cells[0], cells[1], ratio))


if __name__ == "__main__":
    main()
