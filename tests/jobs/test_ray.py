"""The ray engine: the local engine's bytes with any number of actors, never a pickled model.

A local Ray instance is started once for this module, listening on the loopback interface only,
and stopped after it; nothing is started globally.  Skipped, with the reason, when ray is not
installed (``pip install 'synthaug[ray]'``; CI installs it, so these run there).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.jobs import run
from tests.jobs.support import (
    NO_PICKLE,
    assert_not_picklable,
    importable_path,
    job,
    nopickle_registered,
    save_copula,
    shard_digests,
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="ray is not installed; pip install 'synthaug[ray]' to run the ray engine's tests")

MIX = {"column": "income", "classes": [{"label": ">50K", "share": 0.4},
                                       {"label": "<=50K", "share": 0.6}]}
#: read by Ray at import: "0" makes the node advertise and bind 127.0.0.1 only
LOOPBACK = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    """A local Ray on loopback, 2 CPUs, a small object store; stopped after the module."""
    saved = os.environ.get(LOOPBACK)
    os.environ[LOOPBACK] = "0"
    try:
        import ray
        from ray._private import ray_constants
    finally:
        if saved is None:
            del os.environ[LOOPBACK]
        else:
            os.environ[LOOPBACK] = saved
    # ray imported earlier in this process read the variable then; set what it decided
    ray_constants.ENABLE_RAY_CLUSTER = False
    if ray.is_initialized():
        pytest.skip("a Ray instance is already running in this process")
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # unix socket paths must stay short
    ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False,
             object_store_memory=100 * 1024**2, _temp_dir=temp, configure_logging=False,
             log_to_driver=False,
             # actors import the test generators (tests.*) and synthaug from this checkout
             runtime_env={"env_vars": {"PYTHONPATH": importable_path()}})
    try:
        address = ray.get_runtime_context().gcs_address
        assert address.startswith("127.0.0.1:"), f"Ray is not on loopback: {address}"
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_copula(tmp_path_factory.mktemp("model") / "copula")


def test_ray_writes_the_local_bytes_with_one_and_two_actors(ray_local: Any, model: Path,
                                                            tmp_path: Path) -> None:
    local = tmp_path / "local"
    run(job(model, local, mix=MIX))
    for workers in (1, 2):
        out = tmp_path / f"ray-{workers}"
        result = run(job(model, out, mix=MIX, engine={"name": "ray", "workers": workers}))
        assert result.ok
        assert result.last_run["engine"] == {"name": "ray", "workers": workers,
                                                    "threads": 1, "gpus_per_worker": 0.0}
        assert shard_digests(out) == shard_digests(local)
    # a job begun on one engine is finished by the other
    (tmp_path / "ray-2" / "shards" / "shard-00001.parquet").unlink()
    assert run(job(model, tmp_path / "ray-2", mix=MIX), engine="local").written == 1
    assert shard_digests(tmp_path / "ray-2") == shard_digests(local)


def test_no_engine_ever_pickles_the_generator(ray_local: Any, tmp_path: Path) -> None:
    with nopickle_registered():
        folder = save_copula(tmp_path / "nopickle", name=NO_PICKLE)
        assert_not_picklable(BaseGenerator.load(folder, device="cpu"))
        outs = {}
        for engine, workers in (("ray", 2), ("local", 2)):
            outs[engine] = tmp_path / engine
            result = run(job(folder, outs[engine],
                             engine={"name": engine, "workers": workers}))
            assert result.ok and result.written == 3
        assert shard_digests(outs["ray"]) == shard_digests(outs["local"])


def test_ray_refuses_more_actors_than_cpus_before_any_work(ray_local: Any, model: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(InvalidParameterError, match="needs 3 CPUs, but the Ray cluster has 2"):
        run(job(model, out, engine={"name": "ray", "workers": 3}))
    assert not out.exists()


def test_a_job_joins_an_existing_cluster_named_by_ray_address(ray_local: Any, model: Path,
                                                              tmp_path: Path) -> None:
    """``RAY_ADDRESS`` names a running cluster (here this module's): the job's process joins
    it, its actors write the shards, and leaving it stops nothing."""
    local = tmp_path / "local"
    run(job(model, local))
    out = tmp_path / "out"
    file = tmp_path / "job.toml"
    file.write_text(f'records = 2500\nseed = 7\n[model]\npath = "{model}"\n'
                    f'[output]\npath = "{out}"\nshard_size = 1000\n'
                    '[engine]\nname = "ray"\nworkers = 2\n')
    # LOOPBACK too: else Ray "canonicalises" 127.0.0.1 in RAY_ADDRESS to this machine's own
    # address, where this loopback-only cluster does not listen, and retries forever
    env = {**os.environ, "RAY_ADDRESS": ray_local.get_runtime_context().gcs_address,
           LOOPBACK: "0", "PYTHONPATH": importable_path(), "SYNTHAUG_PROGRESS": "0"}
    proc = subprocess.run([sys.executable, "-m", "synthaug.cli", "generate", str(file)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "job complete: 2,500 records in 3 shards" in proc.stdout
    assert shard_digests(out) == shard_digests(local)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"][-1]["engine"]["name"] == "ray"

    @ray_local.remote
    def alive() -> int:
        return 1

    assert ray_local.get(alive.remote()) == 1  # the cluster outlived the job that joined it
