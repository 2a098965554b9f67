"""Checks what can be checked of the Docker files without a Docker engine: the compose
file parses; every service it depends on exists; every `ledgerbot` part it runs is a
real subcommand; every LEDGERBOT_ setting it passes is one the binary knows and
accepts with the compose file's default values; NATS keeps JetStream on disk with
fsync on every write; the Dockerfile builds the binary the compose file runs.

Usage: python3 scripts/check_deploy.py path/to/ledgerbot
"""

import os
import re
import subprocess
import sys

import yaml

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = sys.argv[1]
failures = []


def fail(message):
    failures.append(message)


def defaulted(value):
    """A compose value with ${NAME:-default} / ${NAME:?message} filled in as compose would
    with NAME unset (a required one gets a stand-in of the right shape)."""
    value = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(value))
    stand_ins = {"LEDGERBOT_YOOKASSA_MODE": "sandbox"}
    return re.sub(
        r"\$\{([A-Z0-9_]+):\?[^}]*\}",
        lambda found: stand_ins.get(found.group(1), "x" * 40),
        value,
    )


with open(os.path.join(root, "docker-compose.yml")) as handle:
    compose = yaml.safe_load(handle)
services = compose.get("services", {})
for part in ["postgres", "nats", "migrate", "api", "relay", "workers-1", "workers-2"]:
    if part not in services:
        fail(f"no service {part}")

subcommands = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
for name, service in services.items():
    for dependency in service.get("depends_on", {}) or {}:
        if dependency not in services:
            fail(f"{name} depends on {dependency}, which is not a service")
    if service.get("image", "").startswith("ledgerbot"):
        command = service.get("command") or ["serve"]
        if not re.search(rf"^\s+{re.escape(command[0])}\s", subcommands, re.M):
            fail(f"{name} runs `ledgerbot {command[0]}`, which is not a subcommand")
        help_run = subprocess.run([binary, *command, "--help"], capture_output=True, text=True)
        if help_run.returncode != 0:
            fail(f"{name}: `ledgerbot {' '.join(command)}` is refused: {help_run.stderr.strip()}")
        if name != "migrate" and "healthcheck" not in service:
            fail(f"{name} has no health check")
        environment = {key: defaulted(value) for key, value in (service.get("environment") or {}).items()}
        run = subprocess.run(
            [binary, "config"],
            capture_output=True,
            text=True,
            env={"PATH": os.environ.get("PATH", ""), **environment},
        )
        if run.returncode != 0:
            fail(f"{name}: the binary refuses the compose file's settings: {run.stderr.strip()}")
            continue
        known = {line.split("=", 1)[0] for line in run.stdout.splitlines() if "=" in line}
        for key in environment:
            if key not in known:
                fail(f"{name} sets {key}, which `ledgerbot config` does not know")
    elif "healthcheck" not in service:
        fail(f"{name} has no health check")

nats_conf = compose.get("configs", {}).get("nats_conf", {}).get("content", "")
if not re.search(r"store_dir:\s*/data", nats_conf) or not re.search(r"sync_interval:\s*always", nats_conf):
    fail("NATS does not keep JetStream on disk with sync_interval: always")

with open(os.path.join(root, "Dockerfile")) as handle:
    dockerfile = handle.read()
if "cargo build --release --locked --bin ledgerbot" not in dockerfile:
    fail("the Dockerfile does not build the release ledgerbot binary")
if not re.search(r"^FROM .* AS build$", dockerfile, re.M) or dockerfile.count("\nFROM ") < 1:
    fail("the Dockerfile is not multi-stage")

if failures:
    for message in failures:
        print(f"[deploy] {message}", file=sys.stderr)
    sys.exit(1)
print(f"[deploy] docker-compose.yml: {len(services)} services check out against {binary}")
