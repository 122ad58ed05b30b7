"""What the course helper can tell about a user's loop from what it is given: which model, which loss, which batch.

``LossSurface`` is called as the course's helper was: with a module (or two numbers) and the loss the loop
computed, nothing more. This module recognises the module (``w·x + b`` or ``σ(w·x + b)``) by calling it on the
data, watches the module's inputs for the current mini-batch, and weighs each recorded loss against the losses
every candidate criterion would give there, so the surface drawn is the loop's own.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np
import torch

# (model, criterion) pairs a one-input loop may be training; "bce" only with labels 0/1.
LINEAR_OUTPUT = (("linear", "mse"), ("linear", "l1"), ("linear", "huber"), ("logistic", "bce-logits"))
PROBABILITY_OUTPUT = (("logistic", "mse"), ("logistic", "bce"))
CANDIDATES = LINEAR_OUTPUT + PROBABILITY_OUTPUT
NEEDS_LABELS = {"bce", "bce-logits"}

RTOL = 1e-4          # a loss the loop computed in float32 against ours in float64
ATOL = 1e-7
# Below this a recorded loss says nothing: a well-fitted batch has a near-zero loss under every criterion, and
# "matching" one sample's 1e-8 there is float32 noise, not evidence.
NO_EVIDENCE_BELOW = 1e-4
# The same surface under two names: BCE of a sigmoid's output, and BCE with logits of the line.
SAME_SURFACE = frozenset({("logistic", "bce"), ("logistic", "bce-logits")})

Combo = tuple[str, str]


def describe(combo: Combo) -> str:
    """"MSE of σ(w·x + b)" and the like, for titles and messages."""
    model, criterion = combo
    name = {"mse": "MSE", "l1": "L1", "huber": "Huber", "bce": "BCE", "bce-logits": "BCE with logits"}[criterion]
    if criterion == "bce-logits":
        return f"{name} of w·x + b"
    return f"{name} of {'σ(w·x + b)' if model == 'logistic' else 'w·x + b'}"


def candidates(x_labels_binary: bool, model: str | None = None, criterion: str | None = None,
               output: str | None = None) -> tuple[Combo, ...]:
    """The pairs still possible given what the user said (``model``, ``criterion``) and what the module's
    ``output`` is ("linear" or "probability", None when unknown)."""
    pool = {"linear": LINEAR_OUTPUT, "probability": PROBABILITY_OUTPUT}.get(output, CANDIDATES)
    return tuple(c for c in pool
                 if (model is None or c[0] == model) and (criterion is None or c[1] == criterion)
                 and (x_labels_binary or c[1] not in NEEDS_LABELS))


def per_sample(combo: Combo, params, x: np.ndarray, y: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """Each sample's loss at ``params`` (w, b), as torch's criteria compute it (``reduction='none'``)."""
    model, criterion = combo
    w, b = float(params[0]), float(params[1])
    with np.errstate(over="ignore", invalid="ignore"):
        z = w * x + b
        if criterion in ("bce", "bce-logits") or model == "logistic" and criterion == "mse":
            if criterion == "bce-logits":
                # BCEWithLogitsLoss: max(z, 0) - z y + log(1 + exp(-|z|))
                return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
            # The loop's sigmoid is float32: it saturates at 1.0 near z = 17, and BCELoss clamps log(0) at -100.
            p = torch.sigmoid(torch.from_numpy(z).float()).double().numpy()
            if criterion == "mse":
                return (p - y) ** 2
            with np.errstate(divide="ignore"):
                return -(y * np.maximum(np.log(p), -100.0) + (1 - y) * np.maximum(np.log1p(-p), -100.0))
        r = z - y
        if criterion == "mse":
            return r * r
        if criterion == "l1":
            return np.abs(r)
        a = np.abs(r)
        return np.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def _close(value: float, target: float) -> bool:
    return abs(value - target) <= RTOL * abs(target) + ATOL


# -- the module ----------------------------------------------------------------------------------------------

def module_params(module: torch.nn.Module) -> np.ndarray:
    """The module's parameter values, flat, in definition order (float64)."""
    values = [p.detach().cpu().double().reshape(-1) for p in module.parameters()]
    return torch.cat(values).numpy() if values else np.empty(0)


def probe_module(module: torch.nn.Module, x_in: torch.Tensor, flat: np.ndarray) -> tuple[str | None, bool]:
    """What ``module`` computes on the data: ("linear" | "probability" | None, whether its first parameter is
    the bias). Called once per module, without gradients; a module that fails on the data says nothing."""
    x = x_in.detach().double().cpu().numpy().reshape(-1)
    was_training = module.training
    try:
        # The user's loop goes on after this look: its random state (dropout, shuffling) and the module's
        # train/eval mode are left as they were.
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            module.eval()
            out = module(x_in)
        out = out.detach().cpu().double().numpy().reshape(-1) if isinstance(out, torch.Tensor) else None
    except Exception:       # the user's module on the user's data: anything may go wrong, and it only costs a guess
        return None, False
    finally:
        module.train(was_training)
    if out is None or out.shape != x.shape or not np.isfinite(out).all():
        return None, False
    for swapped in (False, True):
        b, w = flat if swapped else flat[::-1]
        with np.errstate(over="ignore"):
            z = w * x + b
            sig = 1 / (1 + np.exp(-z))
        scale = 1e-4 * (1 + np.abs(z))
        if np.all(np.abs(out - z) <= scale):
            return "linear", swapped
        if np.all(np.abs(out - sig) <= 1e-5):
            return "probability", swapped
    if np.all((out >= 0) & (out <= 1)):
        return "probability", False
    return None, False


class BatchProbe:
    """A forward pre-hook that keeps the inputs and parameters of the module's last call: the mini-batch the
    recorded loss was computed on, at the parameters it was computed at (before or after ``optimizer.step()``).

    It holds its helper weakly and never raises into the user's forward. Pickled (``torch.save(model)``), it
    comes back inert.
    """

    def __init__(self, owner):
        self._owner = weakref.ref(owner)
        self.active = True
        self.last = None            # (x values, flat params)

    def __call__(self, module, args):
        if not self.active or self._owner() is None:
            return None
        try:
            if args and isinstance(args[0], torch.Tensor):
                self.last = (args[0].detach().cpu().double().numpy().reshape(-1), module_params(module))
        except Exception:
            self.last = None
        return None

    def take(self):
        last, self.last = self.last, None
        return last

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self._owner = lambda: None
        self.active = False
        self.last = None


def batch_indices(x_sorted: np.ndarray, order: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The data indices whose x equals one of ``values`` (empty if any value is not in the data)."""
    lo = np.searchsorted(x_sorted, values, side="left")
    hi = np.searchsorted(x_sorted, values, side="right")
    if np.any(hi <= lo):
        return np.empty(0, np.int64)
    idx = np.unique(np.concatenate([order[a:b] for a, b in zip(lo, hi)]))
    return idx.astype(np.int64)


# -- evidence ------------------------------------------------------------------------------------------------

@dataclass
class Evidence:
    """How well each candidate pair explains the recorded losses.

    ``strong``: losses it reproduces exactly (a full-batch loss, a known batch's loss, one sample's loss);
    ``contra``: losses it cannot give at all (outside every sample's loss there, or not a known batch's).
    """

    strong: dict = field(default_factory=dict)
    contra: dict = field(default_factory=dict)
    checked: int = 0

    def add(self, verdicts: dict) -> None:
        self.checked += 1
        for combo, verdict in verdicts.items():
            if verdict == "strong":
                self.strong[combo] = self.strong.get(combo, 0) + 1
            elif verdict == "contra":
                self.contra[combo] = self.contra.get(combo, 0) + 1

    def consistent(self, combo: Combo) -> bool:
        # A stray value (a loss logged from elsewhere) may contradict the right pair now and then.
        return self.contra.get(combo, 0) <= self.checked // 50

    def confirmed(self, combo: Combo) -> bool:
        return self.strong.get(combo, 0) > 0 and self.consistent(combo)


def same_surface(a: Combo, b: Combo) -> bool:
    return a == b or {a, b} == SAME_SURFACE


def distinct(combos) -> tuple[Combo, ...]:
    """``combos`` without those that draw the same surface as one before them."""
    kept = []
    for c in combos:
        if not any(same_surface(c, k) for k in kept):
            kept.append(c)
    return tuple(kept)


def judge(loss: float, alternatives, x: np.ndarray, y: np.ndarray, combos,
          can_contradict: bool = True) -> tuple[dict, np.ndarray | None]:
    """Each combo's verdict on one recorded ``loss`` ("strong", "ok", "contra"), and the one sample it was the
    loss of, if that is how it was reproduced.

    ``alternatives``: ``(params, batch indices or None, exact)`` where the loss may have been computed; with
    ``exact``, the params are certainly those of the loss and a batch's loss either matches or contradicts. The
    best verdict over the alternatives counts. ``can_contradict``: whether the loss's parameters are surely
    among the alternatives (not so for a run's first point recorded after ``optimizer.step()``: its loss was
    taken at a start the helper never saw), else no verdict is worse than "ok".
    """
    verdicts, single = {}, None
    if abs(loss) < NO_EVIDENCE_BELOW:
        return {combo: "ok" for combo in combos}, None
    rank = {"contra": 0, "ok": 1, "strong": 2}
    for combo in combos:
        best = "contra" if alternatives and can_contradict else "ok"
        for params, batch, exact in alternatives:
            ls = per_sample(combo, params, x, y)
            if not np.isfinite(ls).all():
                verdict = "ok"
            elif batch is not None and batch.size:
                verdict = "strong" if _close(loss, float(ls[batch].mean())) else ("contra" if exact else "ok")
            elif _close(loss, float(ls.mean())):
                verdict = "strong"
            else:
                hits = np.flatnonzero(np.abs(ls - loss) <= RTOL * np.abs(ls) + ATOL)
                if hits.size == 1:
                    verdict = "strong"
                    if combo == combos[0]:
                        single = hits
                else:
                    tol = RTOL * max(abs(loss), 1.0)
                    verdict = "ok" if ls.min() - tol <= loss <= ls.max() + tol else "contra"
            if rank[verdict] > rank[best]:
                best = verdict
        if not can_contradict and best == "contra":
            best = "ok"
        verdicts[combo] = best
    return verdicts, single


def decide(current: Combo, combos, evidence: Evidence) -> tuple[Combo, str]:
    """The pair to draw and what is known about it: "confirmed", "ambiguous" (others fit as well), "unmatched"
    (nothing fits), or "unknown" (nothing recorded yet)."""
    if evidence.checked == 0:
        return current, "unknown"
    combos = distinct((current,) + tuple(combos))     # two names of one surface are no ambiguity
    confirmed = [c for c in combos if evidence.confirmed(c)]
    if current in confirmed:
        # Kept unless another pair reproduces the losses far more often (a near-zero loss, say, is every
        # criterion's at a well-fitted sample: the first exact match can be a coincidence).
        mine = evidence.strong[current]
        rival = max((c for c in confirmed if c != current), key=lambda c: evidence.strong[c], default=None)
        if rival is not None and evidence.strong[rival] >= 2 * mine + 3:
            return rival, "confirmed"
        return current, "confirmed"
    if confirmed:
        best = max(confirmed, key=lambda c: evidence.strong[c])
        tied = [c for c in confirmed if evidence.strong[c] == evidence.strong[best]]
        return (best, "confirmed") if len(tied) == 1 else (best if current not in tied else current, "ambiguous")
    consistent = [c for c in combos if evidence.consistent(c)]
    if current in consistent:
        return current, "ambiguous" if len(consistent) > 1 else "confirmed"
    if len(consistent) == 1:
        return consistent[0], "confirmed"
    if consistent:
        return consistent[0], "ambiguous"
    return current, "unmatched"


def unsure_message(drawn: Combo, others) -> str:
    """One line: which pairs the losses fit alike (``others`` besides the one ``drawn``), or that they fit
    none, and the keywords that decide."""
    if others:
        pairs = [drawn] + list(others[:2])
        fits = " and ".join(describe(c) for c in pairs)
        say = [k for k in (0, 1) if len({c[k] for c in pairs}) > 1]
        hint = " or ".join(", ".join(f"{('model', 'criterion')[k]}={c[k]!r}" for k in say) for c in pairs)
        return f"LossSurface: the recorded losses fit {fits} alike; drawing {describe(drawn)} (pass {hint} to choose)"
    return (f"LossSurface: the recorded losses match none of the losses it knows; drawing {describe(drawn)} "
            f"(pass criterion= and model= to choose)")


__all__ = ["CANDIDATES", "BatchProbe", "Evidence", "batch_indices", "candidates", "decide", "describe",
           "distinct", "judge", "module_params", "per_sample", "probe_module", "same_surface", "unsure_message"]
