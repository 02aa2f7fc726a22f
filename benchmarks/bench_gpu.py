"""Time one training step of the MLP and the CNN on a CUDA GPU, edunn vs torch.

The models, weights and data are those of the CPU benchmarks (``bench_mlp.py``: batch 256, 784-512-512-10;
``bench_cnn.py``: two 5x5 convolutions, batch 64, 1x28x28), copied bit for bit into both libraries on
the GPU. A training step is their forward and backward pass followed by an SGD step (lr 0.01, momentum 0.9).
Both sides run in float32 with torch's TF32 paths turned off, so both do full float32 arithmetic.

GPU work is asynchronous, so each side calls its ``synchronize()`` before the clock starts and before it
stops. Steps alternate between the libraries in rounds; the ratio is edunn's median step time divided
by torch's.

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

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

import bench_cnn  # noqa: E402
import bench_mlp  # noqa: E402
import edunn  # noqa: E402
import edunn.nn.functional as F  # noqa: E402
from edunn import _backend  # noqa: E402
from edunn.testing import from_torch  # noqa: E402

DEVICE = "cuda:0"
CNN_BATCH = 64  # bench_cnn.py's default batch
# Only for checking this script on a machine without a GPU (tools/fake_cupy): the ratios are then meaningless.
TORCH_DEVICE = os.environ.get("EDUNN_TORCH_DEVICE", "cuda:0")


def skip_reason():
    if not edunn.cuda.is_available():
        return f"edunn: {_backend.cuda_unavailable_reason()}"
    if TORCH_DEVICE.startswith("cuda") and not torch.cuda.is_available():
        return f"torch {torch.__version__} cannot use CUDA"
    return None


def mlp_setups():
    """(torch step, edunn step) for the MLP; each step returns the loss tensor."""
    arrays, inputs, labels = bench_mlp.make_parameters()
    one_hot = np.eye(bench_mlp.CLASSES, dtype=np.float32)[labels]
    torch_params = [torch.tensor(a, device=TORCH_DEVICE, requires_grad=True) for a in arrays]
    edunn_params = [from_torch(p, device=DEVICE) for p in torch_params]
    torch_data = (torch.tensor(inputs, device=TORCH_DEVICE), torch.tensor(one_hot, device=TORCH_DEVICE))
    edunn_data = (edunn.tensor(inputs, device=DEVICE), edunn.tensor(one_hot, device=DEVICE))
    return (_mlp_step(torch, torch_params, torch_data), _mlp_step(edunn, edunn_params, edunn_data))


def _mlp_step(library, params, data):
    optimizer = library.optim.SGD(params, lr=0.01, momentum=0.9)

    def step():
        loss = bench_mlp.step(library, params, *data)
        optimizer.step()
        return loss

    return step


def cnn_setups():
    """(torch step, edunn step) for the CNN; each step returns the loss tensor."""
    host = bench_cnn.make_inputs(CNN_BATCH)
    torch_params = {name: t.detach().to(TORCH_DEVICE).requires_grad_(t.requires_grad) for name, t in host.items()}
    edunn_params = {name: from_torch(t, device=DEVICE) for name, t in host.items()}
    return (_cnn_step(torch, TF, torch_params), _cnn_step(edunn, F, edunn_params))


def _cnn_step(library, functional, params):
    trainable = [t for t in params.values() if t.requires_grad]
    optimizer = library.optim.SGD(trainable, lr=0.01, momentum=0.9)

    def step():
        bench_cnn.clear_grads(params)
        loss = bench_cnn.step(functional, params)
        optimizer.step()
        return loss

    return step


def median_step_times(torch_step, edunn_step, synchronize_torch, steps, rounds, warmup=3):
    """Median seconds per step for each library over ``rounds`` rounds of ``steps`` steps, after warm-up."""
    for _ in range(warmup):  # CuPy compiles each kernel on first use; torch loads its kernels lazily too
        torch_step()
        edunn_step()
    synchronize_torch()
    edunn.cuda.synchronize()
    times = {"torch": [], "edunn": []}
    for _ in range(rounds):  # alternate, so that a change in machine load affects both sides alike
        for name, step, synchronize in (("torch", torch_step, synchronize_torch),
                                        ("edunn", edunn_step, edunn.cuda.synchronize)):
            synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                step()
            synchronize()
            times[name].append((time.perf_counter() - start) / steps)
    return statistics.median(times["torch"]), statistics.median(times["edunn"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed round (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the median is reported (default 3)")
    args = parser.parse_args()

    reason = skip_reason()
    if reason is not None:
        print(f"bench_gpu: skipped: no CUDA GPU ({reason})")
        return 0

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    def synchronize_torch():
        if TORCH_DEVICE.startswith("cuda"):
            torch.cuda.synchronize()

    print(f"bench_gpu: {edunn.cuda.get_device_name(0)}; torch {torch.__version__} on {TORCH_DEVICE}; "
          f"cupy {sys.modules['cupy'].__version__}; float32, TF32 off; {args.rounds} rounds of {args.steps} steps")
    if not TORCH_DEVICE.startswith("cuda"):
        print("bench_gpu: WARNING: torch runs on the CPU here, so the ratios below are not GPU measurements")

    ratios = {}
    for name, label, make in (
            ("mlp", f"MLP {'-'.join(map(str, bench_mlp.SIZES))}, batch {bench_mlp.BATCH}", mlp_setups),
            ("cnn", f"CNN two 5x5 convs, batch {CNN_BATCH}, 1x28x28", cnn_setups)):
        torch_step, edunn_step = make()
        # Same weights and data: the first step must give the same loss on both sides.
        theirs, mine = torch_step().item(), edunn_step().item()
        agree = abs(mine - theirs) <= 1e-4 * max(1.0, abs(theirs))
        t_torch, t_edunn = median_step_times(torch_step, edunn_step, synchronize_torch, args.steps, args.rounds)
        ratios[name] = t_edunn / t_torch
        print(f"bench_gpu: {label}: edunn {t_edunn * 1e3:.2f} ms/step, torch {t_torch * 1e3:.2f} ms/step, "
              f"ratio {ratios[name]:.1f}; first-step losses agree: {agree} ({mine:.6f} vs {theirs:.6f})")
        if not agree:
            print(f"bench_gpu: ERROR: {name} losses differ after one step from the same weights", file=sys.stderr)
            return 1
    print(f"bench_gpu: mlp ratio {ratios['mlp']:.1f}; cnn ratio {ratios['cnn']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
