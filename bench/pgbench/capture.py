#!/usr/bin/python3
"""Turns the SQL a service really ran for one RPC into a pgbench script, so the database
yardstick runs exactly that SQL (the store's statements, and those of common/db around them:
BEGIN, SET TRANSACTION, statement_timeout, idempotency keys, audit events, COMMIT).

bench/run logs every statement (log_statement=all, jsonlog) while anken-load makes one call
with marker values, between two marker statements of its own. This script takes the
transactions the services' roles ran between the markers (a peer call's transactions too),
in order, and writes

  <name>.sql        the pgbench script: each statement as the service sent it, its $n
                    parameters replaced by pgbench variables (extended protocol: pgbench
                    binds them as parameters, as libpqxx's exec_params does), and the
                    query mode pgbench must run it with (a "-- pgbench mode:" line);
  <name>.vars.json  the captured values of the constant parameters (passed with -D).

The mode: when the service ran any of the call's statements as a named prepared statement
(the log's "execute anken_...:" lines; "execute <unnamed>:" is exec_params), pgbench runs
the script with -M prepared, which prepares every statement of it, else with -M extended.
A call that mixes both is measured against pgbench preparing all of them: the stronger
yardstick, never a weaker one.

Marker values become varying variables: the drawn id (4242) → :id or :cid, the request_id
(bcap-0-0) → :rid, a value made of a sequence's number (C7777777 or 7777777, from a
setval before the call) → :nextval of the statement that drew it (which gets \\gset). NULL
stays NULL and an empty text stays '' (pgbench -D cannot pass an empty value).

  capture.py script LOG NAME OUTDIR     write OUTDIR/NAME.sql and OUTDIR/NAME.vars.json
  capture.py dargs VARS.json            print the -D arguments, NUL-separated
  capture.py mode SCRIPT.sql            print the -M mode the script is to run with
"""
import json
import re
import sys

ID_MARKER = "4242"
REQUEST_ID_MARKER = "bcap-0-0"
SEQUENCE_MARKER = "7777777"

# Per RPC: which marker a captured value stands for, and the \set lines that draw it.
# `roles`: the database roles whose transactions belong to the call (the service's own, and
# its peers'); other services' background work (relays, the scheduler's ticks) is left out.
SCENARIOS = {
    "GetCustomer": {"roles": ["customer"], "ids": "id", "sets": ["\\set id random(1, :id_max)"]},
    "ListCustomers": {"roles": ["customer"], "sets": []},
    "CreateCustomer": {"roles": ["customer"], "sets": ["\\set rid random(1, 1000000000000000)"]},
    "GetProject": {"roles": ["project"], "ids": "id", "sets": ["\\set id random(1, :id_max)"]},
    "ListProjects": {"roles": ["project"], "sets": []},
    "CreateProject": {"roles": ["customer", "project"], "ids": "cid",
                      "sets": ["\\set rid random(1, 1000000000000000)",
                               "\\set cid random(1, :customer_id_max)"]},
}

PARAM_RE = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def parse_params(detail):
    """'parameters: $1 = '5', $2 = NULL' -> {1: '5', 2: None}."""
    out = {}
    if not detail or not detail.startswith("parameters: "):
        return out
    for m in PARAM_RE.finditer(detail):
        v = m.group(2)
        out[int(m.group(1))] = None if v == "NULL" else v[1:-1].replace("''", "'")
    return out


def statement_of(message):
    """The SQL of a 'statement: ...' or 'execute <name>: ...' log message, else None."""
    if message.startswith("statement: "):
        return message[len("statement: "):]
    m = re.match(r"execute [^:]*: ", message)
    if m:
        return message[m.end():]
    return None


def prepared_by_name(message):
    """Whether the message logs a named prepared statement ('execute anken_1f..: ...')."""
    m = re.match(r"execute ([^:]*): ", message)
    return m is not None and m.group(1) != "<unnamed>"


def transactions(log_path, name):
    """The transactions (lists of (sql, params)) the services ran between the markers."""
    begin = "statement: SELECT 'bench-capture-begin:%s'" % name
    end = "statement: SELECT 'bench-capture-end:%s'" % name
    entries, inside = [], False
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            msg = e.get("message", "")
            if msg == begin:
                entries, inside = [], True
                continue
            if msg == end:
                inside = False
                break
            if inside and e.get("user") in SCENARIOS[name]["roles"]:
                entries.append(e)
    if inside or not entries:
        raise SystemExit("capture %s: markers not found or nothing logged in %s" % (name, log_path))
    open_tx, done = {}, []
    for e in entries:
        sql = statement_of(e.get("message", ""))
        if sql is None:
            continue
        pid = e.get("pid")
        word = sql.strip().rstrip(";").upper()
        if word == "BEGIN":
            open_tx[pid] = (e.get("timestamp", ""), [(sql.strip(), {}, False)])
        elif pid in open_tx:
            open_tx[pid][1].append((sql.strip(), parse_params(e.get("detail")),
                                    prepared_by_name(e.get("message", ""))))
            if word in ("COMMIT", "ROLLBACK"):
                if word == "ROLLBACK":
                    raise SystemExit("capture %s: a transaction rolled back (the call failed?)" % name)
                done.append(open_tx.pop(pid))
    if not done:
        raise SystemExit("capture %s: no committed transaction between the markers" % name)
    return [stmts for _, stmts in sorted(done, key=lambda t: t[0])]


def mode_of(txs):
    """pgbench's -M for the call: prepared when the service prepared any statement of it."""
    return "prepared" if any(p for stmts in txs for _, _, p in stmts) else "extended"


def mode_of_script(path):
    """The mode a script written by script() names (extended for older scripts)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"-- pgbench mode: (\w+)$", line.rstrip("\n"))
            if m:
                return m.group(1)
    return "extended"


def script(name, txs):
    rules = SCENARIOS[name]
    mode = mode_of(txs)
    lines = ["-- pgbench script of %s: the SQL the service ran for one call, captured from" % name,
             "-- Postgres' statement log by bench/pgbench/capture.py (bench/run). Do not edit:",
             "-- bench/run --update-sql rewrites it when the service's SQL changes.",
             "-- Run with -M %s and the -D values of %s.vars.json." % (mode, name),
             "-- pgbench mode: %s" % mode]
    lines += rules["sets"]
    values, n = {}, 0
    for stmts in txs:
        for sql, params, _ in stmts:
            def replace(m):
                nonlocal n
                i = int(m.group(1))
                if i not in params:
                    raise SystemExit("capture %s: $%d has no logged value" % (name, i))
                v = params[i]
                if v is None:
                    return "NULL"
                if v == "":
                    return "''"  # pgbench -D refuses an empty value
                if v == ID_MARKER and "ids" in rules:
                    return ":" + rules["ids"]
                if v == REQUEST_ID_MARKER:
                    return ":rid"
                if re.fullmatch(r"[A-Za-z]*0*" + SEQUENCE_MARKER, v):
                    return ":nextval"  # the drawn code or number itself, not text quoting it
                n += 1
                values["v%d" % n] = v
                return ":v%d" % n
            text = re.sub(r"\$(\d+)", replace, sql)
            if "nextval(" in text:
                lines.append(text + " \\gset")
            else:
                lines.append(text + ";")
    return "\n".join(lines) + "\n", values


def main(argv):
    if len(argv) == 5 and argv[1] == "script":
        _, _, log, name, outdir = argv
        text, values = script(name, transactions(log, name))
        with open("%s/%s.sql" % (outdir, name), "w", encoding="utf-8") as f:
            f.write(text)
        with open("%s/%s.vars.json" % (outdir, name), "w", encoding="utf-8") as f:
            json.dump(values, f, ensure_ascii=False, indent=0, sort_keys=True)
            f.write("\n")
        return 0
    if len(argv) == 3 and argv[1] == "mode":
        print(mode_of_script(argv[2]))
        return 0
    if len(argv) == 3 and argv[1] == "dargs":
        with open(argv[2], encoding="utf-8") as f:
            values = json.load(f)
        out = sys.stdout.buffer
        for k in sorted(values, key=lambda k: int(k[1:])):
            out.write(("-D%s=%s" % (k, values[k])).encode("utf-8") + b"\0")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
