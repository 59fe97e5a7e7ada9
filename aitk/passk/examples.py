"""Pure helpers for `aitk passk select`: docstring examples, generated inputs, behaviour signatures.

AlphaCode filters samples on the examples in the problem statement and clusters the survivors by
what they return on other inputs. Here the examples come from the prompt's docstring (`>>> f(x)`
then the expected line, or `f(x) == y`, `==> y`, `➞ y`, `-> y`, `=> y`, `= y`, `should return y`),
and the other inputs are type-preserving mutations of the example arguments.
"""

from __future__ import annotations

import ast
import json
import math
import random
import re
from dataclasses import dataclass

SEPARATOR = re.compile(r"\s*(?:==>|=>|->|➞|==|=|should return|returns|is)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Example:
    args: tuple
    expected: object = None
    has_expected: bool = False


def _call_at(text: str, start: int) -> int | None:
    """Index just past the parenthesis closing the one at `start` (None if unbalanced)."""
    depth, quote = 0, None
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _literal(text: str):
    return ast.literal_eval(text.strip().rstrip(".,;").strip())


def parse_examples(prompt: str, entry_point: str) -> list[Example]:
    """Every `entry_point(literal args)` in the prompt, with its expected value when one is given."""
    examples, seen = [], set()
    lines = prompt.splitlines()
    for number, line in enumerate(lines):
        for match in re.finditer(rf"(?<![\w.]){re.escape(entry_point)}\(", line):
            if line[: match.start()].rstrip().endswith("def"):
                continue
            end = _call_at(line, match.end() - 1)
            if end is None:
                continue
            try:
                args = _literal(f"({line[match.end() : end - 1]},)") if line[match.end() : end - 1].strip() else ()
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if type(args) is not tuple or repr(args) in seen:
                continue
            seen.add(repr(args))
            examples.append(_with_expected(args, line, match.start(), end, lines[number + 1 :]))
    return examples


def _with_expected(args: tuple, line: str, start: int, end: int, following: list[str]) -> Example:
    rest = line[end:]
    whole_doctest = line[:start].strip() in (">>>", "") and not rest.strip()
    candidates = []
    if whole_doctest and line[:start].strip() == ">>>":
        nxt = next((f for f in following if f.strip()), "")
        candidates.append(nxt)
    elif (found := SEPARATOR.match(rest)) is not None and not rest.lstrip().startswith((",", ")")):
        candidates.append(found.group(1))
    for text in candidates:
        for prefix in _prefixes(text):
            try:
                return Example(args, _literal(prefix), True)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                pass
    return Example(args)


def _prefixes(text: str) -> list[str]:
    """The text, then its prefixes cut before a word, longest first: `9 and f(2) ==> 4` -> ... `9`.

    Only before a word (prose or the next call), so `9 * 2` is not read as 9.
    """
    return [text] + [
        text[:i]
        for i in range(len(text) - 2, 0, -1)
        if text[i] == " " and (text[i + 1].isalpha() or text[i + 1] == "_")
    ]


def same_output(got, expected) -> bool:
    """Equality with float tolerance (1e-6 relative), recursively through containers."""
    if isinstance(expected, float) and type(got) in (int, float):
        return math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9)
    if type(got) in (list, tuple) and type(expected) is type(got) and len(got) == len(expected):
        return all(same_output(g, e) for g, e in zip(got, expected))
    return type(got) is type(expected) and got == expected


def mutate(value, rng: random.Random):
    """A nearby value of the same type (one step)."""
    t = type(value)
    if t is bool:
        return not value
    if t is int:
        return rng.choice(
            [value + rng.choice([-3, -2, -1, 1, 2, 3]), -value, 0, abs(value) + 1]
        )  # small: fib(2n) may never end
    if t is float:
        return rng.choice([round(value + rng.uniform(-2, 2), 3), -value, 0.0, value * 1.5])
    if t is str:
        if not value:
            return rng.choice(["a", "ab", " "])
        i = rng.randrange(len(value))
        return rng.choice(
            [
                value[::-1],
                value.swapcase(),
                value[:i] + value[i + 1 :],
                value + value[i],
                value[:i] + rng.choice("aZ 1") + value[i:],
            ]
        )
    if t in (list, tuple):
        items = list(value)
        options = [items[::-1], items[1:], items + items[:1]]
        if items:
            i = rng.randrange(len(items))
            options.append(items[:i] + [mutate(items[i], rng)] + items[i + 1 :])
            try:
                options.append(sorted(items))
            except TypeError:
                pass
        out = rng.choice(options)
        return out if t is list else tuple(out)
    if t is dict and value:
        key = rng.choice(list(value))
        return {**value, key: mutate(value[key], rng)}
    return value


def generate_inputs(examples: list[Example], count: int, seed: str) -> list[tuple]:
    """The example arguments first, then distinct mutations of them, up to `count` argument tuples."""
    rng = random.Random(seed)
    inputs = [e.args for e in examples][:count]
    seen = {repr(a) for a in inputs}
    pool = [e.args for e in examples if e.args]
    for _ in range(50 * count):
        if len(inputs) >= count or not pool:
            break
        args = list(rng.choice(pool))
        for _ in range(rng.choice([1, 1, 2])):
            i = rng.randrange(len(args))
            args[i] = mutate(args[i], rng)
        if len(repr(args)) < 2000 and repr(tuple(args)) not in seen:
            seen.add(repr(tuple(args)))
            inputs.append(tuple(args))
    return inputs


def probe_test(inputs: list[tuple], budget: float) -> str:
    """Test text for the sandbox: call the candidate on each input and record what came back.

    The calls share `budget` seconds (an interval timer in the test process), so the outputs come
    back before the sample's own timeout: a call that runs out records "timeout" and the rest
    "skipped" (the zygote kills the busy candidate afterwards).
    """
    return calls_harness(f"import signal, time\n__aitk_inputs__ = {inputs!r}\n", budget)


def calls_harness(setup: str, budget: float) -> str:
    """The test text that calls the candidate on each argument list of `__aitk_inputs__` (made by
    `setup`, which imports signal and time) and records in `__aitk_outputs__` what came back:
    ['ok', value], ['exc', name], ['timeout', None] or ['skipped', None] once `budget` s are spent."""
    return (
        f"{setup}__aitk_outputs__ = []\n\n"
        "class _OutOfTime(BaseException):\n    pass\n\n"
        "def _alarm(signum, frame):\n    raise _OutOfTime()\n\n"
        "def check(candidate):\n"
        f"    stop = time.monotonic() + {budget!r}\n"
        "    signal.signal(signal.SIGALRM, _alarm)\n"
        "    for args in __aitk_inputs__:\n"
        "        left = stop - time.monotonic()\n"
        "        if left <= 0:\n"
        "            __aitk_outputs__.append(['skipped', None])\n"
        "            continue\n"
        "        try:\n"
        "            signal.setitimer(signal.ITIMER_REAL, left)\n"
        "            __aitk_outputs__.append(['ok', candidate(*args)])\n"
        "        except _OutOfTime:\n"
        "            __aitk_outputs__.append(['timeout', None])\n"
        "            stop = 0\n"
        "        except BaseException as exc:\n"  # SystemExit from a sample's sys.exit() too: a behaviour, recorded
        "            __aitk_outputs__.append(['exc', type(exc).__name__])\n"
        "        finally:\n"
        "            signal.setitimer(signal.ITIMER_REAL, 0)\n"
    )


def signature(outputs: list) -> str:
    """A canonical text for a list of outputs: equal behaviour gives equal text (sets sorted, floats to 9 digits)."""
    return json.dumps(_canonical(outputs), separators=(",", ":"))


def _canonical(value):
    t = type(value)
    if t is float:
        return ["f", format(value, ".9g")]
    if t in (list, tuple):
        return [t.__name__, [_canonical(v) for v in value]]
    if t in (set, frozenset):
        return ["set", sorted(json.dumps(_canonical(v)) for v in value)]
    if t is dict:
        return ["dict", sorted([json.dumps(_canonical(k)), _canonical(v)] for k, v in value.items())]
    if t in (bytes, complex):
        return [t.__name__, repr(value)]
    return value
