"""Each point's loss from one call of the criterion over a chunk's outputs, for torch's usual losses.

``torch.vmap(criterion)`` over the chunk's points is general but slow here (a tenth of an MLP surface's time went
into it): for a loss that is the plain mean (or sum) of a per-sample value, the same criterion with
``reduction="none"`` runs once over the chunk's (P, n, ...) outputs and each point's values are averaged. Losses
whose mean is weighted (class weights, ignored labels) or that this file does not know keep ``vmap``.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import Tensor, nn

# Losses whose per-sample values line up with the output element by element.
_ELEMENTWISE = (nn.MSELoss, nn.L1Loss, nn.HuberLoss, nn.SmoothL1Loss, nn.BCEWithLogitsLoss, nn.BCELoss)

PerPoint = Callable[[Tensor, Tensor], "Tensor | None"]


def per_sample_criterion(criterion: nn.Module) -> PerPoint | None:
    """A function ``(out (P, n, ...), target) -> (P,)`` equal to the criterion at each point, or None when the
    criterion is not one this can split (the caller uses ``vmap``). The function itself returns None for a call
    it cannot split (shapes that the criterion would broadcast, an ignored label)."""
    reduction = getattr(criterion, "reduction", None)
    if reduction not in ("mean", "sum"):
        return None
    kind = type(criterion)
    if kind not in _ELEMENTWISE and kind is not nn.CrossEntropyLoss:
        return None
    if kind is nn.CrossEntropyLoss and criterion.weight is not None:
        return None                          # its mean divides by the labels' weights, not by n
    unreduced = copy.deepcopy(criterion)
    unreduced.reduction = "none"

    def reduce(values: Tensor, points: int) -> Tensor:
        values = values.reshape(points, -1)
        return values.mean(dim=1) if reduction == "mean" else values.sum(dim=1)

    if kind is nn.CrossEntropyLoss:
        def per_point(out: Tensor, target: Tensor) -> Tensor | None:
            if out.ndim != 3:
                return None
            points, n, classes = out.shape
            if target.dtype.is_floating_point:
                if target.shape != (n, classes):
                    return None
                targets = target.expand(points, n, classes).reshape(points * n, classes)
            else:
                if target.shape != (n,) or bool((target == criterion.ignore_index).any()):
                    return None              # an ignored label leaves the mean's count
                targets = target.repeat(points)
            return reduce(unreduced(out.reshape(points * n, classes), targets), points)
        return per_point

    def per_point(out: Tensor, target: Tensor) -> Tensor | None:
        if tuple(out.shape[1:]) != tuple(target.shape):
            return None                      # the criterion would broadcast (and warn): leave it to vmap
        return reduce(unreduced(out, target.expand_as(out)), len(out))
    return per_point
