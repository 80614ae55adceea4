"""Where a benchmark's processor time goes, per second, by process group: gunicorn (the master and its
workers), the huey worker, the PostgreSQL server (every `postgres` process, ended ones included) and the
clients (this process). A timing on these shared machines moves by 1.5× from one machine to the next; the
processor time a request costs, group by group, is what tells two runs, or the two databases, apart.

Linux only: read from /proc, once a second, by a thread of the benchmark's process."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
GROUPS = ("gunicorn", "huey", "postgres", "clients")
LABELS = {"gunicorn": "gunicorn", "huey": "worker huey", "postgres": "PostgreSQL", "clients": "clients"}


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command's name (field 3 first); None once the process ended."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _seconds(fields: list[str], *, reaped: bool = False) -> float:
    """utime + stime, and with `reaped` the time of ended children it waited for (cutime + cstime)."""
    used = int(fields[11]) + int(fields[12])
    if reaped:
        used += int(fields[13]) + int(fields[14])
    return used / TICK


def _tree(pid: int) -> list[int]:
    """A process and its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                pass
    return found


def _comm(pid: int | str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _postgres_seconds() -> float:
    """Every postgres process's time, plus the postmaster's ended children (a closed connection's backend)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _comm(entry.name) == "postgres" and (fields := _stat(int(entry.name))):
            total += _seconds(fields, reaped=_comm(fields[1]) != "postgres")  # the postmaster reaps backends
    return total


def _busy_seconds() -> float:
    """The machine's processor time outside idle and iowait, every core (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


class Meter:
    """Processor seconds used so far by each group, sampled each second (keyed like Peak: int(monotonic))."""

    def __init__(self, web_pid: int | None, worker_pid: int | None, *, postgres: bool):
        self.web_pid, self.worker_pid, self.postgres = web_pid, worker_pid, postgres
        self.samples: dict[int, dict[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> dict[str, float]:
        """Each group's processor seconds so far, and the whole machine's (`machine`)."""
        def tree_seconds(pid):
            if pid is None:
                return 0.0
            # The master's own reaped children count: a worker that ended keeps its time.
            return sum(_seconds(f, reaped=p == pid) for p in _tree(pid) if (f := _stat(p)) is not None)
        own = _stat(os.getpid())
        return {"gunicorn": tree_seconds(self.web_pid), "huey": tree_seconds(self.worker_pid),
                "postgres": _postgres_seconds() if self.postgres else 0.0, "clients": _seconds(own) if own else 0.0,
                "machine": _busy_seconds()}

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples[int(time.monotonic())] = self.sample()
            self._stop.wait(1.0 - time.monotonic() % 1.0)

    def start(self) -> Meter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def between(self, first: int, last: int) -> Usage | None:
        """The processor seconds each group used from second `first` to second `last` (the nearest samples)."""
        keys = sorted(self.samples)
        begin = next((k for k in keys if k >= first), None)
        end = next((k for k in reversed(keys) if k <= last), None)
        if begin is None or end is None or end <= begin:
            return None
        a, b = self.samples[begin], self.samples[end]
        return Usage(end - begin, {group: b[group] - a[group] for group in (*GROUPS, "machine")})


@dataclass
class Usage:
    seconds: int
    used: dict[str, float]

    def lines(self, requests_per_second: float, cores: int | None = None) -> list[str]:
        """« gunicorn 139 % d'un cœur, 6.2 ms par requête … »: each group's share and cost per request, and
        what the portal's own processes (all but the clients) could serve on these cores."""
        cores = cores or os.cpu_count() or 1
        served = requests_per_second * self.seconds
        if not served:
            return []

        def part(group: str) -> str:
            used = self.used[group]
            return (f"{LABELS[group]} {100 * used / self.seconds:.0f} % d'un cœur, "
                    f"{1000 * used / served:.2f} ms par requête")
        portal = sum(self.used[g] for g in ("gunicorn", "huey", "postgres"))
        others = self.used["machine"] - portal - self.used["clients"]
        per_request = 1000 * portal / served
        return [f"  processeur sur ces {self.seconds} s : " + " ; ".join(part(g) for g in GROUPS if self.used[g] > 0),
                f"  machine {100 * self.used['machine'] / self.seconds:.0f} % sur {100 * cores} % (autres "
                f"processus {100 * max(others, 0) / self.seconds:.0f} %) ; le portail (gunicorn, worker, base) : "
                f"{per_request:.2f} ms de processeur par requête, soit au plus {1000 * cores / per_request:.0f} "
                f"requêtes/s sur {cores} cœurs à lui seul"]
