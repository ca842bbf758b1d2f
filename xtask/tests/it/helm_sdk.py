#!/usr/bin/env python3
"""A test-only stand-in for the `helm` CLI, built on the real Helm v4 engine.

No helm binary can be installed on the test machines, but the PyPI package `helm-python-sdk`
carries Helm's own Go SDK (through ctypes). This script puts just enough of the helm command
line over it for Strata's tier-2 tests, so what they check is what Helm itself renders:

    helm version [--short] [--template T]
    helm template [NAME] CHART [-n NS] [-f FILE]... [--output-dir DIR]
    helm lint [--strict] [CHART]... [-n NS] [-f FILE]...
    helm upgrade --install NAME CHART [-n NS] [-f FILE]... --dry-run[=client]

Charts are local directories or .tgz archives only. Flags that change nothing offline
(`--create-namespace`, `--wait`, `--timeout`, `--atomic`, `--rollback-on-failure`,
`--kubeconfig`, `--kube-context`, `--version`, `--debug`) are accepted and ignored. Anything
else it cannot do as helm would (a remote chart, an upgrade that is not a client-side dry run,
an unknown flag) fails with a message that says so. Errors print as `Error: ...` on stderr with
exit code 1, as helm does, carrying the engine's own message.
"""

import os
import re
import sys
import time

USAGE = """\
A stand-in for helm over the Helm v4 engine (helm-python-sdk), for Strata's tests:
    helm version [--short] [--template T]
    helm template [NAME] CHART [-n NS] [-f FILE]... [--output-dir DIR]
    helm lint [--strict] [CHART]... [-n NS] [-f FILE]...
    helm upgrade --install NAME CHART [-n NS] [-f FILE]... --dry-run[=client]
"""

# How each flag is read. `value`: takes an argument (`--flag X` or `--flag=X`); `bool`: takes
# none, though `--flag=X` is allowed as pflag allows it.
GLOBAL_FLAGS = {
    "-n": "value",
    "--namespace": "value",
    "--kubeconfig": "value",
    "--kube-context": "value",
    "--debug": "bool",
    "-h": "bool",
    "--help": "bool",
}
VALUES_FLAGS = {"-f": "value", "--values": "value"}
# Install flags `helm template` shares with `upgrade --install` that change nothing offline.
NO_OP_INSTALL_FLAGS = {
    "--version": "value",
    "--create-namespace": "bool",
    "--wait": "bool",
    "--wait-for-jobs": "bool",
    "--timeout": "value",
    "--atomic": "bool",
    "--rollback-on-failure": "bool",
}
COMMAND_FLAGS = {
    "version": {"--short": "bool", "--template": "value"},
    "template": {**VALUES_FLAGS, **NO_OP_INSTALL_FLAGS, "--output-dir": "value"},
    "lint": {**VALUES_FLAGS, "--strict": "bool"},
    "upgrade": {
        **VALUES_FLAGS,
        **NO_OP_INSTALL_FLAGS,
        "-i": "bool",
        "--install": "bool",
        "--dry-run": "bool",
        "--cleanup-on-fail": "bool",
    },
}
# Short flags pflag also accepts glued to their value (`-nargocd`).
GLUED = ("-n", "-f")
# Flags recorded under one name, so repeated values keep their command-line order.
ALIASES = {"--namespace": "-n", "--values": "-f", "-i": "--install"}


class Usage(Exception):
    """A command line this stand-in cannot run; the message is shown as helm shows errors."""


def fail(message):
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


def parse(command, argv):
    """Splits argv into positionals and {flag: [values]} by the command's flag table."""
    table = {**GLOBAL_FLAGS, **COMMAND_FLAGS[command]}
    positionals, flags = [], {}
    args = iter(argv)
    for arg in args:
        if arg == "--":
            positionals.extend(args)
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            continue
        name, eq, value = arg.partition("=")
        if not eq and not arg.startswith("--") and arg[:2] in GLUED and len(arg) > 2:
            name, eq, value = arg[:2], "=", arg[2:]
        kind = table.get(name)
        if kind is None:
            raise Usage(
                f"unknown flag: {name} (this test stand-in for helm implements only what "
                f"Strata's tests use; see {os.path.basename(__file__)})"
            )
        if kind == "value" and not eq:
            value = next(args, None)
            if value is None:
                raise Usage(f"flag needs an argument: {name}")
        elif kind == "bool" and not eq:
            value = "true"
        flags.setdefault(ALIASES.get(name, name), []).append(value)
    return positionals, flags


def last(flags, name, default=None):
    values = flags.get(name)
    return values[-1] if values else default


def merge_maps(a, b):
    """Helm's mergeMaps for `-f` files: maps merge key by key, anything else is replaced."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_maps(out[key], value)
        else:
            out[key] = value
    return out


def user_values(flags):
    """The `-f` files merged in order, each parsed by the engine's YAML reader."""
    merged = {}
    for spec in flags.get("-f", []):
        # pflag reads a string slice as CSV: `-f a.yaml,b.yaml` is two files.
        for path in spec.split(","):
            if re.match(r"^[a-z][a-z0-9+.-]*://", path):
                raise Usage(f"values file {path} is remote; this stand-in reads local files only")
            try:
                text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
            except OSError as e:
                raise Usage(f"open {path}: {e.strerror.lower()}") from None
            try:
                parsed = helm.values_from_yaml(text)
            except helm.HelmError as e:
                raise Usage(f"failed to parse {path}: {e}") from None
            merged = merge_maps(merged, parsed)
    return merged


def local_chart(ref):
    """The chart path, or a clear refusal for anything helm would fetch."""
    if "://" in ref or not os.path.exists(ref):
        raise Usage(
            f'chart "{ref}" is not a local chart directory or archive; this helm stand-in '
            "renders local charts only (a repository or OCI chart needs the real helm CLI)"
        )
    return ref


def namespace(flags):
    return last(flags, "-n", default="default")


def dry_install(chart_path, name, values, ns):
    """What `helm template` and a client-side dry-run install compute: the release, rendered and
    sorted by the engine, never stored anywhere, and the hooks, which the SDK's summary omits."""
    helm.validate_release_name(name)
    chart = helm.Chart.load(chart_path)
    # An empty kubeconfig keeps the caller's KUBECONFIG out of it: nothing here talks to a cluster.
    empty = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"
    with chart, helm.Config(
        namespace=ns, storage_driver="memory", kubeconfig_content=empty
    ) as config:
        release = config.install(chart, name, values, namespace=ns, dry_run="client")
        rendered = chart.render(values, name=name, namespace=ns, is_install=True)
    return release, hooks(rendered)


def split_documents(text):
    return [d for d in re.split(r"(?m)^---[ \t]*(?:#.*)?$\n?", text) if d.strip()]


def hooks(rendered):
    """(template path, document) of every hook in render output, in template path order."""
    found = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        for doc in split_documents(rendered[path]):
            try:
                parsed = helm.values_from_yaml(doc)
            except helm.HelmError:
                continue
            annotations = (parsed.get("metadata") or {}).get("annotations") or {}
            if "helm.sh/hook" in annotations:
                found.append((path, doc.strip("\n")))
    return found


def manifest_entries(manifest):
    """The engine's manifest text back into (source path, content) pairs, in its order: each
    entry is "---", "# Source: PATH", then CONTENT and a newline."""
    parts = re.split(r"(?m)^---\n# Source: (.*)\n", manifest)
    return list(zip(parts[1::2], (p[:-1] if p.endswith("\n") else p for p in parts[2::2])))


def cmd_version(positionals, flags):
    if positionals:
        raise Usage(f'unknown command "{positionals[0]}" for "helm version"')
    info = {
        # The SDK knows the Helm release it was built from, not its git commit; helm prints
        # no `+g<commit>` suffix either when it was built without one.
        "Version": helm.helm_sdk_version(),
        "GitCommit": "",
        "GitTreeState": "",
        "GoVersion": "",
        "KubeClientVersion": "",
    }
    template = last(flags, "--template")
    if template is not None:
        print(re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda m: info.get(m.group(1), ""), template))
    elif last(flags, "--short") == "true":
        print(info["Version"])
    else:
        fields = ", ".join(f'{k}:"{v}"' for k, v in info.items())
        print(f"version.BuildInfo{{{fields}}}")


def cmd_template(positionals, flags):
    if len(positionals) == 1:
        name, ref = "release-name", positionals[0]
    elif len(positionals) == 2:
        name, ref = positionals
    else:
        raise Usage(f"expected at most 2 arguments, NAME and CHART; got {len(positionals)}")
    chart_path = local_chart(ref)
    values = user_values(flags)
    release, hook_docs = dry_install(chart_path, name, values, namespace(flags))
    manifest = release.get("manifest", "")
    out_dir = last(flags, "--output-dir")
    if out_dir is None:
        # As helm: the release manifest, trimmed, then the hooks.
        print(manifest.strip())
        for source, content in hook_docs:
            sys.stdout.write(f"---\n# Source: {source}\n{content}\n")
        return
    entries = manifest_entries(manifest) + hook_docs
    # As helm: one file per template under DIR/<chart>/templates/, documents of the same
    # template appended in order, a `wrote` line per document.
    written = set()
    for source, content in entries:
        target = os.path.join(out_dir, source)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "a" if target in written else "w", encoding="utf-8") as f:
            f.write(f"---\n# Source: {source}\n{content}\n")
        written.add(target)
        print(f"wrote {target}")


def cmd_lint(positionals, flags):
    paths = positionals or ["."]
    values = user_values(flags)
    strict = last(flags, "--strict") == "true"
    severities = ["UNKNOWN", "INFO", "WARNING", "ERROR"]
    failed = 0
    out = []
    for path in paths:
        report = helm.lint(path, values, strict=strict, namespace=namespace(flags))
        out.append(f"==> Linting {path}")
        messages = report.get("messages") or []
        if not messages:
            out.extend(f"Error {e}" for e in report.get("errors") or [])
        for m in messages:
            out.append(f"[{severities[m['severity']]}] {m['path']}: {m['error']}")
        if report.get("errors"):
            failed += 1
        out.append("")
    print("\n".join(out))
    summary = f"{len(paths)} chart(s) linted, {failed} chart(s) failed"
    if failed:
        fail(summary)
    print(summary)


def cmd_upgrade(positionals, flags):
    if len(positionals) != 2:
        raise Usage(f"expected 2 arguments, NAME and CHART; got {len(positionals)}")
    name, ref = positionals
    if last(flags, "--install") != "true":
        raise Usage(
            "upgrade without --install needs an existing release in a cluster; this helm "
            "stand-in has no cluster and only runs `upgrade --install ... --dry-run`"
        )
    dry_run = last(flags, "--dry-run", default="none")
    if dry_run == "server":
        raise Usage("--dry-run=server needs a cluster; this helm stand-in only dry-runs client-side")
    if dry_run not in ("true", "client"):
        raise Usage(
            "this helm stand-in cannot install into a cluster: add --dry-run for a client-side "
            "dry run of the upgrade"
        )
    chart_path = local_chart(ref)
    values = user_values(flags)
    ns = namespace(flags)
    release, hook_docs = dry_install(chart_path, name, values, ns)
    # No cluster, so no release history either: every release is new, as on an empty cluster.
    print(f'Release "{name}" does not exist. Installing it now.')
    deployed = time.strptime(release["deployed_at"], "%Y-%m-%dT%H:%M:%SZ")
    print(f"NAME: {release['name']}")
    print(f"LAST DEPLOYED: {time.strftime('%a %b %e %H:%M:%S %Y', deployed)}")
    print(f"NAMESPACE: {release['namespace']}")
    print(f"STATUS: {release['status']}")
    print(f"REVISION: {release['revision']}")
    print("DESCRIPTION: Dry run complete")
    print("TEST SUITE: None")
    print("HOOKS:")
    for source, content in hook_docs:
        sys.stdout.write(f"---\n# Source: {source}\n{content}\n")
    print("MANIFEST:")
    sys.stdout.write(release.get("manifest", ""))
    if release.get("notes"):
        print(f"\nNOTES:\n{release['notes']}", end="")


COMMANDS = {
    "version": cmd_version,
    "template": cmd_template,
    "lint": cmd_lint,
    "upgrade": cmd_upgrade,
}


def main(argv):
    # Global flags may come before the command, as with helm (`helm -n argocd template ...`).
    command_at = next((i for i, a in enumerate(argv) if a in COMMANDS), None)
    if command_at is None:
        if any(a in ("-h", "--help", "help") for a in argv) or not argv:
            sys.stdout.write(USAGE)
            return 0 if argv else 1
        words = [a for a in argv if not a.startswith("-")]
        fail(
            f'unknown command "{words[0] if words else argv[0]}" for "helm" (this test stand-in '
            f"implements {', '.join(COMMANDS)})"
        )
    command = argv[command_at]
    try:
        positionals, flags = parse(command, argv[:command_at] + argv[command_at + 1 :])
        if "-h" in flags or "--help" in flags:
            sys.stdout.write(USAGE)
            return 0
        COMMANDS[command](positionals, flags)
    except Usage as e:
        fail(str(e))
    except helm.HelmError as e:
        fail(str(e))
    return 0


if __name__ == "__main__":
    try:
        import helm_python as helm
    except ImportError as e:
        fail(
            f"{os.path.basename(__file__)} needs the Helm engine from PyPI "
            f"(`pip install helm-python-sdk`) in {sys.executable}: {e}"
        )
    sys.exit(main(sys.argv[1:]))
