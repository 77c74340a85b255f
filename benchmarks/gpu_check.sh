#!/usr/bin/env bash
# One prepared run on a lent GPU machine (see the device tool's README): installs the carried
# wheels (.whl: SDV's stack, pandas 2.3, imbalanced-learn, pydantic), runs the GPU tests, then
# the side-by-side tabular benchmark on the GPU.  Everything it prints lands in $OUT.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit 1
export PYTHONUNBUFFERED=1 SYNTHAUG_PROGRESS=0
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, pandas; print('torch', torch.__version__, 'pandas', pandas.__version__)"
timeout "${GPU_TEST_S:-150}" python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py \
  tests/test_validators.py -k "gpu or cuda or GPU" 2>&1 | tee "$OUT/pytest_gpu.log"
timeout "${GPU_BENCH_S:-360}" python3 benchmarks/tabular.py --device cuda --threads 16 \
  --seeds 1 --epochs "${EPOCHS:-30}" --no-per-epoch \
  --models tabular.gan,sdv.ctgan,tabular.vae,sdv.tvae,tabular.transformer,tabular.copula,sdv.gaussian_copula \
  2>&1 | grep -v -i warn | tee "$OUT/bench.log"
cp benchmarks/RESULTS.md "$OUT/RESULTS.md" 2>/dev/null
exit 0
