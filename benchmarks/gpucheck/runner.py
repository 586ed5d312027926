"""The report and how sections run: each one timed, its failure recorded, the files rewritten after it.

A section is a function returning ``{"conditions": str, "facts": {...}, "rows": [...], "notes": [...]}``; the runner
adds its ``status`` (``ok``, ``failed`` with the error, ``skipped`` with the reason, or ``interrupted``), its
seconds and its budget. A section starts only if its budget fits before the deadline. A watchdog thread writes the
report and ends the process if a section is still running ``grace_s`` after the deadline (a torch.compile build
cannot be stopped from outside), so the run always leaves what it measured.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_speed import _json_safe

from gpucheck.markdown import render


class Report:
    def __init__(self, out_dir: Path, name: str, header: dict[str, Any], budget_s: float, grace_s: float):
        self.json_path, self.md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
        out_dir.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        self.deadline = self.started + budget_s
        self.grace_s = grace_s
        self.data: dict[str, Any] = {**header, "budget_s": budget_s, "sections": {}}
        self.lock = threading.RLock()
        self.running: tuple[str, float, float] | None = None  # name, start, budget
        self._watchdog: threading.Timer | None = None

    def plan(self, names: list[str]) -> None:
        """Every section asked for, pending until it runs: a report cut short still lists them all."""
        with self.lock:
            for name in names:
                self.data["sections"][name] = {"status": "pending"}

    def left_s(self) -> float:
        return self.deadline - time.monotonic()

    def run(
        self,
        name: str,
        budget_s: float,
        section: Callable[[], dict[str, Any]],
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        left = self.left_s()
        if left < budget_s:
            self._finish(
                name, {"status": "skipped", "reason": f"deadline: budgeted {budget_s:.0f} s, {left:.0f} s left"}
            )
            return
        print(f"[gpu-check] {name} (budget {budget_s:.0f} s, {left:.0f} s left)", file=sys.stderr, flush=True)
        started = time.monotonic()
        with self.lock:
            self.running = (name, started, budget_s)
        try:
            entry = {"status": "ok", **section()}
        except Exception as exc:  # noqa: BLE001 - one section's failure must not cost the others their figures
            entry = {
                "status": "failed",
                "error": f"{type(exc).__name__}: {str(exc)[:600]}",
                "traceback": traceback.format_exc().splitlines()[-12:],
            }
            if on_failure is not None:
                on_failure()
        entry.update(elapsed_s=round(time.monotonic() - started, 2), budget_s=budget_s)
        self._finish(name, entry)

    def _finish(self, name: str, entry: dict[str, Any]) -> None:
        with self.lock:
            self.running = None
            self.data["sections"][name] = entry
            self.write()
        print(f"[gpu-check] {name}: {entry['status']}", file=sys.stderr, flush=True)

    def write(self) -> None:
        with self.lock:
            self.data["elapsed_s"] = round(time.monotonic() - self.started, 2)
            data = _json_safe(self.data)
            _atomic_write(self.json_path, json.dumps(data, indent=2) + "\n")
            _atomic_write(self.md_path, render(data))

    # -- the hard deadline ---------------------------------------------------------------------------------------
    def start_watchdog(self) -> None:
        wait = max(self.left_s() + self.grace_s, 0.0)
        self._watchdog = threading.Timer(wait, self._on_deadline)
        self._watchdog.daemon = True
        self._watchdog.start()

    def stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()

    def _on_deadline(self) -> None:
        self.interrupt()
        print("[gpu-check] deadline passed: report written, exiting", file=sys.stderr, flush=True)
        os._exit(0)  # the main thread may be inside a compile or a kernel: nothing else can stop it

    def interrupt(self) -> None:
        """Record the running section as interrupted and write the report as it stands."""
        with self.lock:
            if self.running is not None:
                name, started, budget_s = self.running
                self.data["sections"][name] = {
                    "status": "interrupted",
                    "reason": f"still running {self.grace_s:.0f} s past the deadline: the process was ended",
                    "elapsed_s": round(time.monotonic() - started, 2),
                    "budget_s": budget_s,
                }
            self.write()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text)
    tmp.replace(path)
