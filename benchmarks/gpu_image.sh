#!/usr/bin/env bash
# The image generators on a lent GPU (see the device tool's README), in one prepared run of
# under 8 minutes: the image tests on CUDA (tests/generators/image/test_gpu.py plus the CPU contract tests, now
# with a GPU present), then benchmarks/image.py on CUDA with GPU-sized networks and a
# wall-clock training budget per generator.  Everything it writes lands in $OUT.
#
# It installs nothing but the carried wheels.  The GPU image has torch, numpy, pandas,
# scikit-learn, scipy, pyarrow, safetensors, tqdm, Pillow, matplotlib and OpenCV; carry the
# rest as Python 3.12 wheels in .whl (ignored: `echo /.whl/ >> .git/info/exclude`), fetched
# here with
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 \
#     typing-inspection==0.4.5 imbalanced-learn==0.14.2 fairlearn==0.15.0 \
#     albumentations==2.0.8 albucore==0.0.24 simsimd==6.5.16 stringzilla==5.3.2
# and Fashion-MNIST's four IDX files in .data/fashion-mnist (30 MB; also ignored), copied
# from /usr/share/datasets/fashion-mnist.  Then, on the device tool:
#   run(command="bash benchmarks/gpu_image.sh", carry=[".whl", ".data"], timeout_s=540)
#
# Budgets (environment): GPU_TEST_S (default 120) for the tests, GPU_FIT_S (default 75)
# seconds of training per generator, GPU_BENCH_S (default 330) for the whole benchmark.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit 1
export PYTHONUNBUFFERED=1 SYNTHAUG_PROGRESS=0 SYNTHAUG_DATA_DIR=$PWD/.data
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))" \
  | tee -a "$OUT/gpu.txt"

timeout "${GPU_TEST_S:-120}" python3 -m pytest -q -p no:cacheprovider -x \
  tests/generators/image/test_gpu.py tests/generators/nn/test_image_blocks.py tests/generators/image/test_families.py \
  2>&1 | tee "$OUT/pytest_image.log"

# GPU-sized networks: wider conv stacks, a DiT-S-like transformer over 2x2 patches (196
# tokens at 28x28), bf16 autocast, batches of 256; each trained for GPU_FIT_S seconds on all
# 60,000 training images, then CAS with the reference CNN for 3,000 steps, sampling timed on
# 100,000 images (the goal: at least 5,000 images/s at 28x28).
PARAMS='{"image.gan": {"width": 64, "critic_width": 64, "noise_dim": 128, "embedding_dim": 128, "bf16": true},
 "image.vae": {"width": 64, "critic_width": 64, "latent_dim": 64, "embedding_dim": 64, "bf16": true},
 "image.transformer": {"d_model": 384, "n_layers": 8, "n_heads": 6, "patch_size": 2, "bf16": true, "learning_rate": 3e-4}}'
timeout "${GPU_BENCH_S:-330}" python3 benchmarks/image.py --device cuda --threads 16 \
  --models "${IMAGE_MODELS:-image.transformer,image.gan,image.vae}" --batch-size 256 \
  --fit-seconds "${GPU_FIT_S:-75}" --params "$PARAMS" --n-sample 100000 --n-cas 20000 \
  --cnn-steps 3000 --grids "$OUT" --grid-suffix -gpu --section image-cuda \
  --out "$OUT/image-cuda.json" 2>&1 | grep -v -i warn | tee "$OUT/bench_image.log"
cp benchmarks/RESULTS.md "$OUT/RESULTS.md" 2>/dev/null
exit 0
