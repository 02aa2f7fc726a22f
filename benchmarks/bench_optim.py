"""一次 ``optimizer.step()`` 的耗时：edunn 与 torch 在同一进程、同一批参数上比较（CPU，float32）。

模型：50 个张量，共约 200 万个参数（25 个 280x285 的权重与 25 个长 285 的偏置，像一个 25 层的 MLP）。
每个优化器用默认超参数；梯度是固定的随机数，不计前向与反向的时间。两边交替计时，取中位数。

用法::

    PYTHONPATH=. python benchmarks/bench_optim.py               # torch 用默认线程数
    PYTHONPATH=. python benchmarks/bench_optim.py --threads 1   # torch 也只用一个线程（numpy 的逐元素运算是单线程）

输出每个优化器的两边耗时与比值 edunn/torch（越小越好，1.0 表示一样快）。
"""

import argparse
import statistics
import time

import torch

import edunn
from edunn.testing import from_torch

NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam"]
LAYERS = 25
WEIGHT_SHAPE = (280, 285)


def make_params(seed=0):
    generator = torch.Generator().manual_seed(seed)
    torch_params = []
    for _ in range(LAYERS):
        torch_params.append(torch.randn(WEIGHT_SHAPE, generator=generator).requires_grad_())
        torch_params.append(torch.randn(WEIGHT_SHAPE[1], generator=generator).requires_grad_())
    for param in torch_params:
        param.grad = torch.randn(param.shape, generator=generator) * 1e-2
    edunn_params = []
    for param in torch_params:
        copy = from_torch(param.detach()).requires_grad_()
        copy.grad = from_torch(param.grad)
        edunn_params.append(copy)
    return torch_params, edunn_params


def time_step(optimizer):
    start = time.perf_counter()
    optimizer.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch 的线程数（默认不改）")
    parser.add_argument("--repeat", type=int, default=30, help="每个优化器计时多少步（默认 30）")
    parser.add_argument("--only", nargs="*", default=NAMES, help="只测这些优化器")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    torch_params, edunn_params = make_params()
    count = sum(p.numel() for p in torch_params)
    print(f"{len(torch_params)} tensors, {count} parameters, float32, CPU, torch threads: {torch.get_num_threads()}")
    print(f"{'optimizer':<10} {'edunn ms':>9} {'torch ms':>9} {'ratio':>6}")
    for name in args.only:
        torch_optimizer = getattr(torch.optim, name)(torch_params)
        edunn_optimizer = getattr(edunn.optim, name)(edunn_params)
        for _ in range(3):  # 预热：第一次 step 要建状态
            torch_optimizer.step()
            edunn_optimizer.step()
        edunn_times, torch_times = [], []
        for _ in range(args.repeat):
            torch_times.append(time_step(torch_optimizer))
            edunn_times.append(time_step(edunn_optimizer))
        edunn_ms = statistics.median(edunn_times) * 1e3
        torch_ms = statistics.median(torch_times) * 1e3
        print(f"{name:<10} {edunn_ms:9.2f} {torch_ms:9.2f} {edunn_ms / torch_ms:6.2f}")


if __name__ == "__main__":
    main()
