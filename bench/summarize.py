#!/usr/bin/python3
"""bench/run's summary: reads results.jsonl, computes every goal of issue #12 as a ratio of
medians from the same run, and writes summary.md — the goals table (scenario, figure,
yardstick, ratio, goal, met?), what limits each goal not met (CPU split, perf profile), the
absolute numbers — ending with the line `goals met: M/N`.

    summarize.py results.jsonl --out summary.md [--quick 0|1] [--sizes TEXT] [--services LIST]
    summarize.py results.jsonl --profile-targets     (the "RPC concurrency" pairs to profile)
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys


def labels(text):
    return dict(kv.split("=", 1) for kv in (text or "").split() if "=" in kv)


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Results:
    def __init__(self, path):
        self.records = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    r = json.loads(line)
                    r["_l"] = labels(r.get("label", ""))
                    self.records.append(r)

    def of(self, kind, **want):
        out = []
        for r in self.records:
            if r.get("kind") != kind:
                continue
            if all(str(r["_l"].get(k, r.get(k))) == str(v) for k, v in want.items()):
                out.append(r)
        return out

    def cpu(self, **want):
        rows = self.of("cpu", **want)
        if not rows:
            return None
        return {k: med([r.get(k) for r in rows])
                for k in ("server_pct", "postgres_pct", "machine_pct", "client_pct", "other_pct")}


def fmt_qps(v):
    return "—" if v is None else "{:,.0f} qps".format(v)


def fmt_ms(v):
    return "—" if v is None else ("%.2f ms" % v if v < 100 else "{:,.0f} ms".format(v))


def fmt_ratio(v):
    return "—" if v is None else "%.2f" % v


class Goals:
    def __init__(self):
        self.rows = []

    def add(self, scenario, figure, yardstick, ratio, goal, met, why=None, profile=None):
        self.rows.append({"scenario": scenario, "figure": figure, "yardstick": yardstick,
                          "ratio": ratio, "goal": goal, "met": met, "why": why,
                          "profile": profile})

    def not_measured(self, scenario, goal, reason):
        self.add(scenario, "not measured: " + reason, "—", None, goal, None)


def cpu_text(c, server):
    if not c:
        return None
    text = ("CPU (median of the runs, %% of one core; 2 cores = 200%%): %s %.0f%%, postgres %.0f%%"
            % (server, c["server_pct"], c["postgres_pct"]))
    if c.get("client_pct") is not None:
        text += ", load generator %.0f%%, other work on the machine %.0f%%" % (c["client_pct"], c["other_pct"])
    text += "; machine %.0f%% busy" % c["machine_pct"]
    if c["machine_pct"] >= 190:
        text += " (both cores saturated: the run is CPU-bound on a shared machine)"
    return text


def evaluate(res, services, quick):
    g = Goals()
    targets = []  # (rpc, c) to profile when a goal is not met

    def profile_of(rpc, c):
        p = res.of("profile", rpc=rpc, c=c)
        return p[-1] if p else None

    def load_med(field, **want):
        return med([r[field] for r in res.of("load", **want)])

    # ---- framework: Echo bare / instrumented / GetCustomer ----
    for c in (8, 64):
        bare = load_med("qps", group="echo", variant="Echo-bare", c=c)
        inst = load_med("qps", group="echo", variant="Echo", c=c)
        ratio = inst / bare if inst and bare else None
        met = ratio is not None and ratio >= 0.85
        g.add("Echo with request-check + auth + metrics + call-log interceptors, c=%d" % c, fmt_qps(inst),
              "bare Echo " + fmt_qps(bare), ratio, "≥ 0.85 (interceptors ≤ 15%)", met,
              cpu_text(res.cpu(group="echo", variant="Echo", c=c), "anken-bench-echo"),
              profile_of("Echo", c))
        if not met:
            targets.append(("Echo", c))
    for c in (8, 64):
        echo = load_med("qps", group="echo", variant="Echo", c=c)
        get = load_med("qps", group="echo", variant="GetCustomer", c=c)
        ratio = get / echo if get and echo else None
        met = ratio is not None and ratio >= 0.45
        g.add("GetCustomer QPS, c=%d" % c, fmt_qps(get), "Echo " + fmt_qps(echo), ratio, "≥ 0.45",
              met, cpu_text(res.cpu(group="echo", variant="GetCustomer", c=c), "anken-customer"),
              profile_of("GetCustomer", c))
        if not met:
            targets.append(("GetCustomer", c))
    for c, field, goal in ((1, "p50_ms", 1.5), (8, "p99_ms", 2.5)):
        echo = load_med(field, group="echo", variant="Echo", c=c)
        get = load_med(field, group="echo", variant="GetCustomer", c=c)
        ratio = get / echo if get and echo else None
        met = ratio is not None and ratio <= goal
        g.add("GetCustomer %s latency, c=%d" % (field[:3], c), fmt_ms(get), "Echo " + fmt_ms(echo),
              ratio, "≤ %.1f" % goal, met,
              cpu_text(res.cpu(group="echo", variant="GetCustomer", c=c), "anken-customer"),
              profile_of("GetCustomer", c))
        if not met:
            targets.append(("GetCustomer", c))

    # ---- database: RPC vs pgbench of its SQL ----
    for rpc in ("GetCustomer", "ListCustomers", "CreateCustomer", "GetProject", "ListProjects",
                "CreateProject"):
        server = "anken-customer" if "Customer" in rpc else "anken-project"
        for c in (8, 32):
            qps = load_med("qps", group="db", rpc=rpc, c=c)
            tps = med([r["tps"] for r in res.of("pgbench", group="db", rpc=rpc, c=c)])
            name = "%s%s, c=%d" % (rpc, "(50)" if rpc.startswith("List") else "", c)
            if qps is None and tps is None:
                g.not_measured(name, "≥ 0.6 × pgbench", "no run (capture failed?)")
                continue
            ratio = qps / tps if qps and tps else None
            met = ratio is not None and ratio >= 0.6
            g.add(name, fmt_qps(qps), "pgbench same SQL %s tps" % ("{:,.0f}".format(tps) if tps else "—"),
                  ratio, "≥ 0.6", met, cpu_text(res.cpu(group="db", rpc=rpc, c=c), server),
                  profile_of(rpc, c))
            if not met:
                targets.append((rpc, c))

    # ---- .xlsx upload ----
    def xlsx_med(reader, group="xlsx"):
        return med([r["median_ms"] for r in res.of("xlsx", reader=reader, group=group)])
    floor, report, openpyxl = xlsx_med("floor"), xlsx_med("report"), xlsx_med("openpyxl")
    common = xlsx_med("common")
    lines = max([r["items"] for r in res.of("xlsx", reader="report", group="xlsx")] or [0])
    if report is None:
        g.not_measured(".xlsx upload parse + validate", "≤ 2 × floor", "anken-bench-xlsx not built")
    else:
        ratio = report / floor if floor else None
        g.add(".xlsx upload of %s rows: parse + validate" % "{:,}".format(lines),
              fmt_ms(report), "bare reader floor " + fmt_ms(floor), ratio, "≤ 2", ratio is not None and ratio <= 2,
              "common/xlsx's reader alone takes %s (%.2f × floor); ReadReportXlsx + PlanUpload add "
              "the rest" % (fmt_ms(common), common / floor if common and floor else 0))
        ratio = openpyxl / report if openpyxl else None
        g.add(".xlsx upload: parse + validate vs openpyxl read_only", fmt_ms(report),
              "openpyxl " + fmt_ms(openpyxl), ratio, "≥ 4 (times faster)",
              ratio is not None and ratio >= 4)
    uploads = [r for r in res.of("load", group="upload") if r["ok"]]
    if uploads:
        e2e = med([r["max_ms"] for r in uploads])
        ufloor = xlsx_med("floor", group="upload")
        ucopy = med([r["ms"] for r in res.of("copy", group="upload")])
        rows_up = med([r["items"] for r in uploads])
        ratio = e2e / (ufloor + ucopy) if ufloor and ucopy else None
        g.add(".xlsx upload of %s rows end to end (bytes in → rows committed)" % "{:,.0f}".format(rows_up or 0),
              fmt_ms(e2e), "floor %s + COPY %s" % (fmt_ms(ufloor), fmt_ms(ucopy)), ratio, "≤ 3",
              ratio is not None and ratio <= 3 and all(r["items"] > 0 for r in uploads),
              cpu_text(res.cpu(group="upload"), "anken-report"), profile_of("UploadReportXlsx", 1))
    else:
        g.not_measured(".xlsx upload end to end (bytes in → rows committed)", "≤ 3 × (floor + COPY)",
                       "the report service did not run" if "report" not in services
                       else "no upload succeeded (see the failures below)")

    # ---- RunRenewals ----
    runs = res.of("load", group="renewal")
    if runs:
        rates = [r["items"] / (r["max_ms"] / 1000.0) for r in runs if r["ok"] and r["max_ms"]]
        entries = med([r["items"] for r in runs])
        rate = med(rates)
        copy = med([r["rows"] / (r["ms"] / 1000.0) for r in res.of("copy", group="renewal") if r["ms"]])
        ins = med([r["rows"] / (r["ms"] / 1000.0) for r in res.of("insert_per_row", group="renewal") if r["ms"]])
        why = cpu_text(res.cpu(group="renewal"), "anken-billing")
        prof = profile_of("RunRenewals", 1)
        fig = "%s entries/s (%s entries in %s)" % ("{:,.0f}".format(rate) if rate else "—",
                                                  "{:,.0f}".format(entries or 0),
                                                  fmt_ms(med([r["max_ms"] for r in runs])))
        ratio = rate / copy if rate and copy else None
        met = ratio is not None and ratio >= 0.25
        g.add("RunRenewals over the seeded plans", fig, "COPY %s rows/s" % ("{:,.0f}".format(copy) if copy else "—"),
              ratio, "≥ 0.25", met, why, prof)
        ratio2 = rate / ins if rate and ins else None
        met2 = ratio2 is not None and ratio2 >= 10
        g.add("RunRenewals vs one INSERT per row", fig,
              "INSERT per row %s rows/s" % ("{:,.0f}".format(ins) if ins else "—"), ratio2, "≥ 10", met2, why, prof)
        if not (met and met2):
            targets.append(("RunRenewals", 1))
    else:
        g.not_measured("RunRenewals", "≥ 0.25 × COPY, ≥ 10 × INSERT per row", "no run")
    opens = [r for r in res.of("load", group="openperiod") if r["ok"]]
    if opens:
        secs = med([r["max_ms"] for r in opens]) / 1000.0
        g.add("OpenPeriod, %s partners with open referrals" % "{:,.0f}".format(med([r["items"] for r in opens])),
              "%.2f s" % secs, "—", secs / 2.0, "≤ 2 s", secs <= 2.0,
              cpu_text(res.cpu(group="openperiod"), "anken-report"), profile_of("OpenPeriod", 1))
    else:
        g.not_measured("OpenPeriod, 1,000 partners × 10 cases", "≤ 2 s",
                       "the report service did not run" if "report" not in services
                       else "no OpenPeriod succeeded (see the failures below)")
    banks = res.of("bank")
    if banks:
        secs = med([r["ms"] for r in banks]) / 1000.0
        last = banks[-1]
        g.add("Bank statement reconciliation, %s lines (CSV, ImportBankStatement end to end)"
              % "{:,.0f}".format(med([r["lines"] for r in banks])),
              "%.2f s (%s matched, %s with a fee, %s unmatched)" % (
                  secs, "{:,}".format(last["matched"]), "{:,}".format(last["matched_with_fee"]),
                  "{:,}".format(last["unmatched"])),
              "—", secs / 2.0, "≤ 2 s", secs <= 2.0 and all(r["imported"] == r["lines"] and
                                                             r["matched"] > 0 for r in banks),
              cpu_text(res.cpu(group="bank"), "anken-billing"))
    else:
        g.not_measured("Bank statement reconciliation, 10,000 lines", "≤ 2 s",
                       "the billing service did not run" if "billing" not in services
                       else "no import succeeded (see the failures below)")

    # ---- memory ----
    for r in res.of("rss_idle"):
        g.add("idle RSS of anken-%s" % r["service"], "%.1f MB" % r["rss_mb"], "—", None, "≤ 40 MB",
              r["rss_mb"] <= 40,
              None if r["rss_mb"] <= 40 else "gRPC, protobuf descriptors, libpq and the metrics "
              "exposer resident at start; see the absolute table")
    ups = res.of("upload_rss")
    if ups:
        rise = max(r["peak_mb"] - r["before_mb"] for r in ups)
        g.add(".xlsx upload: peak RSS rise of anken-report (worst run)", "%+.1f MB" % rise,
              "RSS before %.1f MB" % med([r["before_mb"] for r in ups]), None, "≤ 64 MB", rise <= 64)
    else:
        g.not_measured(".xlsx upload: peak RSS rise of the report service", "≤ 64 MB",
                       "no upload ran (in-process parse + validate of the file peaks at %.1f MB)"
                       % (max([r.get("peak_rss_mb", 0) for r in res.of("xlsx", reader="report")] or [0])))
    samples = collections.defaultdict(list)
    for r in res.of("rss_sample"):
        samples[r["service"]].append((r["t"], r["rss_mb"]))
    if samples:
        worst, worst_svc, base_of = None, None, {}
        for svc, pts in samples.items():
            pts.sort()
            base = pts[max(1, len(pts) // 10)][1] if len(pts) > 2 else pts[0][1]
            end = pts[-1][1]
            growth = end - base
            base_of[svc] = (base, end)
            if worst is None or growth / base > worst[0]:
                worst, worst_svc = (growth / base, growth, base, end), svc
        soak_s = max(t for pts in samples.values() for t, _ in pts)
        g.add("RSS over %s of mixed load (worst: anken-%s)" % (
                  "%.0f min" % (soak_s / 60) if soak_s >= 60 else "%.0f s" % soak_s, worst_svc),
              "%+.1f MB (%.1f → %.1f MB)" % (worst[1], worst[2], worst[3]),
              "RSS after the first tenth", 1 + worst[0], "≤ 1.05 (no growth)", worst[0] <= 0.05,
              "; ".join("%s %.1f → %.1f MB" % (s, b, e) for s, (b, e) in sorted(base_of.items())))

    # ---- errors and tails ----
    errors = collections.Counter()
    calls = 0
    for r in res.of("load"):
        calls += r["ok"] + r["error_count"]
        for code, n in r["errors"].items():
            errors["%s %s" % (r["scenario"], code)] += n
    pg_failed = sum(r["failed"] for r in res.of("pgbench"))
    g.add("No errors in any scenario", "%d errors in %s calls" % (sum(errors.values()), "{:,}".format(calls)),
          "—", None, "0", not errors, ", ".join("%s: %d" % kv for kv in errors.most_common(6)) or None)
    if pg_failed:
        g.rows[-1]["why"] = (g.rows[-1]["why"] or "") + " (pgbench: %d failed transactions)" % pg_failed
    for v in ("Echo", "GetCustomer"):
        p99 = load_med("p99_ms", group="echo", variant=v, c=64)
        p50 = load_med("p50_ms", group="echo", variant=v, c=64)
        ratio = p99 / p50 if p99 and p50 else None
        met = ratio is not None and ratio <= 10
        g.add("%s p99 / p50, c=64" % v, "p99 " + fmt_ms(p99), "p50 " + fmt_ms(p50), ratio, "≤ 10", met,
              cpu_text(res.cpu(group="echo", variant=v, c=64), "anken-customer" if v != "Echo" else "anken-bench-echo"))
        if not met:
            targets.append((v, 64))
    return g, list(dict.fromkeys(targets))


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        # The run's own output (bench/results/) is rewritten before this line: not a change.
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", ".",
                                ":(exclude)bench/results"], capture_output=True,
                               text=True).stdout.strip()
        commit += " + uncommitted changes" if dirty else ""
    except OSError:
        commit = "?"
    return "%d cores (%s), shared with other work; commit %s" % (os.cpu_count() or 0, model, commit)


def absolute(res):
    out = ["", "## Absolute numbers (medians of the runs; printed, never gated)", ""]
    groups = collections.OrderedDict()
    for r in res.of("load"):
        l = r["_l"]
        if l.get("group") not in ("echo", "db"):
            continue
        key = (l.get("variant") or l.get("rpc"), r["concurrency"])
        groups.setdefault(key, []).append(r)
    if groups:
        out += ["| RPC | c | QPS | p50 | p90 | p99 | max | errors | runs |", "|---|---|---|---|---|---|---|---|---|"]
        for (name, c), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            out.append("| %s | %d | %s | %s | %s | %s | %s | %d | %d |" % (
                name, c, "{:,.0f}".format(med([r["qps"] for r in rs])), fmt_ms(med([r["p50_ms"] for r in rs])),
                fmt_ms(med([r["p90_ms"] for r in rs])), fmt_ms(med([r["p99_ms"] for r in rs])),
                fmt_ms(max(r["max_ms"] for r in rs)), sum(r["error_count"] for r in rs), len(rs)))
    pg = collections.OrderedDict()
    for r in res.of("pgbench"):
        pg.setdefault((r["rpc"], r["clients"]), []).append(r)
    if pg:
        caps = {r["rpc"]: r["statements"] for r in res.of("capture")}
        out += ["", "| pgbench (the RPC's captured SQL) | clients | TPS | latency avg | statements per call | -M |",
                "|---|---|---|---|---|---|"]
        for (rpc, c), rs in sorted(pg.items()):
            out.append("| %s | %d | %s | %s | %s | %s |" % (
                rpc, c, "{:,.0f}".format(med([r["tps"] for r in rs])),
                fmt_ms(med([r["latency_ms"] for r in rs])), caps.get(rpc, "?"),
                rs[-1].get("mode", "extended")))
    xs = collections.OrderedDict()
    for r in res.of("xlsx"):
        name = r["reader"] if r["_l"].get("group", "xlsx") == "xlsx" else r["reader"] + " (the upload's file)"
        xs.setdefault(name, []).append(r)
    if xs:
        out += ["", "| .xlsx reader | rows | median | rows/s | peak RSS of the process |", "|---|---|---|---|---|"]
        for reader, rs in xs.items():
            out.append("| %s | %s | %s | %s | %.1f MB |" % (reader, "{:,}".format(rs[0]["rows"]),
                                                        fmt_ms(med([r["median_ms"] for r in rs])),
                                                        "{:,.0f}".format(med([r["rows_per_s"] for r in rs])),
                                                        max(r["peak_rss_mb"] for r in rs)))
    ren = res.of("load", group="renewal")
    if ren:
        out += ["", "| bulk write | rows | time | rows/s |", "|---|---|---|---|"]
        for r in ren:
            out.append("| RunRenewals (%s) | %s | %s | %s |" % (r["label"], "{:,}".format(r["items"]), fmt_ms(r["max_ms"]),
                                                           "{:,.0f}".format(r["items"] / (r["max_ms"] / 1000.0)) if r["max_ms"] else "—"))
        for kind, name in (("copy", "COPY FROM STDIN"), ("insert_per_row", "one INSERT per row")):
            for r in res.of(kind, group="renewal") + (res.of(kind, group="upload") if kind == "copy" else []):
                out.append("| %s (%s) | %s | %s | %s |" % (name, r["label"], "{:,}".format(r["rows"]), fmt_ms(r["ms"]),
                                                       "{:,.0f}".format(r["rows"] / (r["ms"] / 1000.0)) if r["ms"] else "—"))
    for group, what in (("openperiod", "OpenPeriod"), ("upload-open", "OpenPeriod with the upload partner"),
                        ("upload", "UploadReportXlsx")):
        for r in res.of("load", group=group):
            out.append("| %s (%s) | %s | %s | — |" % (what, r["label"], "{:,}".format(r["items"]), fmt_ms(r["max_ms"])))
    for r in res.of("bank"):
        out.append("| ImportBankStatement, CSV (%s) | %s | %s | %s |" % (
            r["label"], "{:,}".format(r["lines"]), fmt_ms(r["ms"]),
            "{:,.0f}".format(r["lines"] / (r["ms"] / 1000.0)) if r["ms"] else "—"))
    idle = res.of("rss_idle")
    if idle:
        out += ["", "Idle RSS: " + ", ".join("anken-%s %.1f MB" % (r["service"], r["rss_mb"]) for r in idle) + "."]
    micro = res.of("micro")
    if micro:
        out += ["", "| micro-benchmark | time | items/s |", "|---|---|---|"]
        for r in micro:
            t = r["ns"]
            out.append("| %s | %s | %s |" % (r["name"], "%.1f ns" % t if t < 1000 else ("%.2f µs" % (t / 1000) if t < 1e6 else "%.2f ms" % (t / 1e6)),
                                         "{:,.0f}".format(r["items_per_s"]) if r["items_per_s"] else ""))
    fails = res.of("failure")
    if fails:
        out += ["", "Failures of the bench itself: " + "; ".join(r["what"] for r in fails)]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--out")
    ap.add_argument("--quick", default="0")
    ap.add_argument("--sizes", default="")
    ap.add_argument("--services", default="")
    ap.add_argument("--profile-targets", action="store_true")
    a = ap.parse_args()
    res = Results(a.jsonl)
    goals, targets = evaluate(res, a.services.split(), a.quick == "1")
    if a.profile_targets:
        for rpc, c in targets:
            print(rpc, c)
        return 0
    measured = [r for r in goals.rows if r["met"] is not None]
    met = sum(1 for r in measured if r["met"])
    lines = ["# Anken benchmarks (issue #12)", "",
             "%s run, %s. Machine: %s." % ("Quick (smoke)" if a.quick == "1" else "Full", a.sizes, machine()),
             "Ratios are of medians from this run, product and yardstick run alternately; "
             "absolute numbers depend on the machine and are never gated.", "",
             "| scenario | figure | yardstick | ratio | goal | met? |", "|---|---|---|---|---|---|"]
    for r in goals.rows:
        met_text = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append("| %s | %s | %s | %s | %s | %s |" % (r["scenario"], r["figure"], r["yardstick"],
                                                         fmt_ratio(r["ratio"]), r["goal"], met_text))
    unmet = [r for r in measured if not r["met"]]
    if unmet:
        lines += ["", "## Goals not met: what limits them", ""]
        shown = {}
        for r in unmet:
            why = r["why"] or "no further measurement"
            lines.append("- **%s** (%s vs goal %s): %s" % (r["scenario"], fmt_ratio(r["ratio"]), r["goal"], why))
            p = r["profile"]
            if not p:
                continue
            key = (p["rpc"], p["c"])
            if key in shown:
                lines.append("  perf: as for %s above." % shown[key])
                continue
            shown[key] = r["scenario"]
            lines.append("  perf (%s c=%d; the server and the services' Postgres backends, self time) by "
                         "thread and library: %s" % (p["rpc"], p["c"], "; ".join(p.get("dso", [])[:6])))
            lines.append("  top symbols: " + "; ".join(p.get("top", [])[:8]))
    lines += absolute(res)
    nm = len(goals.rows) - len(measured)
    lines += ["", "%d goals not measured (listed above with the reason)." % nm, "",
              "goals met: %d/%d" % (met, len(measured))]
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
