"""Plain data across the candidate/test boundary: exact built-in types only, as tagged JSON.

A candidate's return value is re-built from this text in the test process, so an object with a
rigged `__eq__`, an int subclass, or anything holding code cannot cross. Ints travel as hex (no
digit limit), floats by repr (nan and inf survive).
"""

from __future__ import annotations

import json
import os
import struct

MAX_DEPTH = 100
MAX_MESSAGE = 16 * 1024 * 1024  # bytes per framed message


class NotPlainData(TypeError):
    """A value of a type that may not cross (the message names the type)."""


def encode(value, depth: int = 0):
    if depth > MAX_DEPTH:
        raise NotPlainData("value nested too deeply")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return ["i", format(value, "x")]
    if t is float:
        return ["f", repr(value)]
    if t is complex:
        return ["c", repr(value.real), repr(value.imag)]
    if t is bytes:
        return ["b", value.hex()]
    if t is list or t is tuple or t is set or t is frozenset:
        tag = {list: "l", tuple: "t", set: "s", frozenset: "S"}[t]
        return [tag, [encode(v, depth + 1) for v in value]]
    if t is dict:
        return ["d", [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]]
    raise NotPlainData(f"a value of type {t.__name__} is not plain data")


def decode(node, depth: int = 0):
    if depth > MAX_DEPTH:
        raise NotPlainData("value nested too deeply")
    if node is None or type(node) is bool or type(node) is str:
        return node
    if type(node) is not list or not node or type(node[0]) is not str:
        raise NotPlainData("malformed plain data")
    tag = node[0]
    if tag == "i" and len(node) == 2 and type(node[1]) is str:
        return int(node[1], 16)
    if tag == "f" and len(node) == 2 and type(node[1]) is str:
        return float(node[1])
    if tag == "c" and len(node) == 3:
        return complex(float(node[1]), float(node[2]))
    if tag == "b" and len(node) == 2 and type(node[1]) is str:
        return bytes.fromhex(node[1])
    if tag in ("l", "t", "s", "S") and len(node) == 2 and type(node[1]) is list:
        items = [decode(v, depth + 1) for v in node[1]]
        return {"l": list, "t": tuple, "s": set, "S": frozenset}[tag](items)
    if tag == "d" and len(node) == 2 and type(node[1]) is list:
        out = {}
        for pair in node[1]:
            if type(pair) is not list or len(pair) != 2:
                raise NotPlainData("malformed plain data")
            out[decode(pair[0], depth + 1)] = decode(pair[1], depth + 1)
        return out
    raise NotPlainData("malformed plain data")


def send(fd: int, message: dict) -> None:
    """One framed message: 4-byte big-endian length, then JSON text."""
    data = json.dumps(message, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE:
        raise NotPlainData(f"message of {len(data)} bytes is over the {MAX_MESSAGE} byte limit")
    data = struct.pack(">I", len(data)) + data
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def recv(fd: int) -> dict | None:
    """The next framed message, or None at end of file. Raises NotPlainData on garbage."""
    head = _read_exactly(fd, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">I", head)
    if size > MAX_MESSAGE:
        raise NotPlainData("message over the size limit")
    body = _read_exactly(fd, size)
    if body is None:
        raise NotPlainData("truncated message")
    message = json.loads(body)
    if type(message) is not dict:
        raise NotPlainData("malformed message")
    return message


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, got = [], 0
    while got < size:
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            if got == 0:
                return None
            raise NotPlainData("truncated message")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
