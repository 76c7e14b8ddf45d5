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


def many(value: str | Sequence[str] | None) -> list[str] | None:
    """A multi-valued filter, sent as repeated parameters (`status=a&status=b`, form style with explode).

    A string is one value (the hosted schema's enums hold no commas, so none is split).
    """
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(item) for item in value]


def build(model: type[ModelT], data: object, what: str) -> ModelT:
    """A strict request model from user input; a validation failure is an `InvalidRequestError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg']}" for err in exc.errors())
        raise InvalidRequestError(f"invalid {what}: {problems}") from None
