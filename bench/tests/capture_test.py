#!/usr/bin/python3
"""bench/pgbench/capture.py: from a Postgres JSON statement log to a pgbench script."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pgbench"))
import capture  # noqa: E402


def entry(msg, user="customer", pid=10, detail=None, ts="2026-01-01 00:00:00.%06d"):
    entry.n += 1
    e = {"timestamp": ts % entry.n, "user": user, "pid": pid, "message": msg}
    if detail:
        e["detail"] = detail
    return json.dumps(e)


entry.n = 0


def log_of(lines):
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
    f.write("\n".join(lines) + "\n")
    f.close()
    return f.name


class CaptureTest(unittest.TestCase):
    def test_parameters_keep_quotes_nulls_and_empty_text(self):
        p = capture.parse_params("parameters: $1 = '4242', $2 = NULL, $3 = 'it''s', $4 = ''")
        self.assertEqual(p, {1: "4242", 2: None, 3: "it's", 4: ""})

    def test_script_of_a_create(self):
        log = log_of([
            entry("statement: SELECT 'bench-capture-begin:CreateCustomer'", user="postgres", pid=1),
            entry("statement: SELECT 1", pid=11),  # a health ping outside any transaction
            entry("statement: BEGIN"),
            entry("execute <unnamed>: SELECT set_config('statement_timeout', $1, true)",
                  detail="parameters: $1 = '30000'"),
            entry("execute <unnamed>: INSERT INTO k (m, r) VALUES ($1, $2)",
                  detail="parameters: $1 = 'm: x', $2 = 'bcap-0-0'"),
            entry("statement: SELECT nextval('customer.customer_code_seq')"),
            entry("execute <unnamed>: INSERT INTO c (code, key, memo, t) VALUES ($1, $2, $3, $4)",
                  detail="parameters: $1 = 'C7777777', $2 = 'c7777777 x', $3 = '', $4 = NULL"),
            entry("statement: COMMIT"),
            entry("statement: SELECT 'bench-capture-end:CreateCustomer'", user="postgres", pid=1),
            entry("statement: BEGIN"),  # after the end marker: ignored
        ])
        text, values = capture.script("CreateCustomer", capture.transactions(log, "CreateCustomer"))
        body = [l for l in text.splitlines() if not l.startswith("--")]
        self.assertEqual(body, [
            "\\set rid random(1, 1000000000000000)",
            "BEGIN;",
            "SELECT set_config('statement_timeout', :v1, true);",
            "INSERT INTO k (m, r) VALUES (:v2, :rid);",
            "SELECT nextval('customer.customer_code_seq') \\gset",
            "INSERT INTO c (code, key, memo, t) VALUES (:nextval, :v3, '', NULL);",
            "COMMIT;",
        ])
        # Text merely containing the number stays a captured constant.
        self.assertEqual(values, {"v1": "30000", "v2": "m: x", "v3": "c7777777 x"})

    def test_exec_params_alone_is_run_with_the_extended_protocol(self):
        log = log_of([
            entry("statement: SELECT 'bench-capture-begin:GetCustomer'", user="postgres", pid=1),
            entry("statement: BEGIN"),
            entry("execute <unnamed>: SELECT * FROM customer.customers c WHERE c.id = $1",
                  detail="parameters: $1 = '4242'"),
            entry("statement: COMMIT"),
            entry("statement: SELECT 'bench-capture-end:GetCustomer'", user="postgres", pid=1),
        ])
        text, _ = capture.script("GetCustomer", capture.transactions(log, "GetCustomer"))
        self.assertIn("-- pgbench mode: extended\n", text)

    def test_named_prepared_statements_make_pgbench_prepare(self):
        log = log_of([
            entry("statement: SELECT 'bench-capture-begin:GetCustomer'", user="postgres", pid=1),
            entry("statement: BEGIN"),
            entry("execute anken_00a1b2c3d4e5f607: SELECT set_config('transaction_read_only', "
                  "'on', true), set_config('statement_timeout', $1, true)",
                  detail="parameters: $1 = '29990'"),
            entry("execute anken_9f00000000000001: SELECT * FROM customer.customers c "
                  "WHERE c.id = $1", detail="parameters: $1 = '4242'"),
            entry("statement: COMMIT"),
            entry("statement: SELECT 'bench-capture-end:GetCustomer'", user="postgres", pid=1),
        ])
        text, values = capture.script("GetCustomer", capture.transactions(log, "GetCustomer"))
        body = [l for l in text.splitlines() if not l.startswith("--")]
        self.assertEqual(body, [
            "\\set id random(1, :id_max)",
            "BEGIN;",
            "SELECT set_config('transaction_read_only', 'on', true), "
            "set_config('statement_timeout', :v1, true);",
            "SELECT * FROM customer.customers c WHERE c.id = :id;",
            "COMMIT;",
        ])
        self.assertEqual(values, {"v1": "29990"})
        self.assertIn("-- pgbench mode: prepared\n", text)
        path = os.path.join(tempfile.mkdtemp(), "GetCustomer.sql")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        out = subprocess.run([sys.executable, os.path.join(HERE, "..", "pgbench", "capture.py"),
                              "mode", path], capture_output=True, check=True, text=True).stdout
        self.assertEqual(out, "prepared\n")

    def test_peer_transactions_come_in_order_and_ids_become_variables(self):
        log = log_of([
            entry("statement: SELECT 'bench-capture-begin:CreateProject'", user="postgres", pid=1),
            entry("statement: BEGIN", user="customer", pid=20),
            entry("execute <unnamed>: SELECT * FROM customer.customers WHERE id = ANY($1)",
                  user="customer", pid=20, detail="parameters: $1 = '{4242}'"),
            entry("statement: COMMIT", user="customer", pid=20),
            entry("statement: BEGIN", user="project", pid=30),
            entry("execute <unnamed>: INSERT INTO project.projects (customer_id) VALUES ($1)",
                  user="project", pid=30, detail="parameters: $1 = '4242'"),
            entry("statement: COMMIT", user="project", pid=30),
            entry("statement: SELECT 'bench-capture-end:CreateProject'", user="postgres", pid=1),
        ])
        text, values = capture.script("CreateProject", capture.transactions(log, "CreateProject"))
        self.assertLess(text.index("customer.customers"), text.index("project.projects"))
        self.assertIn("VALUES (:cid);", text)
        self.assertEqual(values, {"v1": "{4242}"})

    def test_a_rolled_back_call_is_refused(self):
        log = log_of([
            entry("statement: SELECT 'bench-capture-begin:GetCustomer'", user="postgres", pid=1),
            entry("statement: BEGIN"),
            entry("statement: ROLLBACK"),
            entry("statement: SELECT 'bench-capture-end:GetCustomer'", user="postgres", pid=1),
        ])
        with self.assertRaises(SystemExit):
            capture.transactions(log, "GetCustomer")

    def test_dargs_are_nul_separated_define_flags(self):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"v2": "b c", "v10": "x", "v1": "a=1"}, f)
        f.close()
        out = subprocess.run([sys.executable, os.path.join(HERE, "..", "pgbench", "capture.py"),
                              "dargs", f.name], capture_output=True, check=True).stdout
        self.assertEqual(out.split(b"\0")[:-1], [b"-Dv1=a=1", b"-Dv2=b c", b"-Dv10=x"])

    def test_checked_in_scripts_exist_for_every_rpc(self):
        for name in capture.SCENARIOS:
            path = os.path.join(HERE, "..", "pgbench", name + ".sql")
            self.assertTrue(os.path.exists(path), path)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertIn("BEGIN;", text)
            self.assertIn("COMMIT;", text)


if __name__ == "__main__":
    unittest.main()
