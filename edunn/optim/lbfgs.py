"""L-BFGS：用最近几步的梯度变化近似逆 Hessian，可选强 Wolfe 线搜索。"""

from .. import _functions
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _get_value, _to_scalar

__all__ = ["LBFGS"]


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    r"""过两点 :math:`(x_1, f_1, f'_1)`、:math:`(x_2, f_2, f'_2)` 的三次多项式在区间里的极小点。

    三次多项式没有实数极小点时（判别式为负）返回区间中点；结果截断到 ``bounds``
    （默认是两点之间）。这是 minFunc 与 torch 用的同一个公式。
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)

    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square.sqrt()
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    r"""沿方向 ``d`` 找满足强 Wolfe 条件的步长 :math:`t`。

    记 :math:`\phi(t) = f(x + t d)`，条件是

    .. math::
       \phi(t) \le \phi(0) + c_1 t \phi'(0) \quad\text{（充分下降，Armijo）},\qquad
       |\phi'(t)| \le c_2 |\phi'(0)| \quad\text{（曲率）}.

    第一阶段（bracket）从初始 :math:`t` 出发，用三次插值外推，直到找到满足条件的点或一个
    包含这样的点的区间；第二阶段（zoom）在区间内反复三次插值缩小区间。最多求值 ``max_ls`` 次。
    返回 ``(f_new, g_new, t, 求值次数)``；``obj_func(x, t, d)`` 返回 :math:`(\phi(t),\ \nabla f(x + t d))`。
    """
    d_norm = d.abs().max()
    g = g.clone()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # 第一阶段：找一个包含可接受步长的区间
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone()]
            bracket_gtd = [gtd_prev, gtd_new]
            break

        if abs(gtd_new) <= -c2 * gtd:
            bracket = [t]
            bracket_f = [f_new]
            bracket_g = [g_new]
            done = True
            break

        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone()]
            bracket_gtd = [gtd_prev, gtd_new]
            break

        # 还在下降：向外插值，步长至少增加 1%，至多放大到 10 倍
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))

        t_prev = tmp
        f_prev = f_new
        g_prev = g_new.clone()
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    if ls_iter == max_ls:
        bracket = [0, t]
        bracket_f = [f, f_new]
        bracket_g = [g, g_new]

    # 第二阶段（zoom）：在区间里缩小，直到满足条件或区间太小
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break

        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])

        # 插值点离区间端点太近时，说明进展不够：连续两次如此（或落在端点上）就改取离端点
        # 区间长度 10% 的位置。
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # 不满足充分下降，或不比区间里较低的一端更低：它成为新的高端
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.clone()
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # 导数指向高端的反方向：原来的低端成为高端
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]

            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.clone()
            bracket_gtd[low_pos] = gtd_new

    t = bracket[low_pos]
    f_new = bracket_f[low_pos]
    g_new = bracket_g[low_pos]
    return f_new, g_new, t, ls_func_evals


class LBFGS(Optimizer):
    r"""L-BFGS（limited-memory BFGS），按 torch 2.13 的 ``torch.optim.LBFGS`` 实现（源自 minFunc）。

    一次 ``step(closure)`` 最多做 ``max_iter`` 轮迭代、最多调用 ``closure`` ``max_eval`` 次。
    记 :math:`s_k = x_{k+1} - x_k`、:math:`y_k = g_{k+1} - g_k`、:math:`\rho_k = 1 / (y_k^\top s_k)`，
    只保留最近 ``history_size`` 对 :math:`(s_k, y_k)`（且只收 :math:`y_k^\top s_k > 10^{-10}` 的对）。
    搜索方向 :math:`d = -H g` 由两轮循环（two-loop recursion）算出：

    .. math::
       \begin{aligned}
       &q \leftarrow -g \\
       &\textbf{for } i = k-1, \ldots, k-m:\quad a_i \leftarrow \rho_i s_i^\top q,\quad q \leftarrow q - a_i y_i \\
       &r \leftarrow H_0 q,\quad H_0 = \frac{s_{k-1}^\top y_{k-1}}{y_{k-1}^\top y_{k-1}} \\
       &\textbf{for } i = k-m, \ldots, k-1:\quad b_i \leftarrow \rho_i y_i^\top r,\quad r \leftarrow r + (a_i - b_i) s_i \\
       &d \leftarrow r
       \end{aligned}

    第一轮迭代 :math:`d = -g`，步长 :math:`t = \min(1, 1/\|g\|_1)\cdot\text{lr}`；之后 :math:`t = \text{lr}`。
    ``line_search_fn=None`` 时直接走 :math:`x \leftarrow x + t d`（最后一轮不再求值）；
    ``"strong_wolfe"`` 时先做强 Wolfe 线搜索决定 :math:`t`。以下任一成立就停止：
    达到 ``max_iter`` 或 ``max_eval``；:math:`\max|g| \le` ``tolerance_grad``；
    方向导数 :math:`g^\top d > -` ``tolerance_change``；:math:`\max|t d| \le` ``tolerance_change``；
    损失变化小于 ``tolerance_change``。

    ``step`` 返回第一次调用 ``closure`` 的结果（原样返回，不转成浮点数）。所有参数共享一份状态，
    与 torch 相同存在第一个参数的 ``state`` 下：``func_evals``、``n_iter``（累计次数），
    ``d``、``t``、``old_dirs``（:math:`y`）、``old_stps``（:math:`s`）、``ro``、``H_diag``、
    ``prev_flat_grad``、``prev_loss``，以及两轮循环的缓存 ``al``。与 torch 一样，``t``、``H_diag``、
    ``ro`` 的元素可能是零维张量也可能是 Python 数值，取决于算出它们的那一步。

    Args:
        params: 参数的可迭代对象。只能有一个参数组。
        lr (float 或 Tensor): 学习率，默认 1。
        max_iter (int): 每次 ``step`` 的最大迭代轮数，默认 20。
        max_eval (int 或 None): 每次 ``step`` 最多调用 closure 的次数，默认 ``max_iter * 5 // 4``。
        tolerance_grad (float): 梯度最大分量的停止阈值，默认 1e-7。
        tolerance_change (float): 损失、参数变化的停止阈值，默认 1e-9。
        history_size (int): 保留的 :math:`(s, y)` 对数，默认 100。
        line_search_fn (str 或 None): ``None`` 或 ``"strong_wolfe"``。
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)

        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

        self._params = self.param_groups[0]["params"]
        self._numel_cache = None

    def _numel(self):
        if self._numel_cache is None:
            self._numel_cache = sum(p.numel() for p in self._params)
        return self._numel_cache

    def _gather_flat_grad(self):
        """所有参数的梯度拼成一个向量；没有梯度的参数补零，稀疏梯度先变成稠密的。"""
        views = []
        for p in self._params:
            if p.grad is None:
                view = p.new_zeros(p.numel())
            elif p.grad.is_sparse:
                view = p.grad.to_dense().view(-1)
            else:
                view = p.grad.view(-1)
            views.append(view)
        return _functions.cat(views, 0)

    def _add_grad(self, step_size, update):
        """x <- x + step_size * update，update 是拼接后的向量。"""
        offset = 0
        for p in self._params:
            numel = p.numel()
            p.add_(update[offset:offset + numel].view_as(p), alpha=_get_value(step_size))
            offset += numel
        if offset != self._numel():
            raise AssertionError(f"Expected offset {offset} to equal {self._numel()}")

    def _clone_param(self):
        return [p.clone() for p in self._params]

    def _set_param(self, params_data):
        for p, pdata in zip(self._params, params_data):
            p.copy_(pdata)

    def _directional_evaluate(self, closure, x, t, d):
        """在 x + t d 处求损失和梯度，然后把参数恢复成 x。"""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    @no_grad()
    def step(self, closure):
        """做最多 ``max_iter`` 轮 L-BFGS 迭代。``closure`` 是必需的位置参数（与 torch 相同，
        不传时 Python 抛 TypeError）：它清零梯度、重算损失、反向传播并返回损失。
        """
        # add_param_group 之后可能有多个组；与 torch 相同，在改动任何东西之前拒绝。
        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got {len(self.param_groups)}")

        closure = enable_grad()(closure)

        group = self.param_groups[0]
        lr = _to_scalar(group["lr"])
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]

        # 全局状态挂在第一个参数下，这样 load_state_dict 能按参数的 dtype/设备转换它
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = flat_grad.abs().max() <= tolerance_grad
        if opt_cond:
            return orig_loss

        d = state.get("d")
        t = state.get("t")
        old_dirs = state.get("old_dirs")
        old_stps = state.get("old_stps")
        ro = state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- 搜索方向 ----
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                old_dirs = []
                old_stps = []
                ro = []
                H_diag = 1
            else:
                y = flat_grad.sub(prev_flat_grad)
                s = d.mul(t)
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)

                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]

                # 两轮循环，q 与 r 共用一个缓冲区
                q = flat_grad.neg()
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q.add_(old_dirs[i], alpha=-_get_value(al[i]))

                d = r = q.mul(H_diag)
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r.add_(old_stps[i], alpha=_get_value(al[i] - be_i))

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone()
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            # ---- 步长 ----
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr
            else:
                t = lr

            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = flat_grad.abs().max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # 最后一轮不再求值：随机小批量下这次求值对下一次 step 没有用
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = flat_grad.abs().max() <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- 停止条件 ----
            if n_iter == max_iter:
                break
            if current_evals >= max_eval:
                break
            if opt_cond:
                break
            if d.mul(t).abs().max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss

        return orig_loss
