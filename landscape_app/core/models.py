"""Models and criteria: names, parameter names, torch builders, and which pairings make sense."""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from .errors import ConfigError

# Model name -> (input features, parameter names in model order: weights first, then the bias).
MODELS: dict[str, tuple[int, tuple[str, ...]]] = {
    "linear": (1, ("w", "b")),
    "logistic": (1, ("w", "b")),
    "plane": (2, ("w1", "w2", "b")),
}

MODEL_LABELS = {
    "linear": "Linear  ŷ = w·x + b",
    "logistic": "Logistic  ŷ = σ(w·x + b)",
    "plane": "Plane  ŷ = w1·x1 + w2·x2 + b",
}

# Criterion name -> (torch class, options with defaults, needs labels in {0, 1}).
CRITERIA: dict[str, tuple[type[nn.Module], dict[str, Any], bool]] = {
    "mse": (nn.MSELoss, {}, False),
    "l1": (nn.L1Loss, {}, False),
    "huber": (nn.HuberLoss, {"delta": 1.0}, False),
    "bce": (nn.BCELoss, {}, True),
    "bce-logits": (nn.BCEWithLogitsLoss, {}, True),
    "cross-entropy": (nn.CrossEntropyLoss, {}, False),
}

CRITERION_LABELS = {
    "mse": "MSE (mean squared error)",
    "l1": "L1 (mean absolute error)",
    "huber": "Huber",
    "bce": "BCE (on probabilities)",
    "bce-logits": "BCE with logits",
    "cross-entropy": "Cross-entropy (classes)",
}


def loss_unit(criterion: str | None) -> str:
    """A criterion's short name on axes and read-outs: "MSE", "BCE" (with logits or not, the same loss)."""
    if not criterion:
        return ""
    if criterion == "cross-entropy":
        return "CE"
    return "BCE" if criterion == "bce-logits" else criterion.upper()


def param_names(model: str) -> tuple[str, ...]:
    return MODELS[model][1]


def output_is_probability(model: str, criterion: str) -> bool:
    """Whether the trained module ends in a sigmoid.

    The logistic model trained with ``bce-logits`` outputs its logit, because BCEWithLogitsLoss applies the
    sigmoid itself (the numerically stable way to train logistic regression); its prediction is still σ(logit).
    """
    return model == "logistic" and criterion != "bce-logits"


def check_pairing(model: str, criterion: str) -> None:
    """Refuse a model/criterion pairing that cannot work, naming why."""
    if model not in MODELS:
        raise ConfigError("model", f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if criterion not in CRITERIA:
        raise ConfigError("criterion", f"unknown criterion {criterion!r}; choose one of {', '.join(CRITERIA)}")
    if criterion == "cross-entropy":
        raise ConfigError("criterion", f"'cross-entropy' needs one output per class, but the {model!r} model has "
                                       "one output; use 'bce-logits' for 0/1 labels, or a network ('softmax', "
                                       "'mlp', 'cnn') for classes")
    if criterion == "bce" and not output_is_probability(model, criterion):
        raise ConfigError("criterion", f"'bce' needs a probability in (0, 1), but the {model!r} model's output "
                                       "is not one; use the 'logistic' model, or 'bce-logits'")


def check_criterion_options(criterion: str, options: Mapping[str, Any]) -> dict[str, Any]:
    defaults = CRITERIA[criterion][1]
    unknown = set(options) - set(defaults)
    if unknown:
        allowed = ", ".join(defaults) or "none"
        raise ConfigError("criterion_options", f"{criterion!r} has no option {sorted(unknown)[0]!r} "
                                               f"(its options: {allowed})")
    out = dict(defaults)
    for key, value in options.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"criterion_options.{key}", f"must be a number, not {value!r}")
        if not value > 0 or value == float("inf"):
            raise ConfigError(f"criterion_options.{key}", f"must be a positive finite number, not {value!r}")
        out[key] = float(value)
    return out



def build_model(model: str, criterion: str, start) -> nn.Module:
    """The torch module, its parameters set to ``start`` (weights..., bias)."""
    n_in = MODELS[model][0]
    linear = nn.Linear(n_in, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([list(start[:-1])], dtype=torch.float32))
        linear.bias.copy_(torch.tensor([start[-1]], dtype=torch.float32))
    if output_is_probability(model, criterion):
        return nn.Sequential(linear, nn.Sigmoid())
    return linear


def build_criterion(criterion: str, options: Mapping[str, Any]) -> nn.Module:
    cls, _, _ = CRITERIA[criterion]
    return cls(**options)


def flat_params(module: nn.Module) -> torch.Tensor:
    """The module's parameters as one flat tensor in model order (weights..., bias)."""
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])


def predict(model: str, criterion: str, params, x: torch.Tensor) -> torch.Tensor:
    """The prediction shown to people: σ(logit) for logistic models, the linear output otherwise."""
    params = torch.as_tensor(params, dtype=x.dtype)
    out = x @ params[:-1] + params[-1]
    return torch.sigmoid(out) if model == "logistic" else out
