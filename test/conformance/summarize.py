"""Summarizes one port's validator runs as a Markdown table row; exits 1 on any failure.

usage: summarize.py NAME LOGDIR   (LOGDIR holds service/stdout.txt and protocol/*.tsv)
"""
import csv
import glob
import os
import re
import sys


def service_counts(logdir):
    text = open(os.path.join(logdir, "service", "stdout.txt"), encoding="utf-8", errors="replace").read()
    match = re.search(r"PASS\s*\|\s*WARN\s*\|\s*FAIL\s*\|\s*NOT TESTED\s*\|\s*\n[+-]+\n\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)", text)
    if not match:
        return None
    return dict(zip(("pass", "warn", "fail", "not tested"), map(int, match.groups())))


def protocol_counts(logdir):
    reports = sorted(glob.glob(os.path.join(logdir, "protocol", "*.tsv")))
    if not reports:
        return None, []
    counts = {"pass": 0, "warn": 0, "fail": 0, "not tested": 0}
    failures = []
    with open(reports[-1], encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            result = (row.get("Result") or "").strip().lower().replace("_", " ")
            if result in counts:
                counts[result] += 1
            if result == "fail":
                failures.append(f"{row.get('Assertion')} {row.get('Method')} {row.get('URI')}: {row.get('Message')}")
    return counts, failures


def fmt(counts):
    return ", ".join(f"{counts[k]} {k}" for k in ("pass", "warn", "fail", "not tested"))


def main():
    name, logdir = sys.argv[1], sys.argv[2]
    service = service_counts(logdir)
    protocol, failures = protocol_counts(logdir)
    ok = service is not None and protocol is not None and service["fail"] == 0 and protocol["fail"] == 0
    print(f"| {name} | {fmt(service) if service else 'no result (see logs)'} | {fmt(protocol) if protocol else 'no result (see logs)'} |")
    for failure in failures:
        print(f"conformance: {name}: {failure}", file=sys.stderr)
    sys.exit(0 if ok else 1)


main()
