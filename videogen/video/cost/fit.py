"""Polynomial fits of meta-device measurements in a call's shape variables.

A denoiser's FLOPs are an exact polynomial in its input shape: every matmul, convolution
and attention is a product of dimensions. With the text length fixed, a transformer over
N video tokens costs a + b·N + c·N² (c: self-attention); a video UNet over F latent frames
of S latent pixels costs a·F·S (convolutions, projections) + b·F·S² (spatial attention) +
c·S·F² (temporal attention) + smaller terms. Measuring at as many shapes as the polynomial
has terms and solving gives the coefficients; any request is then a dot product.

The same machinery fits peak memory, where the law is only approximately polynomial (a
maximum over ops of linear functions), so memory is calibrated near the sizes that matter
and ``max_rel_residual`` reports how well the points were matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# A term is a product of variables raised to powers: (("f", 1), ("s", 2)) is f·s².
Term = tuple[tuple[str, int], ...]


def term(**powers: int) -> Term:
    """``term(f=1, s=2)`` -> f·s²; ``term()`` -> the constant."""
    return tuple(sorted((name, power) for name, power in powers.items() if power))


def term_name(t: Term) -> str:
    return "·".join(name if power == 1 else f"{name}^{power}" for name, power in t) or "1"


def _value(t: Term, point: Mapping[str, float]) -> float:
    out = 1.0
    for name, power in t:
        out *= float(point[name]) ** power
    return out


@dataclass(frozen=True)
class PolyFit:
    """value ≈ Σ coef·term(point)."""

    terms: tuple[Term, ...]
    coefs: tuple[float, ...]
    max_rel_residual: float

    def __call__(self, **point: float) -> float:
        return sum(c * _value(t, point) for t, c in zip(self.terms, self.coefs, strict=True))

    def describe(self) -> dict[str, float]:
        return {term_name(t): c for t, c in zip(self.terms, self.coefs, strict=True)}


def fit(terms: Sequence[Term], points: Sequence[Mapping[str, float]], values: Sequence[float]) -> PolyFit:
    """Least-squares coefficients (exact when there are as many independent points as terms)."""
    if len(points) < len(terms):
        raise ValueError(f"{len(terms)} terms need at least as many points, got {len(points)}")
    a = np.array([[_value(t, p) for t in terms] for p in points], dtype=np.float64)
    b = np.array(values, dtype=np.float64)
    # Columns span many orders of magnitude (N vs N²): scale them before solving.
    scale = np.abs(a).max(axis=0)
    scale[scale == 0] = 1.0
    coefs, *_ = np.linalg.lstsq(a / scale, b, rcond=None)
    coefs = coefs / scale
    predicted = a @ coefs
    denom = np.maximum(np.abs(b), 1.0)
    residual = float(np.max(np.abs(predicted - b) / denom)) if len(b) else 0.0
    return PolyFit(terms=tuple(terms), coefs=tuple(float(c) for c in coefs), max_rel_residual=residual)


def fit_attention_split(
    n: tuple[float, float],
    flops: tuple[int, int],
    calls: tuple[tuple[tuple[int, int, int], ...] | None, tuple[tuple[int, int, int], ...] | None],
) -> PolyFit | None:
    """a + b·n + c·n² from two passes, using each pass's SDPA calls.

    A transformer's FLOPs outside attention are linear in its token count n; each attention
    call costs w·Nq·Nk with Nq and Nk affine in n (video tokens, video + text tokens, or fixed
    text tokens). Two passes with the same calls fix every Nq(n), Nk(n) and the linear rest,
    so the quadratic is exact without a third pass. None when the calls do not line up (or
    some attention ran unrecorded): then fit three passes instead.
    """
    (n1, n2), (first, second) = n, calls
    if first is None or second is None or len(first) != len(second) or n1 == n2:
        return None
    c0 = c1 = c2 = 0.0
    for (w1, q1, k1), (w2, q2, k2) in zip(first, second, strict=True):
        if w1 != w2:
            return None
        dq, dk = (q2 - q1) / (n2 - n1), (k2 - k1) / (n2 - n1)
        q0, k0 = q1 - dq * n1, k1 - dk * n1
        c0 += w1 * q0 * k0
        c1 += w1 * (q0 * dk + dq * k0)
        c2 += w1 * dq * dk

    def attention(x: float) -> float:
        return c0 + c1 * x + c2 * x * x

    rest1, rest2 = flops[0] - attention(n1), flops[1] - attention(n2)
    slope = (rest2 - rest1) / (n2 - n1)
    terms = (term(), term(n=1), term(n=2))
    return PolyFit(terms=terms, coefs=(rest1 - slope * n1 + c0, slope + c1, c2), max_rel_residual=0.0)


def fit_attention_monomials(
    points: Sequence[Mapping[str, float]],
    flops: Sequence[int],
    calls: Sequence[tuple[tuple[int, int, int], ...] | None],
    rest_terms: Sequence[Term],
) -> PolyFit | None:
    """A UNet's FLOPs from one pass per variable plus a base pass.

    ``points[0]`` is the base; ``points[i]`` changes only variable i-1 (e.g. frames, then pixels).
    In a UNet every attention dimension (batch·heads·width, query length, key length) is a
    monomial c·f^a·s^b (frames; pixels per frame, divided by 4 per downsampling), so each
    call's exponents follow from the passes; the rest (convolutions, projections) is linear in
    ``rest_terms``. None when the calls do not line up or a dimension is not a monomial.
    """
    names = [next(k for k in p if p[k] != points[0][k]) for p in points[1:]]
    if any(c is None for c in calls) or len({len(c) for c in calls}) != 1:  # type: ignore[arg-type]
        return None
    base = points[0]
    attention: dict[Term, float] = {}
    for per_pass in zip(*calls, strict=True):  # type: ignore[misc]
        powers: dict[str, int] = {}
        for dim in range(3):
            values = [float(call[dim]) for call in per_pass]
            for i, name in enumerate(names, start=1):
                ratio = np.log(values[i] / values[0]) / np.log(points[i][name] / base[name])
                power = int(round(ratio))
                if abs(ratio - power) > 1e-9:
                    return None
                powers[name] = powers.get(name, 0) + power
        coef = float(np.prod([float(v) for v in per_pass[0]]))
        for name, power in powers.items():
            coef /= float(base[name]) ** power
        key = term(**powers)
        attention[key] = attention.get(key, 0.0) + coef
    attn_values = [sum(c * _value(t, p) for t, c in attention.items()) for p in points]
    rest = fit(rest_terms, points, [f - a for f, a in zip(flops, attn_values, strict=True)])
    combined: dict[Term, float] = dict(zip(rest.terms, rest.coefs, strict=True))
    for t, c in attention.items():
        combined[t] = combined.get(t, 0.0) + c
    return PolyFit(terms=tuple(combined), coefs=tuple(combined.values()), max_rel_residual=rest.max_rel_residual)
