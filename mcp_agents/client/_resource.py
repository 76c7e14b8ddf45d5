"""The base of every resource area: holds the request path and small shared helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from mcp_agents.client._request import Requester
from mcp_agents.client.errors import InvalidRequestError

ModelT = TypeVar("ModelT", bound=BaseModel)


class Resource:
    """One API area; all its methods go through `self._requester`."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def csv(value: str | Sequence[str] | None) -> str | None:
    """A query value that may be given as a list: joined with commas, as the API expects."""
    if value is None or isinstance(value, str):
        return value
    return ",".join(str(item) for item in value)


def build(model: type[ModelT], data: object, what: str) -> ModelT:
    """A strict request model from user input; a validation failure is an `InvalidRequestError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg']}" for err in exc.errors())
        raise InvalidRequestError(f"invalid {what}: {problems}") from None
