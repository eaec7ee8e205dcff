"""A business's return origins (issue 10, "Checkout return"): what an owner may list, and
which checkout URLs they let through. Pure."""

from __future__ import annotations

import pytest

from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy import return_origins


def _refused(values: list[str], *, allow_local: bool = True) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        return_origins.check(values, allow_local=allow_local)
    issue = refused.value.issues[0]
    return issue.field, issue.rule


def test_origins_are_normalised_and_kept_once() -> None:
    got = return_origins.check(
        ["https://Book.Example.com", "https://book.example.com:443/", "https://shop.example.com:8443"],
        allow_local=False,
    )
    assert got == ["https://book.example.com", "https://shop.example.com:8443"]


def test_local_http_only_outside_production() -> None:
    local = ["http://localhost:3000", "http://127.0.0.1"]
    assert return_origins.check(local, allow_local=True) == local
    assert _refused(["http://localhost:3000"], allow_local=False) == (
        "body.return_origins.0",
        "https_required",
    )
    assert _refused(["https://ok.example.com", "http://book.example.com"]) == (
        "body.return_origins.1",
        "http_only_local",
    )


@pytest.mark.parametrize(
    "value",
    [
        "https://book.example.com/done",  # a path
        "https://book.example.com?x=1",
        "https://book.example.com#top",
        "https://user@book.example.com",
        "javascript:alert(1)",
        "ftp://book.example.com",
        "book.example.com",
        "https://",
        "https://book.example.com:99999",
        "https://book.example.com\\@evil.example",
        " https://book.example.com",
    ],
)
def test_anything_but_an_origin_is_refused(value: str) -> None:
    assert _refused([value]) == ("body.return_origins.0", "not_an_origin")


def test_at_most_ten() -> None:
    many = [f"https://s{i}.example.com" for i in range(11)]
    assert _refused(many) == ("body.return_origins", "too_many")
    assert len(return_origins.check(many[:10], allow_local=False)) == 10


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://book.example.com/done?x=1#y", True),
        ("https://BOOK.example.com:443/done", True),
        ("https://book.example.com:444/done", False),
        ("http://book.example.com/done", False),
        ("https://book.example.com.evil.example/done", False),
        ("https://evil.example/?https://book.example.com", False),
        ("https://book.example.com@evil.example/", False),
        ("//book.example.com/done", False),
        ("/done", False),
    ],
)
def test_a_url_is_allowed_only_on_a_listed_origin(url: str, allowed: bool) -> None:
    assert return_origins.allows(["https://book.example.com"], url) is allowed
