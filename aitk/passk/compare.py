"""Judging a stdin/stdout program's output against the expected output: token by token.

Whitespace never matters (tokens are what `str.split()` gives). Two tokens that are both numbers
match within `tolerance`, absolute or relative, when either has a decimal point or an exponent;
two integers must be equal (1e-6 relative would let 10**20 + 1 pass for 10**20). `exact` turns
the tolerance off. `signature` is the same comparison made hashable, for clustering in `select`.
"""

from __future__ import annotations

import hashlib
import math
import re

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # no nan, inf, 1_000 or 0x10
INTEGER = re.compile(r"[+-]?\d+")
TOLERANCE = 1e-6


def same_tokens(a: str, b: str, exact: bool = False, tolerance: float = TOLERANCE) -> bool:
    """One token against another: equal text, or (unless exact) numbers within the tolerance."""
    if a == b:
        return True
    if exact or not (NUMBER.fullmatch(a) and NUMBER.fullmatch(b)):
        return False
    if INTEGER.fullmatch(a) and INTEGER.fullmatch(b):
        return int(a) == int(b)  # "+5" and "05" are 5; big integers are compared exactly
    x, y = float(a), float(b)
    return math.isclose(x, y, rel_tol=tolerance, abs_tol=tolerance)


def same_output(got: str, expected: str, exact: bool = False, tolerance: float = TOLERANCE) -> bool:
    """Whether a program's whole output matches the expected output."""
    ours, theirs = got.split(), expected.split()
    return len(ours) == len(theirs) and all(same_tokens(a, b, exact, tolerance) for a, b in zip(ours, theirs))


def first_difference(got: str, expected: str, exact: bool = False) -> str:
    """A short reason for a mismatch: which token differs (for the results file)."""
    ours, theirs = got.split(), expected.split()
    for index, (a, b) in enumerate(zip(ours, theirs), start=1):
        if not same_tokens(a, b, exact):
            return f"token {index}: got {_short(a)}, expected {_short(b)}"
    if len(ours) != len(theirs):
        return f"{len(ours)} tokens, expected {len(theirs)}"
    return ""


def signature(output: str) -> str:
    """Equal outputs (whitespace aside, numbers to about 1e-6) give the same short text."""
    canonical = " ".join(_canonical(token) for token in output.split())
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _canonical(token: str) -> str:
    if not NUMBER.fullmatch(token):
        return token
    if INTEGER.fullmatch(token):
        return str(int(token))
    value = float(token)
    return "0" if abs(value) < TOLERANCE else format(value, ".6g")


def _short(token: str) -> str:
    return repr(token if len(token) <= 20 else token[:17] + "...")
