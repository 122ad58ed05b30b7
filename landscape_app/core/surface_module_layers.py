"""The fast path of the module evaluator: a ``Sequential`` of known layers run for a chunk of parameter points at once.

An activation is either *shared* ``(n, *features)`` (it does not depend on the point yet: the data, or layers whose
parameters no point moves) or *batched* ``(P, n, *features)``, one slice per point. Layers with per-point weights
use batched matmuls (``bmm``) and grouped convolutions: one call for the chunk instead of one per point. On a
plane, the first layer that moves is affine in the plane's coordinates, ``x W(a, b)^T = x W0^T + a x D1^T +
b x D2^T``: its three terms are computed once for the whole grid and each chunk only mixes them; a later Linear's
weights at the chunk's points are one product of their (1, a, b) with the weights' origin and directions.

Anything this file does not know (another layer type, a hook, a Flatten over the batch) makes ``compile_layers``
return None and the caller uses ``torch.func.vmap`` over ``functional_call`` instead, which runs any module.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .surface_module_chunk import Chunk, Workspace

# Activations that map each value alone (a constant column stays a constant column).
_ELEMENTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.ELU, nn.SELU, nn.CELU, nn.SiLU, nn.Mish,
    nn.Softplus, nn.Softsign, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Tanhshrink, nn.LogSigmoid, nn.Identity,
)
# Parameter-free layers that act on each sample alone, so a chunk's (P * n) samples can go through them as one batch.
_PER_SAMPLE = _ELEMENTWISE + (
    nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
)
_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)
_CONV = {nn.Conv1d: F.conv1d, nn.Conv2d: F.conv2d, nn.Conv3d: F.conv3d}
_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass
class Layer:
    """One leaf module, where its parameters sit in the flat vector, and its plane terms once computed."""

    module: nn.Module
    slices: dict[str, tuple[int, int, tuple[int, ...]]] = field(default_factory=dict)  # name -> (start, stop, shape)
    moves: bool = False
    terms: dict = field(default_factory=dict)    # first moving layer on a plane: samples -> (3, n, *out)
    weights: Tensor | None = None                # a later Linear on a plane: see _plane_weights
    # A Linear whose plane terms get one more output, a constant; the activation after it makes that a constant
    # column, and the next Linear (``bias_column`` set: that activation) takes its bias as one more weight column.
    widen: bool = False
    bias_column: nn.Module | None = None
    column_values: dict = field(default_factory=dict)    # dtype -> the constant column's value after bias_column

    def column_value(self, dtype: torch.dtype) -> float:
        """The constant column's value, the activation's at 1 (once per dtype, not once per chunk)."""
        value = self.column_values.get(dtype)
        if value is None:
            value = self.column_values[dtype] = _constant(self.bias_column, dtype)
        return value

    def param(self, name: str, chunk: Chunk) -> Tensor | None:
        """The parameter at every point of the chunk, (P, *shape); the module's own when it is not a parameter."""
        where = self.slices.get(name)
        if where is None:
            return None
        start, stop, shape = where
        return chunk.theta[:, start:stop].reshape(chunk.size, *shape)

    def basis(self, name: str, basis: Tensor) -> Tensor | None:
        """(3, *shape): the parameter at the plane's origin and its two directions."""
        where = self.slices.get(name)
        if where is None:
            return None
        start, stop, shape = where
        return basis[:, start:stop].reshape(3, *shape)


def _leaves(module: nn.Module) -> list[nn.Module] | None:
    if module._forward_hooks or module._forward_pre_hooks:
        return None
    kind = type(module)
    if kind is nn.Sequential:
        out = []
        for child in module:
            inner = _leaves(child)
            if inner is None:
                return None
            out.extend(inner)
        return out
    if kind in _PER_SAMPLE or kind in _DROPOUT or kind is nn.Linear:
        return [module]
    if kind is nn.Flatten:
        return [module] if module.start_dim >= 1 else None
    if kind is nn.Unflatten:
        # images kept flat in the data (digits' 64 pixels) and shaped by the module's first layer
        return [module] if isinstance(module.dim, int) and module.dim >= 1 else None
    if kind in (nn.Softmax, nn.LogSoftmax):
        return [module] if module.dim is not None and module.dim != 0 else None
    if kind in _CONV:
        return [module] if module.padding_mode == "zeros" and not isinstance(module.padding, str) else None
    if kind in _BATCHNORM:
        return [module]
    return None


def compile_layers(module: nn.Module, offsets: dict[int, tuple[int, int]], moving: Tensor | None) -> list | None:
    """The layers of a module this path can run, or None. ``offsets``: id(parameter) -> (start, stop) in the flat
    vector; ``moving``: a bool (k,) mask of the coordinates some point changes (None: all of them)."""
    leaves = _leaves(module)
    if leaves is None:
        return None
    # ReLU then max-pooling equals max-pooling then ReLU exactly (ReLU is monotone): the ReLU then runs on a
    # quarter of the values after a 2 x 2 pool.
    for i in range(len(leaves) - 1):
        if type(leaves[i]) is nn.ReLU and type(leaves[i + 1]) in _MAXPOOL:
            leaves[i], leaves[i + 1] = leaves[i + 1], leaves[i]
    layers = []
    for leaf in leaves:
        layer = Layer(leaf)
        for name, p in leaf.named_parameters(recurse=False):
            start, stop = offsets[id(p)]
            layer.slices[name] = (start, stop, tuple(p.shape))
            layer.moves |= moving is None or bool(moving[start:stop].any())
        layers.append(layer)
    _fold_bias(layers)
    return layers


def _fold_bias(layers: list[Layer]) -> None:
    """Linear -> elementwise activation -> Linear with a bias: mark the pair so the second takes its bias as a
    weight column on a constant input (see ``Layer.widen``). Adding a broadcast bias after the batched matmul is
    one more pass over the widest activation, and cost about a tenth of an MLP surface; a 33rd input column costs
    the matmul nothing measurable."""
    kept = [layer for layer in layers if type(layer.module) not in _DROPOUT]
    for first, act, second in zip(kept, kept[1:], kept[2:]):
        if (type(first.module) is nn.Linear and first.moves and type(act.module) in _ELEMENTWISE
                and type(second.module) is nn.Linear and second.moves and "bias" in second.slices
                and abs(_constant(act.module, torch.float32)) > 0.1):
            first.widen, second.bias_column = True, act.module


def _constant(activation: nn.Module, dtype: torch.dtype) -> float:
    """The activation's value at 1, the constant column's value after it."""
    with torch.no_grad():
        return float(activation(torch.ones(1, dtype=dtype)))


# Layouts of an activation: shared (n, ...), one value for every point; point-major (P, n, ...); sample-major
# (n, P, ...), what a grouped convolution reads and writes without copying.
SHARED, PN, NP = "shared", "PN", "NP"


def batch_statistics(layers: list[Layer], recompute: bool) -> bool:
    """Whether some BatchNorm normalises with statistics over all samples (the samples cannot go in blocks)."""
    return any(type(layer.module) in _BATCHNORM and (recompute or layer.module.running_mean is None)
               for layer in layers)


def run_layers(layers: list[Layer], x: Tensor, chunk: Chunk, basis: Tensor | None, recompute: bool,
               samples: tuple[int, int] | None = None, workspace: Workspace | None = None) -> Tensor:
    """The module's output at every point of the chunk, (P, n, *out).

    ``basis``: (3, k) origin, d1, d2 when the chunk lies on a plane (its ``coef`` set); ``recompute``: BatchNorm
    normalises with each point's statistics over all of ``x`` instead of the running ones. ``samples``: (start,
    stop), only those samples of ``x`` (not with batch statistics). ``workspace``: this thread's buffers for the
    products' outputs (None: new tensors).
    """
    value, layout = (x, SHARED) if samples is None else (x[samples[0]:samples[1]], SHARED)
    size = chunk.size
    widened = False                       # the value carries the constant column (Layer.widen)
    for index, layer in enumerate(layers):
        out = None if workspace is None else (
            lambda shape, like, dtype=None, i=index: workspace.buffer((i, samples), shape, like, dtype))
        m = layer.module
        kind = type(m)
        if kind in _DROPOUT:
            continue                      # dropout is off on surfaces
        if not layer.moves and not (kind in _BATCHNORM and (recompute or m.running_mean is None)):
            value = _per_sample(m, value, layout)
        elif kind is nn.Linear or kind in _CONV:
            if layout == SHARED and basis is not None and chunk.coef is not None:
                terms = layer.terms.get(samples)
                if terms is None:
                    terms = layer.terms[samples] = _plane_terms(layer, value, basis)
                flat = terms.reshape(3, -1)
                mixed = torch.mm(chunk.coef, flat, out=out((size, flat.shape[1]), flat)) if out else chunk.coef @ flat
                value, layout = mixed.reshape(size, *terms.shape[1:]), PN
                widened = layer.widen
            elif kind is nn.Linear and chunk.plane is not None:
                value, layout = _plane_linear(layer, value, layout, chunk, widened, out), PN
                widened = False
            elif kind is nn.Linear:
                value, layout = _batched_linear(layer, value, layout, chunk, out), PN
            else:
                value, layout = _batched_conv(layer, value, layout, chunk), NP
        elif kind in _BATCHNORM:
            value, layout = _batchnorm(layer, value, layout, chunk, recompute)
        else:
            value = _per_sample(m, value, layout)
    if layout == SHARED:
        return value.expand(size, *value.shape)
    return value.transpose(0, 1) if layout == NP else value


def _per_sample(m: nn.Module, value: Tensor, layout: str) -> Tensor:
    """A layer that treats samples alone, on the chunk's (P * n) samples as one batch."""
    if type(m) in _MAXPOOL and _disjoint_pool(m):
        def fn(v):
            return _max_pool(v, _MAXPOOL[type(m)], m.kernel_size)
    else:
        fn = m
    if layout == SHARED:
        return fn(value)
    inplace = _IN_PLACE.get(type(m))
    if inplace is not None and value.is_contiguous():
        # a chunk's activation is its own temporary (never the data or shared terms): overwrite it, one pass
        # over memory instead of two
        return inplace(value)
    a, b = value.shape[:2]
    out = fn(value.reshape(a * b, *value.shape[2:]))
    return out.reshape(a, b, *out.shape[1:])


_MAXPOOL = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3}
_IN_PLACE = {nn.ReLU: torch.relu_, nn.Tanh: torch.tanh_, nn.Sigmoid: torch.sigmoid_}


def _disjoint_pool(m) -> bool:
    """A pool over disjoint windows (stride = kernel, no padding, dilation or ceil mode)."""
    def each(v):
        return v if isinstance(v, tuple) else (v,)
    return (not m.return_indices and not m.ceil_mode and all(p == 0 for p in each(m.padding))
            and all(d == 1 for d in each(m.dilation)) and (m.stride is None or each(m.stride) == each(m.kernel_size)))


def _max_pool(value: Tensor, dims: int, kernel) -> Tensor:
    """Max-pooling over disjoint windows as elementwise maxima of strided slices, one spatial axis at a time: the
    same values as torch's max_pool (NaN included), several times faster on small images (12x on 8 x 8 here)."""
    kernel = kernel if isinstance(kernel, tuple) else (kernel,) * dims
    for axis, k in zip(range(value.ndim - dims, value.ndim), kernel):
        if k == 1:
            continue
        length = value.shape[axis] // k
        index = (slice(None),) * axis + (slice(None, None, k),)
        parts = [value.narrow(axis, r, k * length - k + 1)[index] for r in range(k)]
        out = torch.maximum(parts[0], parts[1])
        for part in parts[2:]:
            out = torch.maximum(out, part)
        value = out
    return value


def _plane_terms(layer: Layer, x: Tensor, basis: Tensor) -> Tensor:
    """(3, n, *out): the layer's output at the origin and its derivatives along d1 and d2 (it is affine in them)."""
    m = layer.module
    weight, bias = layer.basis("weight", basis), layer.basis("bias", basis)
    conv = _CONV.get(type(m))
    outs = []
    for t in range(3):
        b = None if bias is None else bias[t]
        if conv is None:
            outs.append(F.linear(x, weight[t], b))
        else:
            outs.append(conv(x, weight[t], b, m.stride, m.padding, m.dilation, m.groups))
    terms = torch.stack(outs)
    if layer.widen:
        # one more output: 1 at the origin, 0 along both directions, so 1 at every point of the plane exactly
        extra = torch.zeros(*terms.shape[:-1], 1, dtype=terms.dtype, device=terms.device)
        extra[0] = 1.0
        terms = torch.cat([terms, extra], dim=-1)
    return terms


def _batched_linear(layer: Layer, value: Tensor, layout: str, chunk: Chunk, out=None) -> Tensor:
    """(P, n, ..., out) with each point's weights from its flat parameters: one batched matmul."""
    weight, bias = layer.param("weight", chunk), layer.param("bias", chunk)
    return _product(value, layout, chunk.size, weight.transpose(1, 2), bias, out)


def _product(value: Tensor, layout: str, size: int, wt: Tensor, bias: Tensor | None, out=None) -> Tensor:
    """(P, n, ..., out): each point's ``value`` times its ``wt`` (P, in, out), plus its ``bias`` (P, out)."""
    if layout == SHARED:
        value = value.expand(size, *value.shape)
    elif layout == NP:
        value = value.transpose(0, 1)
    flat = value.reshape(size, -1, value.shape[-1])
    shape = (size, flat.shape[1], wt.shape[-1])
    result = torch.bmm(flat, wt) if out is None else torch.bmm(flat, wt, out=out(shape, flat))
    if bias is not None:
        # in place after the product: baddbmm first copies the broadcast bias into the whole output, which cost
        # as much as the product itself for a narrow last layer (1,000 x 32 -> 1 here)
        result.add_(bias[:, None, :])
    return result.reshape(*value.shape[:-1], wt.shape[-1])


def _plane_weights(layer: Layer, plane: Tensor, widened: bool, dtype: torch.dtype = torch.float32) -> Tensor:
    """(3, in * out [+ out]) float64: the Linear's weight, transposed for ``bmm`` and with the bias as one more
    input row when ``widened`` (else the bias after it), at the plane's origin and along its two directions;
    ``dtype``: the evaluation's.
    A chunk's weights are then one product with its coefficients (``Chunk.combine``)."""
    if layer.weights is None:
        weight, bias = layer.basis("weight", plane), layer.basis("bias", plane)
        rows = weight.transpose(1, 2)                            # (3, in, out)
        if widened:
            # over the constant column as the evaluation computes it (the activation at 1 in ``dtype``)
            rows = torch.cat([rows, bias[:, None, :] / layer.column_value(dtype)], dim=1)
        parts = [rows.reshape(3, -1)] + ([bias] if bias is not None and not widened else [])
        layer.weights = torch.cat(parts, dim=1).contiguous()
    return layer.weights


def _plane_linear(layer: Layer, value: Tensor, layout: str, chunk: Chunk, widened: bool, out=None) -> Tensor:
    """``_batched_linear`` for a chunk on a plane: each point's weights (and bias) from one product."""
    m = layer.module
    weights = chunk.weights.get(id(layer))
    if weights is None:
        weights = chunk.weights[id(layer)] = chunk.combine(_plane_weights(layer, chunk.plane, widened, chunk.dtype),
                                                           out)
    cut = (m.in_features + (1 if widened else 0)) * m.out_features
    wt = weights[:, :cut].view(chunk.size, -1, m.out_features)
    bias = weights[:, cut:] if weights.shape[1] > cut else None
    return _product(value, layout, chunk.size, wt, bias, out)


def _batched_conv(layer: Layer, value: Tensor, layout: str, chunk: Chunk) -> Tensor:
    """(n, P, C_out, ...) with each point's filters: one grouped convolution, the P points' filters side by side
    as P * groups groups over the (n, P * C_in, ...) input."""
    m = layer.module
    size = chunk.size
    weight, bias = layer.param("weight", chunk), layer.param("bias", chunk)
    if layout == SHARED:
        stacked = value.repeat(1, size, *([1] * (value.ndim - 2)))
    else:
        if layout == PN:
            value = value.transpose(0, 1)
        stacked = value.reshape(value.shape[0], size * value.shape[2], *value.shape[3:])
    out = _CONV[type(m)](
        stacked, weight.reshape(-1, *weight.shape[2:]), None if bias is None else bias.reshape(-1),
        m.stride, m.padding, m.dilation, m.groups * size)
    return out.reshape(out.shape[0], size, -1, *out.shape[2:])


def _batchnorm(layer: Layer, value: Tensor, layout: str, chunk: Chunk, recompute: bool) -> tuple[Tensor, str]:
    m = layer.module
    size = chunk.size
    batch_stats = recompute or m.running_mean is None      # torch uses batch statistics without running ones
    if layout == SHARED:
        # one input for every point: normalise it once, then each point's affine part
        if batch_stats:
            normal = F.batch_norm(value, None, None, None, None, True, 0.0, m.eps)
        else:
            normal = F.batch_norm(value, m.running_mean, m.running_var, None, None, False, 0.0, m.eps)
        value, layout = normal.expand(size, *normal.shape), PN
    else:
        channel = [1, 1, -1] + [1] * (value.ndim - 3)
        if batch_stats:
            sample_axis = 1 if layout == PN else 0
            reduce = [sample_axis] + list(range(3, value.ndim))
            var, mean = torch.var_mean(value, dim=reduce, correction=0, keepdim=True)
        else:
            mean, var = m.running_mean.reshape(channel), m.running_var.reshape(channel)
        value = (value - mean) * torch.rsqrt(var + m.eps)
    if not m.affine:
        return value, layout
    weight, bias = layer.param("weight", chunk), layer.param("bias", chunk)
    weight = m.weight.expand(size, -1) if weight is None else weight
    bias = m.bias.expand(size, -1) if bias is None else bias
    shape = ([size, 1, -1] if layout == PN else [1, size, -1]) + [1] * (value.ndim - 3)
    return torch.addcmul(bias.reshape(shape), value, weight.reshape(shape)), layout
