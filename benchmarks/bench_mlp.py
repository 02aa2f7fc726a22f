"""MLP 前向 + 反向的耗时：edunn 与 torch 在同一个进程里、同样的权重和数据上比较。

网络：batch 256，784-512-512-10，float32，ReLU，损失是 logits 的 log_softmax 交叉熵（只用现有算子拼出）。
两个库轮流预热、轮流计时 N 次，各取中位数，打印 edunn/torch 的比值。用法::

    python benchmarks/bench_mlp.py [--repeats 30] [--warmup 5] [--threads 1]

机器忙时（别的进程占着核）多线程的计时抖动很大，``--threads 1`` 的比值更可靠。
"""

import argparse
import statistics
import time

import numpy as np
import torch

import edunn
from edunn.testing import assert_close, from_torch

BATCH, SIZES, CLASSES = 256, (784, 512, 512, 10), 10


def make_parameters(seed=0):
    """torch 风格初始化的权重（numpy 生成，两个库各复制一份）。"""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    inputs = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels = rng.integers(0, CLASSES, BATCH)
    return params, inputs, labels


def loss_fn(library, params, inputs, one_hot):
    """三层线性 + ReLU，交叉熵 = mean(logsumexp(logits) - sum(one_hot * logits))。"""
    h = inputs
    for i in range(0, len(params), 2):
        h = h @ params[i].t() + params[i + 1]
        if i + 2 < len(params):
            h = h.relu()
    return (h.logsumexp(1) - (one_hot * h).sum(1)).mean()


def step(library, params, inputs, one_hot):
    for p in params:
        p.grad = None
    loss = loss_fn(library, params, inputs, one_hot)
    loss.backward()
    return loss


def time_step(library, params, inputs, one_hot):
    start = time.perf_counter()
    step(library, params, inputs, one_hot)
    return time.perf_counter() - start


def time_both(torch_args, edunn_args, warmup, repeats):
    """两个库轮流各跑一次：机器负载变化时，两边受到的影响相同，比值更稳定。"""
    for _ in range(warmup):
        step(torch, *torch_args)
        step(edunn, *edunn_args)
    torch_times, edunn_times = [], []
    for _ in range(repeats):
        torch_times.append(time_step(torch, *torch_args))
        edunn_times.append(time_step(edunn, *edunn_args))
    return statistics.median(torch_times), statistics.median(edunn_times)


def thread_report():
    lines = [f"torch.get_num_threads() = {torch.get_num_threads()}"]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        lines.append("numpy BLAS: threadpoolctl is not installed")
    else:
        for pool in threadpool_info():
            lines.append(f"{pool['internal_api']} ({pool.get('architecture', '?')}) "
                         f"num_threads={pool['num_threads']} from {pool['filepath'].rsplit('/', 1)[-1]}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per library (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit torch and numpy's BLAS to this many threads (default: leave as is)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            parser.error("--threads needs threadpoolctl to limit numpy's BLAS")
        threadpool_limits(args.threads)

    arrays, inputs, labels = make_parameters()
    one_hot = np.eye(CLASSES, dtype=np.float32)[labels]
    torch_params = [torch.tensor(a, requires_grad=True) for a in arrays]
    edunn_params = [from_torch(p) for p in torch_params]
    torch_data = (torch.tensor(inputs), torch.tensor(one_hot))
    edunn_data = (edunn.tensor(inputs), edunn.tensor(one_hot))

    # 先确认两边算的是同一件事
    torch_loss = step(torch, torch_params, *torch_data)
    edunn_loss = step(edunn, edunn_params, *edunn_data)
    assert_close(edunn_loss, torch_loss, rtol=1e-5, atol=1e-6)
    for e, t in zip(edunn_params, torch_params):
        assert_close(e.grad, t.grad, rtol=1e-4, atol=1e-6)

    t_torch, t_edunn = time_both((torch_params, *torch_data), (edunn_params, *edunn_data), args.warmup,
                                 args.repeats)
    for line in thread_report():
        print(line)
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, float32, forward+backward, "
          f"median of {args.repeats} runs after {args.warmup} warm-up runs")
    print(f"torch: {t_torch * 1e3:.2f} ms")
    print(f"edunn: {t_edunn * 1e3:.2f} ms")
    print(f"edunn/torch = {t_edunn / t_torch:.2f}")


if __name__ == "__main__":
    main()
