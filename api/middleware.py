"""Pure ASGI guard in front of the app: a request body limit and strict JSON, before anything parses the body.

* a body larger than ``HPGEO_MAX_BODY_BYTES`` (``Content-Length`` or counted while it arrives) gets 413 at
  once; at most that many bytes are ever held in memory;
* a JSON body (``application/json``, ``…+json``) must be strict JSON of valid UTF-8: ``NaN``, ``Infinity``,
  numbers that overflow to infinity and lone surrogates (``"\\ud800"``) are refused with 400 naming the
  place. Malformed JSON is left to the route (422 with the position).

Answers are ``{"code", "description"}`` like every other error (see :mod:`api.errors`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import SafeJSONResponse, error_body

__all__ = ["RequestGuard"]


class _NotStrict(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotStrict(f"JSON numbers must be finite; {name} is not accepted")


def _float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise _NotStrict(f"JSON number {text[:40]} is too large (not a finite number)")
    return v


def _surrogate(obj: Any, where: str = "body") -> str | None:
    """Where the first string with a lone surrogate is (a key or a value), else None."""
    stack = [(obj, where)]
    while stack:
        o, w = stack.pop()
        if isinstance(o, str):
            try:
                o.encode("utf-8")
            except UnicodeEncodeError:
                return w
        elif isinstance(o, dict):
            for k, v in o.items():
                try:
                    k.encode("utf-8")
                except UnicodeEncodeError:
                    return f"{w} (a key)"
                stack.append((v, f"{w}.{k}"))
        elif isinstance(o, list):
            stack.extend((v, f"{w}[{i}]") for i, v in enumerate(o))
    return None


def json_problem(body: bytes) -> str | None:
    """Why ``body`` is not strict JSON of valid UTF-8 (None when it is, or when it is not JSON at all)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not valid UTF-8 (byte {exc.start})"
    try:
        doc = json.loads(text, parse_constant=_constant, parse_float=_float)
    except _NotStrict as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None  # malformed: the route answers 422 with the position
    where = _surrogate(doc)
    return f"{where[:200]} contains a lone surrogate (\\ud800-\\udfff escape without its pair): not valid Unicode text" if where else None


def _is_json(headers: Headers) -> bool:
    ct = headers.get("content-type", "").split(";")[0].strip().lower()
    return ct == "application/json" or (ct.startswith("application/") and ct.endswith("+json"))


class RequestGuard:
    """Body limit and strict JSON for every HTTP request (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, code: str, description: str) -> None:
        await SafeJSONResponse(error_body(code, description), status_code=status, headers={"Connection": "close"})(scope, receive, send)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes (HPGEO_MAX_BODY_BYTES)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                await self._refuse(scope, receive, send, 400, "InvalidContentLength", f"Content-Length is not a number: {length[:40]!r}")
                return
            if int(length) > self.max_body_bytes:
                await self._refuse(scope, receive, send, 413, "PayloadTooLarge", self._too_large())
                return
            if int(length) == 0:
                await self.app(scope, receive, send)
                return
        elif "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._refuse(scope, receive, send, 413, "PayloadTooLarge", self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers):
            problem = json_problem(body)
            if problem:
                await self._refuse(scope, receive, send, 400, "InvalidJSON", problem)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
