"""采样器（Sampler）：决定以什么顺序读取数据集的下标。"""

from ..._generator import Generator


class Sampler:
    """下标序列的基类：子类实现 ``__iter__``（通常还有 ``__len__``）。"""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """按 0, 1, 2, … 的顺序。"""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """随机顺序；``generator`` 给定时可复现（edunn 的随机流与 torch 不同）。"""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={self.num_samples}"
            )

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _rng(self):
        if self.generator is None:
            self.generator = Generator()
        return self.generator._rng

    def __iter__(self):
        n = len(self.data_source)
        rng = self._rng()
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        remaining = self.num_samples
        while remaining > 0:
            order = rng.permutation(n).tolist()
            yield from order[:remaining]
            remaining -= n

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """在给定下标中随机取，不放回。"""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        if self.generator is None:
            self.generator = Generator()
        for i in self.generator._rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """把另一个采样器给出的下标按 batch_size 分组。"""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
