#!/usr/bin/python3
"""The reference a user would otherwise pick: openpyxl in read_only mode reading the report
sheet's values. Same JSON line as anken-bench-xlsx read (reader "openpyxl").

    openpyxl_read.py FILE [--iterations N] [--json-out F] [--label TEXT]
"""
import argparse
import json
import resource
import statistics
import sys
import time

import openpyxl

SHEET = "案件一覧"


def read_once(path):
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = cells = 0
    for row in wb[SHEET].iter_rows(values_only=True):
        rows += 1
        cells += sum(1 for v in row if v is not None)
    wb.close()
    return rows, cells


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--json-out", default="")
    p.add_argument("--label", default="")
    a = p.parse_args()
    times = []
    rows = cells = 0
    for _ in range(max(1, a.iterations)):
        start = time.perf_counter()
        rows, cells = read_once(a.file)
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median_low(times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rec = {"kind": "xlsx", "reader": "openpyxl", "label": a.label, "rows": rows, "cells": cells,
           "iterations": len(times), "median_ms": round(median, 3), "best_ms": round(min(times), 3),
           "rows_per_s": round(rows / (median / 1000), 1) if median else 0,
           "peak_rss_mb": round(peak, 1), "items": 0, "error_count": 0}
    print("xlsx %-7s %6d rows  median %8.2f ms  best %8.2f ms  %9.0f rows/s  peak RSS %.1f MB"
          % ("openpyxl", rows, median, min(times), rec["rows_per_s"], peak))
    line = json.dumps(rec, ensure_ascii=False)
    if a.json_out == "-":
        print(line)
    elif a.json_out:
        with open(a.json_out, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
