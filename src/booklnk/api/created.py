"""`Location` on every 201: where the created resource is read (or, without a read, managed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response


class Created:
    """Handed to a creating route, which names where its new resource lives."""

    def __init__(self, request: Request, response: Response) -> None:
        self._request = request
        self._response = response

    def under(self, key: object) -> str:
        """The common place: the created key under the collection posted to."""
        return f"{self._request.url.path}/{key}"

    def at_key(self, key: object) -> None:
        self.at(self.under(key))

    def at(self, location: str) -> None:
        self._response.headers["Location"] = location


async def created(request: Request, response: Response) -> Created:
    # A function, not the class itself: FastAPI calls a class dependency in a worker thread.
    return Created(request, response)


CreatedDep = Annotated[Created, Depends(created)]
