"""Strategy errors that name the file, line and column of the offending text."""

from __future__ import annotations

from fengkong.errors import FengkongError, InputError


class StrategyError(InputError, ValueError):
    """A strategy file is invalid: unknown name, type mismatch, cycle, bad node, bad YAML."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, col: int | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        where = ":".join(str(p) for p in (file or "<strategy>", line, col) if p is not None)
        super().__init__(f"{where}: {message}")


class NodeError(FengkongError, RuntimeError):
    """A node failed while a decision was being made (bad model file, store down, …)."""

    http_status = 500

    def __init__(self, node: str, cause: BaseException):
        self.node = node
        self.cause = cause
        super().__init__(f"node {node!r} failed: {type(cause).__name__}: {cause}")
