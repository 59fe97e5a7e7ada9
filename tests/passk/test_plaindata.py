"""The candidate/test boundary: exact types only, everything else refused."""

from __future__ import annotations

import math

import pytest

from aitk.passk.sandbox import plaindata
from aitk.passk.sandbox.seccomp import build_filter


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**5000,
        1.5,
        float("inf"),
        -0.0,
        3 + 4j,
        "héllo",
        b"\x00\xff",
        [1, [2, (3, "x")]],
        (1,),
        {"a": [1, 2], 3: None, (1, 2): {4}},
        {1, 2},
        frozenset({"a"}),
        [],
    ],
)
def test_round_trip_keeps_value_and_exact_type(value):
    back = plaindata.decode(plaindata.encode(value))
    assert back == value and type(back) is type(value)


def test_nan_survives():
    assert math.isnan(plaindata.decode(plaindata.encode(float("nan"))))


class AlwaysEqual:
    def __eq__(self, other):
        return True


class SneakyInt(int):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [AlwaysEqual(), SneakyInt(3), [1, SneakyInt(2)], {"k": print}, type, object()])
def test_non_plain_values_are_refused(value):
    with pytest.raises(plaindata.NotPlainData):
        plaindata.encode(value)


def test_deep_nesting_is_refused():
    value: list = []
    for _ in range(plaindata.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(plaindata.NotPlainData):
        plaindata.encode(value)


@pytest.mark.parametrize("node", [["x", 1], ["i", 5], ["l", "notalist"], {"a": 1}, 3, ["d", [[1]]], []])
def test_malformed_data_is_refused(node):
    with pytest.raises((plaindata.NotPlainData, ValueError, TypeError)):
        plaindata.decode(node)


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_seccomp_jumps_land_inside_the_program(machine):
    program = build_filter(machine)
    assert len(program) < 256
    for i, (code, jt, jf, _) in enumerate(program):
        assert 0 <= jt < 256 and 0 <= jf < 256
        if code & 0x07 == 0x05:  # a jump: both branches land on a later instruction
            assert i + 1 + max(jt, jf) < len(program)
    assert program[-1][0] == 0x06  # ends with a return
