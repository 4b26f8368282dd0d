#!/usr/bin/python3
"""Proves that the deployment checks fail on a broken deployment: copies the parts of the
checkout they read into a temporary folder, breaks one thing on purpose, runs the check on the
copy and passes only when the check fails (exit 1) with the expected complaint.

  break_copy.py --root SRC [--build-dir DIR] CASE      (break_copy.py --list: the cases)

A case whose edit no longer applies (the text it replaces is gone) fails too, so that a case
cannot pass by accident after the files change.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

VALIDATE = ["scripts/validate-deploy", "--only", "yamllint", "render", "schema", "policy"]
IMAGE_LIBS = ["scripts/check-image-libs"]

# name: (tool, file, text to replace, replacement, text the tool's output must contain);
# the text to replace may be a (first, last) pair: the span from first up to (not including)
# last.
CASES = {
    # A misspelt field: kubectl would silently drop it on a lenient cluster.
    "unknown_field": (
        VALIDATE, "deploy/k8s/base/customer/customer.yaml",
        "          readinessProbe:", "          readinesProbe:",
        "readinesProbe: unknown field"),
    # A field newer than Kubernetes 1.28 (the preStop `sleep` handler is 1.29+).
    "newer_than_1_28": (
        VALIDATE, "deploy/k8s/base/project/project.yaml",
        '              exec:\n                command: ["sleep", "5"]',
        "              sleep:\n                seconds: 5",
        "preStop.sleep: unknown field"),
    # A Deployment without its liveness probe.
    "missing_probe": (
        VALIDATE, "deploy/k8s/base/billing/billing.yaml",
        "          livenessProbe:\n            tcpSocket:\n              port: grpc\n"
        "            periodSeconds: 10\n            timeoutSeconds: 2\n"
        "            failureThreshold: 3\n",
        "",
        "Deployment/anken-billing livenessProbe: must be a tcpSocket probe"),
    # A container that may write its root filesystem.
    "writable_root": (
        VALIDATE, "deploy/k8s/base/customer/customer.yaml",
        "            readOnlyRootFilesystem: true\n            capabilities:\n"
        "              drop: [\"ALL\"]\n            seccompProfile:\n"
        "              type: RuntimeDefault\n          volumeMounts:",
        "            readOnlyRootFilesystem: false\n            capabilities:\n"
        "              drop: [\"ALL\"]\n            seccompProfile:\n"
        "              type: RuntimeDefault\n          volumeMounts:",
        "readOnlyRootFilesystem: must be true"),
    # billing's egress rule names the wrong pods, so its calls to project are blocked.
    "blocked_flow": (
        VALIDATE, "deploy/k8s/base/billing/billing.yaml",
        "              app.kubernetes.io/name: project\n",
        "              app.kubernetes.io/name: projects\n",
        "NetworkPolicies block billing -> project"),
    # prod with a single replica of one service.
    "prod_single_replica": (
        VALIDATE, "deploy/k8s/overlays/prod/replicas.yaml",
        "  name: anken-project\nspec:\n  replicas: 2",
        "  name: anken-project\nspec:\n  replicas: 1",
        "Deployment/anken-project replicas: 1, prod needs at least 2"),
    # A service without its migration Job (the whole document removed).
    "missing_migration_job": (
        VALIDATE, "deploy/k8s/base/customer/customer.yaml",
        ("# Applies the migrations", "# Who may reach"), "",
        "Deployment/anken-customer: needs exactly one migration Job"),
    # A migration Job that does not migrate.
    "job_without_migrate": (
        VALIDATE, "deploy/k8s/base/project/project.yaml",
        'args: ["--migrate"]', 'args: ["--check-config"]',
        "Job/anken-project-migrate: must run the image's entrypoint with args"),
    # Not YAML at all.
    "bad_yaml": (
        VALIDATE, "deploy/k8s/overlays/dev/kustomization.yaml",
        "namespace: anken-dev\n", "namespace: anken-dev\n  bad: [indent\n",
        "syntax error"),
    # The runtime image without the package of a library every service loads.
    "image_missing_library": (
        IMAGE_LIBS, "docker/Dockerfile",
        "      libpqxx-6.4 \\\n", "",
        "package libpqxx-6.4"),
}
SHELLCHECK_CASE = "shellcheck_finding"  # a new script with an unquoted expansion


def copy_tree(root, dest):
    for d in ("deploy", "docker", "scripts"):
        shutil.copytree(os.path.join(root, d), os.path.join(dest, d), symlinks=True)
    # Only the service declarations: which binaries exist.
    sdir = os.path.join(root, "services")
    for name in os.listdir(sdir):
        cm = os.path.join(sdir, name, "CMakeLists.txt")
        if os.path.isfile(cm):
            os.makedirs(os.path.join(dest, "services", name))
            shutil.copy(cm, os.path.join(dest, "services", name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=False)
    ap.add_argument("--build-dir")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("case", nargs="?")
    args = ap.parse_args()
    if args.list:
        print("\n".join(sorted(CASES) + [SHELLCHECK_CASE]))
        return 0
    if not args.root or args.case not in list(CASES) + [SHELLCHECK_CASE]:
        ap.error(f"need --root and a case: {', '.join(sorted(CASES) + [SHELLCHECK_CASE])}")
    root = os.path.abspath(args.root)
    with tempfile.TemporaryDirectory(prefix="anken-deploy-") as tmp:
        copy_tree(root, tmp)
        if args.case == SHELLCHECK_CASE:
            path = os.path.join(tmp, "scripts", "zz-broken")
            with open(path, "w") as f:
                f.write("#!/usr/bin/env bash\nfiles=$1\nrm -f $files\n")
            os.chmod(path, 0o755)
            cmd, expect = ["scripts/validate-deploy", "--only", "shellcheck"], \
                "scripts/zz-broken:3:7: note: Double quote to prevent globbing"
        else:
            cmd, rel, old, new, expect = CASES[args.case]
            path = os.path.join(tmp, rel)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if isinstance(old, tuple):
                first, last = old
                start = text.find(first)
                end = text.find(last, start + 1) if start >= 0 else -1
                old = text[start:end] if start >= 0 and end > start else first + "..." + last
            if text.count(old) != 1:
                print(f"break_copy: case {args.case}: the text to break occurs "
                      f"{text.count(old)} times in {rel} (expected once); update the case")
                return 1
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new))
        argv = [os.path.join(tmp, cmd[0])] + cmd[1:] + ["--root", tmp]
        if cmd is IMAGE_LIBS:
            if not args.build_dir:
                ap.error("the image case needs --build-dir")
            argv += ["--build-dir", args.build_dir]
        r = subprocess.run(argv, capture_output=True, text=True)
        output = r.stdout + r.stderr
        print(output.rstrip())
        if r.returncode != 1:
            print(f"break_copy: case {args.case}: expected exit 1 from the broken copy, got "
                  f"{r.returncode}")
            return 1
        if expect not in output:
            print(f"break_copy: case {args.case}: failed, but without {expect!r}")
            return 1
        print(f"break_copy: case {args.case}: rejected as expected")
        return 0


if __name__ == "__main__":
    sys.exit(main())
