"""小型 CNN 的前向 + 反向：edunn 与 torch 在同一个进程里计时，打印时间比。

模型（float32）：conv 1→20 5×5，relu，conv 20→20 5×5，relu，flatten，linear 8000→10，cross_entropy；
输入 batch 64、1×28×28。两边用同一份权重与输入（从 torch 逐位复制）。

用法：``PYTHONPATH=. python benchmarks/bench_cnn.py [--repeats 20] [--threads N] [--profile]``

默认两边各用自己的线程数（torch 的 intra-op 线程，numpy 背后 BLAS 的线程）。``--threads N`` 把两边
都限制为 N 个线程（numpy 一侧需要 threadpoolctl）；机器被其他进程占满时，单线程的比值更稳定。
"""

import contextlib

import argparse
import statistics
import time

import torch
import torch.nn.functional as TF

import edunn
import edunn.nn.functional as F
from edunn.testing import from_torch


def make_inputs(batch):
    torch.manual_seed(0)
    tensors = {
        "x": torch.randn(batch, 1, 28, 28),
        "target": torch.randint(0, 10, (batch,)),
        "w1": torch.randn(20, 1, 5, 5) * 0.2,
        "b1": torch.randn(20) * 0.1,
        "w2": torch.randn(20, 20, 5, 5) * 0.05,
        "b2": torch.randn(20) * 0.1,
        "w3": torch.randn(10, 8000) * 0.01,
        "b3": torch.randn(10) * 0.1,
    }
    for name in ("w1", "b1", "w2", "b2", "w3", "b3"):
        tensors[name].requires_grad_(True)
    return tensors


def step(F, p):
    """一次前向 + 反向；F 是 edunn.nn.functional 或 torch.nn.functional。"""
    h = F.relu(F.conv2d(p["x"], p["w1"], p["b1"]))
    h = F.relu(F.conv2d(h, p["w2"], p["b2"]))
    logits = F.linear(h.reshape(h.shape[0], -1), p["w3"], p["b3"])
    loss = F.cross_entropy(logits, p["target"])
    loss.backward()
    return loss


def clear_grads(params):
    for name in ("w1", "b1", "w2", "b2", "w3", "b3"):
        params[name].grad = None


def time_once(F, params):
    clear_grads(params)
    start = time.perf_counter()
    step(F, params)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None,
                        help="limit torch and numpy's BLAS to this many threads (default: each library's own)")
    parser.add_argument("--profile", action="store_true", help="print cProfile output for the edunn step")
    args = parser.parse_args()

    limits = contextlib.nullcontext()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        limits = threadpool_limits(args.threads, user_api="blas")
    with limits:
        run(args)


def run(args):
    torch_params = make_inputs(args.batch)
    edunn_params = {name: from_torch(t) for name, t in torch_params.items()}

    loss_e = step(F, edunn_params)
    loss_t = step(TF, torch_params)
    print(f"loss edunn={loss_e.item():.6f} torch={loss_t.item():.6f}")

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(5):
            time_once(F, edunn_params)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    for _ in range(3):  # 预热
        time_once(F, edunn_params)
        time_once(TF, torch_params)
    edunn_times, torch_times = [], []
    for _ in range(args.repeats):  # 交替计时，机器负载的波动对两边影响相近
        edunn_times.append(time_once(F, edunn_params))
        torch_times.append(time_once(TF, torch_params))

    edunn_ms = statistics.median(edunn_times) * 1e3
    torch_ms = statistics.median(torch_times) * 1e3
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, edunn {edunn.__version__}")
    print(f"median forward+backward: edunn {edunn_ms:.1f} ms, torch {torch_ms:.1f} ms")
    print(f"edunn/torch time ratio: {edunn_ms / torch_ms:.2f}")


if __name__ == "__main__":
    main()
