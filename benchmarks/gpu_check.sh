#!/usr/bin/env bash
# One prepared run on a lent GPU machine (see the device tool's README): installs the carried
# wheels (.whl: SDV's stack, pandas 2.3, imbalanced-learn, pydantic, matplotlib), runs the GPU
# tests, then the time-to-quality benchmark (and, with GPU_BENCH_S=seconds, the side-by-side
# table) on the GPU.  Everything it prints lands in $OUT.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit 1
export PYTHONUNBUFFERED=1 SYNTHAUG_PROGRESS=0
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, pandas; print('torch', torch.__version__, 'pandas', pandas.__version__)"
timeout "${GPU_TEST_S:-150}" python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py \
  tests/validators -k "gpu or cuda or GPU" 2>&1 | tee "$OUT/pytest_gpu.log"
# Issue 3's GPU goal: the GAN to SDV CTGAN's 300-epoch quality, side by side (CTGAN alone is
# about 5 minutes at 0.94 s per epoch on an H100).
timeout "${GPU_TTQ_S:-420}" python3 benchmarks/time_to_quality.py --device cuda --threads 16 \
  --models "${TTQ_MODELS:-tabular.gan}" --seeds "${TTQ_SEEDS:-1}" --ref-epochs 300 --every 2 \
  2>&1 | grep -v -i warn | tee "$OUT/ttq.log"
cp benchmarks/results/time_to_quality.png "$OUT/" 2>/dev/null
if [ "${GPU_BENCH_S:-0}" -gt 0 ]; then  # the full side-by-side table (about 6 minutes)
  timeout "$GPU_BENCH_S" python3 benchmarks/tabular.py --device cuda --threads 16 \
    --seeds 1 --epochs "${EPOCHS:-30}" --no-per-epoch --section tabular-gpu \
    --models tabular.gan,sdv.ctgan,tabular.vae,sdv.tvae,tabular.transformer,tabular.copula,sdv.gaussian_copula \
    2>&1 | grep -v -i warn | tee "$OUT/bench.log"
fi
cp benchmarks/RESULTS.md "$OUT/RESULTS.md" 2>/dev/null
exit 0
