r"""批归一化：``BatchNorm1d``、``BatchNorm2d``。

训练时用当前批的均值与（有偏）方差归一化，并更新缓冲区里的滑动统计量：

$$\hat\mu \leftarrow (1-m)\,\hat\mu + m\,\mu_B,\qquad \hat\sigma^2 \leftarrow (1-m)\,\hat\sigma^2 + m\,\sigma_B^2\ (\text{无偏})$$

``momentum=None`` 时 $m = 1/\text{num\_batches\_tracked}$，即对见过的所有批取累计平均。
评估时改用 ``running_mean``/``running_var``（``track_running_stats=False`` 时没有它们，仍用批统计量）。
"""

from ... import _backend, _creation
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class _NormBase(Module):
    """参数（``weight``/``bias``）与缓冲区（``running_mean``/``running_var``/``num_batches_tracked``）的创建与重置。"""

    # 版本 2 起 state_dict 里有 num_batches_tracked；更早的 state_dict 载入时用模块自己的计数器补上
    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = Parameter(_creation.empty(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(_creation.empty(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

        if self.track_running_stats:
            self.register_buffer("running_mean", _creation.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", _creation.ones(num_features, device=device, dtype=dtype))
            # 计数器总是 int64，不随 dtype 参数改变（Module.double() 也不会改它）
            self.register_buffer("num_batches_tracked", _creation.tensor(0, dtype=_backend.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """滑动均值归零、滑动方差置一、计数器归零（只在 ``track_running_stats=True`` 时有事可做）。"""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # 没有版本信息（普通 dict）或版本低于 2 时，缺少的 num_batches_tracked 不算缺失，与 torch 相同
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked if self.num_batches_tracked is not None \
                else _creation.tensor(0, dtype=_backend.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)

        average_factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                average_factor = 1.0 / float(self.num_batches_tracked)

        # 评估模式下如果没有滑动统计量（track_running_stats=False），只能用当前批的统计量
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        # 训练但不跟踪统计量时，不把缓冲区交给 F.batch_norm，免得它们被更新
        pass_buffers = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if pass_buffers else None,
            self.running_var if pass_buffers else None,
            self.weight,
            self.bias,
            use_batch_stats,
            average_factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """对 ``(N, C)`` 或 ``(N, C, L)`` 的每个通道 C 做批归一化。"""

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """对 ``(N, C, H, W)`` 的每个通道 C 做批归一化，统计量跨 N、H、W 计算。"""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")
