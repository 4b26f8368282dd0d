#!/usr/bin/python3
"""Runs scenario.json against a running suite from Python: stubs generated from proto/ by
grpc_tools (python3-grpc-tools), calls made with python3-grpcio. Environment: ANKEN_<SERVICE>_ADDR
for each service, ANKEN_TOKEN_TOOL (the anken-token binary) and ANKEN_JWT_SECRET to mint tokens.
Prints one line per step; exits 1 at the first step that does not hold."""

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import grpc
from google.protobuf import json_format
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVICES = {
    "customer": ("anken.customer.v1.customer_service", "CustomerService"),
    "project": ("anken.project.v1.project_service", "ProjectService"),
    "billing": ("anken.billing.v1.billing_service", "BillingService"),
    "report": ("anken.report.v1.report_service", "ReportIntakeService"),
    "scheduler": ("anken.scheduler.v1.scheduler_service", "SchedulerService"),
}


def generate_stubs(out_dir):
    """protoc (grpc_tools) over every .proto under proto/, as another team would."""
    protos = []
    for dirpath, _, files in os.walk(os.path.join(ROOT, "proto")):
        protos += [os.path.join(dirpath, f) for f in files if f.endswith(".proto")]
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    includes = [os.path.join(ROOT, "proto"), "/usr/include"]
    if os.path.isdir(well_known):
        includes.append(well_known)
    args = ["protoc"] + ["-I" + i for i in includes] + [
        "--python_out=" + out_dir, "--grpc_python_out=" + out_dir] + sorted(protos)
    if protoc.main(args) != 0:
        sys.exit("stub generation failed")
    sys.path.insert(0, out_dir)


def substitute(value, saved):
    if isinstance(value, dict) and set(value) == {"$timestamp"}:
        return substitute(value["$timestamp"], saved)  # proto JSON writes a Timestamp as text
    if isinstance(value, str):
        for k, v in saved.items():
            value = value.replace("${" + k + "}", str(v))
        return value
    if isinstance(value, list):
        return [substitute(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, saved) for k, v in value.items()}
    return value


def text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def holds(expected, actual, path="response"):
    """None when `expected` is a subset of `actual`, else why not."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {actual!r}"
        for k, v in expected.items():
            why = holds(v, actual.get(k), f"{path}.{k}")
            if why:
                return why
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {actual!r}"
        for i, e in enumerate(expected):
            if all(holds(e, a) for a in actual):
                return f"{path}[{i}]: no element matches {e!r} in {actual!r}"
        return None
    if text(expected) != text(actual):
        return f"{path}: expected {text(expected)!r}, got {actual!r}"
    return None


def pick(obj, path):
    for part in path.replace("]", "").replace("[", ".").split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


class Tokens:
    def __init__(self):
        self.cache = {}

    def get(self, who):
        if who == "none":
            return None
        if who not in self.cache:
            role, _, partner = who.partition(":")
            args = [os.environ["ANKEN_TOKEN_TOOL"], "--role", role, "--sub", "interop-py"]
            if partner:
                args += ["--partner-id", partner]
            self.cache[who] = subprocess.run(args, check=True, capture_output=True,
                                             text=True).stdout.strip()
        return self.cache[who]


def main():
    with open(os.path.join(HERE, "scenario.json"), encoding="utf-8") as f:
        steps = json.load(f)["steps"]
    stub_dir = tempfile.mkdtemp(prefix="anken-py-stubs-")
    generate_stubs(stub_dir)
    stubs, modules = {}, {}
    for name, (module, service) in SERVICES.items():
        addr = os.environ.get(f"ANKEN_{name.upper()}_ADDR")
        if not addr:
            continue
        pb2 = importlib.import_module(module + "_pb2")
        pb2_grpc = importlib.import_module(module + "_pb2_grpc")
        modules[name] = (pb2, pb2.DESCRIPTOR.services_by_name[service])
        stubs[name] = getattr(pb2_grpc, service + "Stub")(grpc.insecure_channel(addr))
    tokens = Tokens()
    saved = {"run": uuid.uuid4().hex[:12]}
    for n, step in enumerate(steps, 1):
        step = substitute(step, saved)
        pb2, service = modules[step["service"]]
        method = service.methods_by_name[step["method"]]
        request = json_format.ParseDict(step["request"], getattr(pb2, method.input_type.name)())
        token = tokens.get(step["as"])
        metadata = [("authorization", "Bearer " + token)] if token else []
        attempts = step.get("retry", {}).get("times", 1)
        for attempt in range(attempts):
            why, response = None, None
            try:
                reply = getattr(stubs[step["service"]], step["method"])(
                    request, metadata=metadata, timeout=30)
                response = json_format.MessageToDict(
                    reply, preserving_proto_field_name=True, including_default_value_fields=True)
                if "expect_code" in step:
                    why = f"expected {step['expect_code']}, got OK"
                else:
                    why = holds(step.get("expect", {}), response)
            except grpc.RpcError as e:
                if e.code().name != step.get("expect_code"):
                    why = f"{e.code().name}: {e.details()}"
            if not why:
                break
            time.sleep(step.get("retry", {}).get("sleep_ms", 0) / 1000)
        if why:
            print(f"FAIL {n:2d} {step['name']}: {why}")
            return 1
        for var, path in step.get("save", {}).items():
            saved[var] = pick(response, path)
        print(f"ok   {n:2d} {step['name']}")
    print(f"python: {len(steps)} steps held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
