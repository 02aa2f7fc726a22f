"""对照 torch 检查 edunn（或你自己的实现）的工具。

- ``to_torch`` / ``from_torch``：在 edunn 与 torch 之间复制张量（torch 只在这里被导入，而且是用到时才导入）；
- ``assert_close``：与 ``torch.testing.assert_close`` 相同的默认容差；
- ``gradcheck``：用有限差分检查一个函数的解析梯度；
- ``check_function``：同样的输入分别交给你的函数与 torch 的函数，比较输出与梯度；
- ``copy_weights`` / ``check_module``：在 edunn 与 torch 模块之间复制权重，比较输出与所有梯度；
- ``check_optimizer``：让一个优化器和它的 torch 孪生在同一个小模型上逐步比较，报告第一次分叉；
- ``check_scheduler``：逐步逐组对照 torch 检查一个学习率调度器；
- ``check_avg_fn`` / ``check_update_bn``：对照 torch 检查 SWA/EMA 的平均函数与 ``update_bn``；
- ``compare_with_torch``：同一段代码分别用 edunn 与 torch 运行，比较两份记录；第 6–8 章练习的检查器
  （``check_hook``、``check_state_dict_function``、``check_load_report``、``check_checkpoint_reader``、
  ``check_channels_last_strides``、``check_module_cast``）都建立在它上面。
- ``check_sparse_optimizer`` / ``check_matrix_optimizer`` / ``check_cubic_interpolate`` /
  ``check_lbfgs_direction`` / ``check_newton_schulz``：第 13–16 章的特殊优化器及其组成部分与 torch 对照。
"""

from ._bridge import from_torch, to_torch
from ._compare import assert_close, default_tolerances
from ._functional import FunctionCheck, check_function
from ._gradcheck import gradcheck
from ._modules import check_module, copy_weights
from ._checkpoints import check_checkpoint_reader, check_load_report, check_state_dict_function
from ._hooks import check_hook, small_network
from ._layouts import check_channels_last_strides, check_module_cast
from ._optim import Divergence, OptimizerCheckResult, check_optimizer
from ._records import compare_with_torch
from ._schedulers import check_scheduler
from ._swa import check_avg_fn, check_update_bn
from ._special_optim import (SpecialCheckResult, check_cubic_interpolate, check_lbfgs_direction,
                             check_matrix_optimizer, check_newton_schulz, check_sparse_optimizer)

__all__ = ["Divergence", "FunctionCheck", "OptimizerCheckResult", "assert_close", "check_function", "check_module",
           "check_optimizer", "check_scheduler", "copy_weights", "default_tolerances", "from_torch", "gradcheck",
           "to_torch"]
__all__ += ["check_channels_last_strides", "check_checkpoint_reader", "check_hook", "check_load_report",
            "check_module_cast", "check_state_dict_function", "compare_with_torch", "small_network"]
__all__ += ["check_avg_fn", "check_update_bn"]
__all__ += ["SpecialCheckResult", "check_cubic_interpolate", "check_lbfgs_direction", "check_matrix_optimizer",
            "check_newton_schulz", "check_sparse_optimizer"]
