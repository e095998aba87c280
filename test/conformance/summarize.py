"""Summarizes one port's validator runs as a Markdown table row; exits 1 on any failure.

usage: summarize.py NAME LOGDIR   (LOGDIR holds service/stdout.txt, protocol/*.tsv and interop/stdout.txt)
"""
import csv
import glob
import os
import re
import sys


def table_counts(logdir, validator):
    """The PASS/WARN/FAIL/NOT TESTED table the service and interop validators end their output with."""
    path = os.path.join(logdir, validator, "stdout.txt")
    if not os.path.exists(path):
        return None
    text = open(path, encoding="utf-8", errors="replace").read()
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
    service = table_counts(logdir, "service")
    protocol, failures = protocol_counts(logdir)
    interop = table_counts(logdir, "interop")
    results = (service, protocol, interop)
    ok = all(r is not None and r["fail"] == 0 for r in results)
    print(f"| {name} | " + " | ".join(fmt(r) if r else "no result (see logs)" for r in results) + " |")
    for failure in failures:
        print(f"conformance: {name}: {failure}", file=sys.stderr)
    sys.exit(0 if ok else 1)


main()
