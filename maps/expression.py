"""Band-math expressions for tiles, parsed with an allowlist and evaluated by numpy — never ``eval``.

An expression is Python *syntax* restricted to arithmetic on whole rasters::

    (B08 - B04) / (B08 + B04)          # asset names of the item
    where(b1 > -18, 1, 0)              # b1..bN: bands of the one selected asset
    sqrt(abs(vv)) * 2 ** 2

Allowed: numbers (finite, |x| ≤ 1e12), variable names (asset keys of the item, ``b1``…``bN``), ``+ - * / %``,
``**`` with a constant exponent of magnitude ≤ :data:`MAX_EXPONENT`, unary ``-``/``+``, comparisons
(``< <= > >= == !=``, chained), ``&``/``|`` (and ``and``/``or``, element-wise) and ``~``/``not`` on comparison
results, and calls of the functions in :data:`FUNCTIONS` with positional arguments. Everything else — attribute
access, subscripts, imports, lambdas, comprehensions, strings, keywords, calls of any other name — is refused
with :class:`InvalidExpression` (HTTP 400) before any pixel is read, as are expressions longer than
:data:`MAX_LENGTH` characters, with more than :data:`MAX_NODES` syntax nodes or nested deeper than :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from base.errors import InvalidRequest

__all__ = ["InvalidExpression", "Expression", "parse_expression", "FUNCTIONS", "MAX_LENGTH", "MAX_NODES", "MAX_EXPONENT"]

MAX_LENGTH = 400
MAX_NODES = 200
MAX_EXPONENT = 8
MAX_DEPTH = 32
MAX_CONSTANT = 1e12
BAND_NAME = re.compile(r"^b([1-9][0-9]{0,2})$")


class InvalidExpression(InvalidRequest):
    """A band-math expression outside the allowed language."""


def _where(c: np.ndarray, a: Any, b: Any) -> np.ndarray:
    return np.where(np.asarray(c).astype(bool), a, b)


# name -> (numpy function, number of positional arguments)
FUNCTIONS: Mapping[str, tuple[Callable[..., Any], int]] = {
    "abs": (np.abs, 1),
    "sqrt": (np.sqrt, 1),
    "log": (np.log, 1),
    "log10": (np.log10, 1),
    "exp": (np.exp, 1),
    "floor": (np.floor, 1),
    "ceil": (np.ceil, 1),
    "round": (np.round, 1),
    "min": (np.minimum, 2),
    "max": (np.maximum, 2),
    "clip": (np.clip, 3),
    "where": (_where, 3),
}

_BINOPS: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
    ast.Mod: np.mod, ast.Pow: np.power, ast.BitAnd: np.logical_and, ast.BitOr: np.logical_or,
}
_CMPOPS: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
    ast.Eq: np.equal, ast.NotEq: np.not_equal,
}


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, the syntax tree, and the variable names it uses (in order of appearance)."""

    text: str
    tree: ast.Expression
    names: tuple[str, ...]

    @property
    def band_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if BAND_NAME.match(n))

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """The expression on arrays (float64; invalid operations such as 1/0 or log(-1) give NaN/inf, which the
        caller masks). ``values`` must hold every name of :attr:`names`."""
        with np.errstate(all="ignore"):
            out = _eval(self.tree.body, values)
        return np.asarray(out, dtype="float64")


def _check(node: ast.AST, allowed_names: frozenset[str] | None, names: list[str]) -> None:
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InvalidExpression(f"only numbers may appear as constants, not {type(v).__name__}")
        if not math.isfinite(float(v)) or abs(v) > MAX_CONSTANT:
            raise InvalidExpression(f"constant {v!r} is not a finite number of magnitude ≤ {MAX_CONSTANT:g}")
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise InvalidExpression(f"{node.id!r} is a function: call it, e.g. {node.id}(b1)")
        if allowed_names is not None and node.id not in allowed_names and not BAND_NAME.match(node.id):
            raise InvalidExpression(f"unknown name {node.id!r}; use the item's asset names ({', '.join(sorted(allowed_names))}) or b1..bN")
        if allowed_names is None and not (BAND_NAME.match(node.id) or re.match(r"^[A-Za-z][A-Za-z0-9_]{0,63}$", node.id)):
            raise InvalidExpression(f"name {node.id!r} is not allowed")
        if node.id.startswith("_"):
            raise InvalidExpression(f"name {node.id!r} is not allowed")
        if node.id not in names:
            names.append(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise InvalidExpression(f"operator {type(node.op).__name__} is not allowed")
        if isinstance(node.op, ast.Pow):
            e = node.right
            sign = 1
            if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
                sign = -1 if isinstance(e.op, ast.USub) else 1
                e = e.operand
            if not (isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool)):
                raise InvalidExpression("the exponent of ** must be a number")
            if abs(sign * e.value) > MAX_EXPONENT:
                raise InvalidExpression(f"exponent {sign * e.value!r} is too large (at most {MAX_EXPONENT})")
        _check(node.left, allowed_names, names)
        _check(node.right, allowed_names, names)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not, ast.Invert)):
            raise InvalidExpression(f"operator {type(node.op).__name__} is not allowed")
        _check(node.operand, allowed_names, names)
        return
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, allowed_names, names)
        return
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMPOPS:
                raise InvalidExpression(f"comparison {type(op).__name__} is not allowed")
        _check(node.left, allowed_names, names)
        for c in node.comparators:
            _check(c, allowed_names, names)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise InvalidExpression(f"call of {what!r} is not allowed; functions: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise InvalidExpression("keyword arguments are not allowed")
        arity = FUNCTIONS[node.func.id][1]
        if len(node.args) != arity or any(isinstance(a, ast.Starred) for a in node.args):
            raise InvalidExpression(f"{node.func.id}() takes {arity} argument(s)")
        for a in node.args:
            _check(a, allowed_names, names)
        return
    raise InvalidExpression(f"{type(node).__name__} is not allowed in an expression")


def parse_expression(text: str, allowed_names: frozenset[str] | set[str] | None = None) -> Expression:
    """Check ``text`` against the allowlist. ``allowed_names``: the asset keys that may be used (``b1``…``bN``
    always parse; whether the band exists is checked when reading). Raises :class:`InvalidExpression`."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidExpression("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise InvalidExpression(f"the expression has {len(text)} characters, more than {MAX_LENGTH}")
    if any(ord(c) < 32 and c not in " \t" for c in text) or "\\" in text:
        raise InvalidExpression("the expression contains control characters or backslashes")
    depth = 0
    for c in text:
        depth += (c in "([{") - (c in ")]}")
        if depth > MAX_DEPTH:
            raise InvalidExpression(f"the expression nests brackets deeper than {MAX_DEPTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise InvalidExpression(f"the expression is not valid syntax: {getattr(exc, 'msg', None) or type(exc).__name__}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise InvalidExpression(f"the expression has {count} terms, more than {MAX_NODES}")
    if _depth(tree.body) > MAX_DEPTH:
        raise InvalidExpression(f"the expression nests deeper than {MAX_DEPTH} levels")
    names: list[str] = []
    _check(tree.body, frozenset(allowed_names) if allowed_names is not None else None, names)
    if not names:
        raise InvalidExpression("the expression uses no band or asset")
    return Expression(text.strip(), tree, tuple(names))


def _depth(node: ast.AST) -> int:
    """Nesting depth of the tree, without recursion."""
    best, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return best


def _eval(node: ast.AST, values: Mapping[str, Any]) -> Any:
    # only the node types _check admitted reach here
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values)
        if isinstance(node.op, ast.USub):
            return np.negative(v)
        if isinstance(node.op, ast.UAdd):
            return v
        return np.logical_not(v)
    if isinstance(node, ast.BoolOp):
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = _eval(node.values[0], values)
        for v in node.values[1:]:
            out = fn(out, _eval(v, values))
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        out = None
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, values)
            r = _CMPOPS[type(op)](left, right)
            out = r if out is None else np.logical_and(out, r)
            left = right
        return out
    if isinstance(node, ast.Call):
        fn = FUNCTIONS[node.func.id][0]  # type: ignore[union-attr]
        return fn(*(_eval(a, values) for a in node.args))
    raise InvalidExpression(f"{type(node).__name__} is not allowed in an expression")  # pragma: no cover
