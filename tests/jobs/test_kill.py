"""kill -9 at any point: the job run again finishes with the bytes of an uninterrupted run.

Each case runs the job in a subprocess that SIGKILLs itself at one exact point (before, in the
middle of and after a shard's write and rename, around the manifest, during validation), then
resumes it here and compares every shard and record byte for byte with a run that was never
interrupted.  One more case kills a two-worker job from outside at an arbitrary moment and
checks that its worker processes die with it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from synthaug.jobs import run
from tests.jobs.support import importable_path, job, make_table, save_copula, shard_digests

KILLER = r'''
import json, os, signal, sys
from pathlib import Path

point = sys.argv[2]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

import pandas as pd
import synthaug.jobs.runner as runner
from synthaug.jobs.store import JobStore

real_replace = os.replace
seen = {"parquet": 0, "manifest": 0}
TARGET = "shard-00001.parquet"

def replace(src, dst):
    name = Path(dst).name
    if name == TARGET and point == "before_rename":
        die()  # the temporary is complete and fsynced, not renamed
    if name == "manifest.json":
        seen["manifest"] += 1
        if point == "final_manifest" and seen["manifest"] == 2:
            die()  # the complete manifest's temporary is written, not renamed
    real_replace(src, dst)
    if name == TARGET and point == "after_rename":
        die()  # the shard is in place, its record not written

os.replace = replace

real_parquet = pd.DataFrame.to_parquet
def to_parquet(self, path, *args, **kwargs):
    seen["parquet"] += 1
    if point == "mid_write" and seen["parquet"] == 3:  # probe, shard 0, then half of shard 1
        with open(path, "wb") as fh:
            fh.write(b"PAR1" + b"\0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
        die()
    return real_parquet(self, path, *args, **kwargs)
pd.DataFrame.to_parquet = to_parquet

lock, record, manifest = JobStore.lock, JobStore.write_record, JobStore.write_manifest
def patched_lock(self):
    lock(self)
    if point == "after_lock":
        die()
def patched_record(self, rec):
    record(self, rec)
    if point == "after_record" and rec["name"] == TARGET:
        die()
def patched_manifest(self, m):
    out = manifest(self, m)
    if point == "first_manifest":
        die()
    return out
JobStore.lock, JobStore.write_record = patched_lock, patched_record
JobStore.write_manifest = patched_manifest

real_validation = runner.run_validation
def validation(*args, **kwargs):
    if point == "validation":
        die()
    return real_validation(*args, **kwargs)
runner.run_validation = validation

if __name__ == "__main__":
    from synthaug.jobs import run
    run(json.loads(Path(sys.argv[1]).read_text()))
'''

POINTS = ["after_lock", "first_manifest", "mid_write", "before_rename", "after_rename",
          "after_record", "validation", "final_manifest"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("kill")
    model = save_copula(root / "model")
    suite = root / "suite.toml"
    suite.write_text('version = 1\nname = "small"\n[[checks]]\n'
                     'validator = "fidelity.column_shapes"\nmin = 0.5\n')
    real = root / "real.csv"
    make_table().to_csv(real, index=False)
    sections = {"validation": {"suite": str(suite), "data": str(real), "sample": 300}}
    reference = root / "reference"
    done = run(job(model, reference, **sections))
    (root / "kill.py").write_text(KILLER)
    return {"root": root, "model": model, "sections": sections,
            "digests": shard_digests(reference), "shards": done.manifest["shards"]}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = importable_path()  # this checkout and the test generators
    env["SYNTHAUG_PROGRESS"] = "0"
    return env


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_then_rerun_gives_the_uninterrupted_bytes(point: str, setup: dict[str, Any],
                                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = job(setup["model"], out, **setup["sections"])
    file = tmp_path / "job.json"
    file.write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, str(setup["root"] / "kill.py"), str(file), point],
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    result = run(spec)  # resumed here, uninterrupted
    assert result.ok
    assert shard_digests(out) == setup["digests"]
    assert result.manifest["shards"] == setup["shards"]
    assert not [p for p in out.rglob(".*")] and not (out / ".synthaug.lock").exists()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_two_worker_job_leaves_no_worker_and_resumes(setup: dict[str, Any],
                                                              tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = job(setup["model"], out, records=12_000, engine={"workers": 2})
    file = tmp_path / "job.json"
    file.write_text(json.dumps(spec))
    script = tmp_path / "plain.py"
    script.write_text("import json, sys\nfrom pathlib import Path\nif __name__ == '__main__':\n"
                      "    from synthaug.jobs import run\n"
                      "    run(json.loads(Path(sys.argv[1]).read_text()))\n")
    proc = subprocess.Popen([sys.executable, str(script), str(file)], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((out / "records").glob("*.json"))) >= 2:
                break
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert proc.poll() is None, "the job finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)  # the process this test started, by its id
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert workers, "no worker processes were found"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() and
                                              _state(w) != "Z" for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if Path(f"/proc/{w}").exists() and _state(w) != "Z"]
    result = run(spec)
    reference = tmp_path / "reference"
    run(job(setup["model"], reference, records=12_000))
    assert result.ok and 0 < result.written < 12
    assert shard_digests(out) == shard_digests(reference)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"
