"""pass@k with the unbiased estimator of Chen et al. (2021), and the coverage curve.

With ``n`` attempts of which ``c`` succeeded, ``pass@k = 1 - C(n-c, k) / C(n, k)``: the
chance that k attempts drawn without replacement from the n include a success. It is computed
as ``1 - prod_{i=n-c+1}^{n} (1 - k/i)``, which never forms the binomials (no overflow, no
cancellation of huge numbers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one problem with ``c`` successes in ``n`` attempts (k <= n)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def ks_for(n: int) -> list[int]:
    """The k reported for ``n`` attempts: 1, 2, 4, ... below n, and n itself."""
    ks: list[int] = []
    k = 1
    while k < n:
        ks.append(k)
        k *= 2
    if n >= 1:
        ks.append(n)
    return ks


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float | None:
    """The mean pass@k over problems given as ``(n, c)``; problems with ``n < k`` are left out
    (None when none has ``n >= k``)."""
    values = [pass_at_k(n, c, k) for n, c in counts if n >= k]
    return sum(values) / len(values) if values else None


def coverage(counts: Sequence[tuple[int, int]], n: int) -> list[tuple[int, float]]:
    """The coverage curve: expected problems solved with k samples, for k = 1..n (the
    problems' pass@k summed; a problem with fewer than k attempts keeps its last value)."""
    points = []
    for k in range(1, n + 1):
        total = sum(pass_at_k(m, c, min(k, m)) for m, c in counts if m >= 1)
        points.append((k, total))
    return points
