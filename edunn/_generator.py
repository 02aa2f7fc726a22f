"""``edunn.Generator``：一个可单独设种子的随机数生成器，用于数据打乱等需要独立随机流的地方。

edunn 的随机流来自 numpy 的 PCG64，与 torch 的 Mersenne Twister 不同：同一个种子在两边给出不同的
排列。要让 edunn 与 torch 以相同顺序读数据，请把同一个下标序列交给两边（例如自定义 sampler）。
"""

import numpy as np

from . import _backend


class Generator:
    def __init__(self, device="cpu"):
        self.device = _backend.as_device(device)
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            raise RuntimeError(f"manual_seed expected a non-negative integer seed, got {seed}")
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """生成器状态（numpy 的 bit_generator.state 字典），可交给 ``set_state`` 恢复。"""
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state
        return self

    def permutation(self, n):
        return self._rng.permutation(n)
