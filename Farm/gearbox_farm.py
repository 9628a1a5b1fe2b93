# The farm suite's moving parts, apart from pytest: the results store as the local `gearbox`
# CLI sees it, the coordinator's places (acquired and released through labgrid-client), and
# one board's run — copy, probe, profile, validate, fetch, push — which turns any failure into
# a failed run in the store naming its step and reason.

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


class StepFailed(Exception):
    """A board's run stopped at `step` for `reason` (one line)."""

    def __init__(self, step, reason):
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


def one_line(text, limit=300):
    """The last non-empty line of `text`, shortened: a reason the store and the report can show."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Store:
    """The results store through the local `gearbox store` commands (one database for the farm)."""

    def __init__(self, gearbox, url):
        self.gearbox = gearbox
        self.url = url

    def _arguments(self):
        return ["--store", self.url] if self.url else []

    def _run(self, arguments):
        result = subprocess.run([self.gearbox, "store", *arguments, *self._arguments()],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StepFailed("push", f"gearbox store {arguments[0]} exited {result.returncode}: "
                                     f"{one_line(result.stderr or result.stdout)}")
        return result.stdout

    def push(self, files):
        """Pushes one board's probe, table, validation summary and portfolio (idempotent). The
        store files them under the device id, which the probe set to the place's name."""
        self._run(["push", *[str(path) for path in files]])

    def fail(self, board, step, reason):
        """Records a failed run of `board` at `step`."""
        self._run(["fail", "--board", board, "--step", step, "--reason", reason])

    def latest_outcomes(self):
        """Each board's latest outcome in the store: ("ok", run) or ("failed", failure), by date."""
        listing = json.loads(self._run(["list", "--json"]))
        latest = {}
        for status, key, entries in (("ok", "device", listing.get("runs", [])), ("failed", "board", listing.get("failures", []))):
            for entry in entries:
                board, date = entry.get(key), entry.get("date", "")
                if board is not None and (board not in latest or date >= latest[board][1].get("date", "")):
                    latest[board] = (status, entry)
        return latest

    def failed_boards(self):
        """The boards whose latest outcome in the store is a failure (what --only-failed re-runs)."""
        return {board for board, (status, _) in self.latest_outcomes().items() if status == "failed"}


class Coordinator:
    """The labgrid coordinator's places, through labgrid-client (acquire and release by name)."""

    def __init__(self, address):
        self.address = address
        self.client = str(Path(sys.executable).with_name("labgrid-client"))
        if not os.access(self.client, os.X_OK):
            self.client = shutil.which("labgrid-client") or "labgrid-client"

    def _run(self, place, command):
        result = subprocess.run([self.client, "-x", self.address, "-p", place, command],
                                capture_output=True, text=True, check=False, timeout=60)
        return result.returncode, one_line(result.stderr or result.stdout)

    def acquire(self, place):
        """Acquires `place` for this host and user; returns None or why it could not."""
        status, message = self._run(place, "acquire")
        # A place this user already holds (an interrupted run) is as good as acquired now.
        if status == 0 or "You have already acquired place" in message:
            return None
        return message or f"labgrid-client acquire exited {status}"

    def release(self, place):
        self._run(place, "release")


@dataclass
class Settings:
    """What every board's run shares (from the pytest options)."""
    gearbox: str
    portfolio: str
    store: Store
    results: Path
    remote_root: str
    profile_arguments: list
    objective: str
    trace: str
    validate_duration: str
    step_timeout_seconds: float


@dataclass
class BoardRun:
    """One board's pass through the farm: every step runs on the board over SSH (labgrid's
    SSHDriver) except the push, which runs here against the store."""
    place: str
    settings: Settings
    ssh: object = None
    step: str = "connect"
    logs: list = field(default_factory=list)

    @property
    def remote(self):
        return f"{self.settings.remote_root}/{self.place}"

    @property
    def local(self):
        return self.settings.results / self.place

    def on_board(self, command, timeout=None):
        """Runs `command` (a list of words) on the board; a non-zero exit is this step's failure."""
        line = " ".join(shlex.quote(str(word)) for word in command)
        try:
            stdout, stderr, status = self.ssh.run(line, timeout=timeout or self.settings.step_timeout_seconds)
        except subprocess.TimeoutExpired:
            raise StepFailed(self.step, f"timed out after {timeout or self.settings.step_timeout_seconds:.0f} s")
        except Exception as error:  # labgrid raises ExecutionError once the SSH master is gone
            raise StepFailed(self.step, f"connection lost: {one_line(error)}") from error
        self.logs.append((self.step, line, stdout, stderr, status))
        if status == 255:
            detail = one_line("\n".join(stderr))
            raise StepFailed(self.step, "connection lost (ssh exit 255)" + (f": {detail}" if detail else ""))
        if status != 0:
            raise StepFailed(self.step, f"exit {status}: {one_line(chr(10).join(stderr or stdout)) or 'no output'}")
        return stdout

    def enter(self, step):
        self.step = step

    def gearbox(self, *arguments):
        """`gearbox ARGUMENTS` on the board, with its own DVFS journal folder. The process writes
        its pid to step.pid first: a command whose SSH connection dropped keeps running on the
        board, and the next run (or the virtual farm's teardown) stops it by that pid."""
        return ["sh", "-c", f'echo $$ > {self.remote}/step.pid && exec "$@"', "sh",
                "env", f"GEARBOX_STATE_DIR={self.remote}/state", f"{self.remote}/gearbox", *arguments]

    def stop_leftover(self):
        """Stops the previous run's command if it is still running (only if its command line
        names this place's folder, so a reused pid is left alone)."""
        pid_file = f"{self.remote}/step.pid"
        script = (f'[ -f {pid_file} ] || exit 0; pid=$(cat {pid_file}); '
                  f'grep -qF {shlex.quote(self.remote)}/gearbox /proc/$pid/cmdline 2>/dev/null || exit 0; '
                  'kill -TERM $pid; for i in $(seq 50); do kill -0 $pid 2>/dev/null || exit 0; sleep 0.1; done; kill -KILL $pid')
        self.on_board(["sh", "-c", script])

    def execute(self, target_for_place):
        """Runs every step; returns the pushed files. Raises StepFailed at the first failure."""
        self.enter("connect")
        try:
            target = target_for_place(self.place)
            self.ssh = target.get_driver("SSHDriver")
        except StepFailed:
            raise
        except Exception as error:
            raise StepFailed("connect", one_line(error) or type(error).__name__) from error

        self.enter("copy")
        self.stop_leftover()
        self.on_board(["rm", "-rf", self.remote])
        self.on_board(["mkdir", "-p", f"{self.remote}/out", f"{self.remote}/state"])
        try:
            self.ssh.put(self.settings.gearbox, f"{self.remote}/gearbox")
            self.ssh.put(self.settings.portfolio, f"{self.remote}/portfolio")
        except Exception as error:
            raise StepFailed("copy", one_line(error)) from error

        out = f"{self.remote}/out"
        self.enter("probe")
        self.on_board(self.gearbox("device", "probe", "--id", self.place, "--output", f"{out}/device.json"))
        self.enter("profile")
        # --wait: boards that share one machine's CPUs (the virtual farm) take turns measuring.
        self.on_board(self.gearbox("profile", "--portfolio", f"{self.remote}/portfolio", "--device", f"{out}/device.json",
                                   "--out", f"{out}/portfolio.lut.json", "--no-progress", "--wait",
                                   *self.settings.profile_arguments))
        self.enter("validate")
        self.on_board(self.gearbox("validate", "--lut", f"{out}/portfolio.lut.json", "--trace", self.settings.trace,
                                   "--objective", self.settings.objective, "--controller", "simulated",
                                   "--duration", self.settings.validate_duration, "--out", f"{out}/validate"))

        self.enter("fetch")
        shutil.rmtree(self.local, ignore_errors=True)
        self.local.mkdir(parents=True)
        try:
            self.ssh.get(out, str(self.local))
        except Exception as error:
            raise StepFailed("fetch", one_line(error)) from error
        files = [self.local / "out" / "device.json", self.local / "out" / "portfolio.lut.json",
                 self.local / "out" / "validate" / "summary.json"]
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise StepFailed("fetch", f"not fetched: {', '.join(missing)}")

        self.enter("push")
        # The portfolio folder too, so the store holds the content hash the table was profiled from.
        self.settings.store.push([*files, self.settings.portfolio])
        return files

    def write_logs(self):
        """Each board command's output, for whoever reads why a step failed."""
        self.local.mkdir(parents=True, exist_ok=True)
        with open(self.local / "commands.log", "w", encoding="utf-8") as log:
            for step, line, stdout, stderr, status in self.logs:
                log.write(f"== {step}: {line} (exit {status})\n")
                log.write("\n".join(stdout) + "\n" + "\n".join(stderr) + "\n")

    def write_result(self, status, reason=None):
        """results/PLACE/result.json: the board's outcome (farm-virtual.sh's summary reads it)."""
        cells = 0
        table = self.local / "out" / "portfolio.lut.json"
        if status == "ok" and table.is_file():
            variants = json.loads(table.read_text(encoding="utf-8")).get("variants", [])
            cells = sum(len(variant.get("latency", {})) for variant in variants)
        result = {"name": self.place, "status": status, "cells": cells, "store": self.settings.store.url or "default"}
        if reason is not None:
            result.update(step=self.step, reason=reason)
        self.local.mkdir(parents=True, exist_ok=True)
        temporary = self.local / "result.json.tmp"
        temporary.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        temporary.replace(self.local / "result.json")
