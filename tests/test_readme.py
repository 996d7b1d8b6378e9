"""Every shell command of the README, run as written against a server started the way
``make run`` starts it, so the README cannot drift from what the product does.

The server is ``scripts/serve.sh`` (uvicorn and beat) on the embedded default, with its
own database, after ``migrate`` and ``load_demo`` as ``make run`` does them. Each
``sh`` block of the README is split into commands; ``$KEY`` is the demo key load_demo
printed, the port is this test's, and a command's working directory is a scratch one.
What cannot run here is listed in ``NOT_RUN`` with the reason (the commands that start
servers or the test suite itself, and installs). Every ``curl`` must answer a status
below 400; every other command must exit 0.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# Commands that start long-running processes, the test suite, or install packages.
NOT_RUN = ("make ", "DATABASE_URL=", "OUTBOUND_ALLOWED_NETWORKS=", "pip install",
           ".venv/bin/uvicorn", ".venv/bin/celery")

pytestmark = pytest.mark.skipif(not (ROOT / ".venv/bin/uvicorn").exists(),
                                reason="needs the project's .venv (make test builds it)")


def readme_commands() -> list[str]:
    """The README's ``sh`` blocks as single commands (backslash continuations joined, a
    quoted string over several lines kept whole)."""
    commands: list[str] = []
    for block in re.findall(r"^( *)```sh\n(.*?)^\1```", README.read_text(), re.S | re.M):
        indent, body = block
        pending = ""
        for line in body.splitlines():
            line = line[len(indent):] if line.startswith(indent) else line
            pending = f"{pending}\n{line}" if pending else line
            if pending.endswith("\\") or pending.count("'") % 2:
                continue  # a continuation, or inside a quoted string
            if pending.strip() and not pending.lstrip().startswith("#"):
                commands.append(pending)
            pending = ""
    return commands


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 — local server
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A ``make run``-style server on a free port; yields what the commands need."""
    var = tmp_path_factory.mktemp("var")
    port, receiver_port = _free_port(), _free_port()
    env = {**os.environ, "CLARION_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "config.settings",
           # The README's local-receiver example, as it says to run it.
           "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32"}
    for name in ("DATABASE_URL", "REDIS_URL", "CLARION_REQUIRE_SERVICES"):
        env.pop(name, None)  # the embedded default, as on a fresh machine
    python = str(ROOT / ".venv/bin/python")
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env,
                   check=True)
    demo = subprocess.run([python, "manage.py", "load_demo", "--base-url",
                           f"http://127.0.0.1:{port}"], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout
    key = demo.split("shown only now; store it:\n", 1)[1].split()[0]
    relay_key = _relay_set_up(python, env, receiver_port)
    server = subprocess.Popen(["bash", "scripts/serve.sh", "127.0.0.1", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz")
        cleanup: list = []
        yield {"port": port, "receiver_port": receiver_port, "env": env, "python": python,
               "cleanup": cleanup,
               "vars": {"KEY": key, "CONN": "conn-1", "CLARION_RELAY_KEY": relay_key,
                        "CI_PIPELINE_ID": "42"}}
        for step in cleanup:
            step()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def _relay_set_up(python: str, env: dict, receiver_port: int) -> str:
    """The relay example needs a relay channel "deploys" and a key with relay:post: the
    channel posts through Apprise to the local receiver the README also starts."""
    script = (
        "from notifications.models import RelayChannel\n"
        "RelayChannel.objects.get_or_create(name='deploys', defaults={'channel': 'apprise', "
        f"'address': 'json://127.0.0.1:{receiver_port}/relay'}})\n")
    subprocess.run([python, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)
    minted = subprocess.run([python, "manage.py", "create_api_key", "--application", "ci-relay",
                             "--create-application", "--scopes", "relay:post"], cwd=ROOT, env=env,
                            check=True, capture_output=True, text=True).stdout
    return minted.strip().splitlines()[-1]


def _prepared(command: str, served: dict) -> str:
    command = command.replace("127.0.0.1:8000", f"127.0.0.1:{served['port']}")
    command = command.replace("127.0.0.1\", 9000", f"127.0.0.1\", {served['receiver_port']}")
    command = command.replace("127.0.0.1:9000", f"127.0.0.1:{served['receiver_port']}")
    command = command.replace(".venv/bin/python manage.py",
                              f"{served['python']} {ROOT / 'manage.py'}")
    if command.startswith("curl "):
        # The status is what is checked; the body is kept for the failure message.
        command = command.replace("curl ", "curl -sS -o body.out -w '%{http_code}' ", 1)
    return command


COMMANDS = readme_commands()
# Commands that need what this machine lacks, with the README's own words for it.
NOT_RUN_CONTAINING = {"https://example.com/": "registering example.com needs public DNS, as the "
                                              "README says before its local-receiver example"}


def test_the_readme_has_the_commands_this_test_expects():
    assert any(c.startswith("curl -X POST http://127.0.0.1:8000/api/events") for c in COMMANDS)
    assert any("manage.py notify" in c for c in COMMANDS)
    assert len(COMMANDS) >= 20


def test_every_readme_command_works_as_written(served, tmp_path):
    """In the README's order (dump before load, the receiver before what posts to it); every
    failure is reported, not only the first."""
    env = {**served["env"], **served["vars"]}
    failures, ran = [], 0
    for command in COMMANDS:
        if command.startswith(NOT_RUN) or any(part in command for part in NOT_RUN_CONTAINING):
            continue
        prepared = _prepared(command, served)
        ran += 1
        if command.startswith("python3 -c") and "serve_forever" in command:
            # "In another terminal": it keeps running while the rest goes on.
            receiver = subprocess.Popen(["bash", "-c", prepared], cwd=tmp_path, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
            served["cleanup"].append(lambda pid=receiver.pid: os.killpg(pid, signal.SIGTERM))
            _wait_for_port(served["receiver_port"])
            continue
        done = subprocess.run(["bash", "-c", prepared], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        status = done.stdout.strip() if command.startswith("curl ") else ""
        if done.returncode != 0 or (status and not (status.isdigit() and int(status) < 400)):
            body = (tmp_path / "body.out").read_text()[:300] if (tmp_path / "body.out").exists() \
                else ""
            failures.append(f"{command.splitlines()[0]} → exit {done.returncode}, "
                            f"{status or done.stderr[-300:]} {body}")
    assert ran >= 12  # the README has more than a dozen commands one can run here
    assert not failures, "\n".join(failures)


def _wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


if __name__ == "__main__":  # list what would run: python tests/test_readme.py
    sys.stdout.write("\n---\n".join(COMMANDS) + "\n")
