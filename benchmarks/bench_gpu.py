"""Time one training step (forward, backward, SGD step) of the MLP and the CNN on a CUDA GPU, edunn vs torch.

Both libraries start from the same weights and data (torch's weights are copied into edunn) and run in
float32; torch's TF32 paths are turned off so both do full float32 arithmetic. GPU work is asynchronous,
so each side calls its ``synchronize()`` before the clock starts and before it stops. The ratio is edunn's
median step time divided by torch's.

Usage: ``python benchmarks/bench_gpu.py [--steps N] [--rounds R]``. The last line reads
``bench_gpu: mlp ratio X; cnn ratio Y``. On a machine without a usable CUDA GPU it prints why it
skipped and exits with status 0.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import edunn  # noqa: E402
import models  # noqa: E402

# Only for checking this script on a machine without a GPU (tools/fake_cupy): the ratios are then meaningless.
TORCH_DEVICE = os.environ.get("EDUNN_TORCH_DEVICE", "cuda:0")


def skip_reason(torch):
    if not edunn.cuda.is_available():
        return f"edunn: {edunn._backend.cuda_unavailable_reason()}"
    if TORCH_DEVICE.startswith("cuda") and not torch.cuda.is_available():
        return f"torch {torch.__version__} cannot use CUDA"
    return None


def build(lib, name, device):
    model = getattr(models, name)(lib).to(device)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs, targets = models.batch(name)
    return model, optimizer, lib.tensor(inputs, device=device), lib.tensor(targets, device=device)


def time_steps(lib, synchronize, setup, steps, rounds, warmup=3):
    """Median seconds per step over ``rounds`` timed runs of ``steps`` steps each, after ``warmup`` steps."""
    model, optimizer, inputs, targets = setup
    for _ in range(warmup):  # CuPy compiles each kernel on first use; torch loads its kernels lazily too
        models.train_step(lib, model, optimizer, inputs, targets)
    synchronize()
    per_step = []
    for _ in range(rounds):
        synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            models.train_step(lib, model, optimizer, inputs, targets)
        synchronize()
        per_step.append((time.perf_counter() - start) / steps)
    return statistics.median(per_step)


def first_losses_agree(torch, name):
    """Return whether one step from identical weights gives the same loss in both libraries (float32 tolerance)."""
    from edunn.testing import copy_weights

    torch_setup = build(torch, name, TORCH_DEVICE)
    edunn_setup = build(edunn, name, "cuda:0")
    copy_weights(torch_setup[0], edunn_setup[0])
    theirs = models.train_step(torch, *torch_setup).item()
    mine = models.train_step(edunn, *edunn_setup).item()
    return abs(mine - theirs) <= 1e-4 * max(1.0, abs(theirs)), mine, theirs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed round (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the median is reported (default 3)")
    args = parser.parse_args()

    import torch

    reason = skip_reason(torch)
    if reason is not None:
        print(f"bench_gpu: skipped: no CUDA GPU ({reason})")
        return 0

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    def torch_synchronize():
        if TORCH_DEVICE.startswith("cuda"):
            torch.cuda.synchronize()

    print(f"bench_gpu: {edunn.cuda.get_device_name(0)}; torch {torch.__version__} on {TORCH_DEVICE}; "
          f"cupy {sys.modules['cupy'].__version__}; float32, TF32 off; {args.rounds} rounds of {args.steps} steps")
    if not TORCH_DEVICE.startswith("cuda"):
        print("bench_gpu: WARNING: torch runs on the CPU here, so the ratios below are not GPU measurements")

    ratios = {}
    for name, label in (("mlp", f"MLP {'-'.join(map(str, models.MLP_SIZES))}, batch {models.MLP_BATCH}"),
                        ("cnn", f"CNN two 5x5 convs, batch {models.CNN_BATCH}, 28x28")):
        agree, mine_loss, theirs_loss = first_losses_agree(torch, name)
        mine = time_steps(edunn, edunn.cuda.synchronize, build(edunn, name, "cuda:0"), args.steps, args.rounds)
        theirs = time_steps(torch, torch_synchronize, build(torch, name, TORCH_DEVICE), args.steps, args.rounds)
        ratios[name] = mine / theirs
        print(f"bench_gpu: {label}: edunn {mine * 1e3:.2f} ms/step, torch {theirs * 1e3:.2f} ms/step, "
              f"ratio {ratios[name]:.1f}; first-step losses agree: {agree} ({mine_loss:.6f} vs {theirs_loss:.6f})")
        if not agree:
            print(f"bench_gpu: ERROR: {name} losses differ after one step from the same weights", file=sys.stderr)
            return 1
    print(f"bench_gpu: mlp ratio {ratios['mlp']:.1f}; cnn ratio {ratios['cnn']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
