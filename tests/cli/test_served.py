"""What `serve` tells its processes: the public base URL follows the port served and the
Kashier URLs the simulator's port, unless set; a URL of this machine on another port is
warned about. Before, `serve --port 9000` kept telling Kashier to call :8000 and payments
never confirmed, silently."""

from __future__ import annotations

from booklnk.cli.served import KASHIER_URLS, Elsewhere, defaults, elsewhere


def test_the_public_url_follows_the_port_unless_set() -> None:
    assert defaults({}, host="127.0.0.1", port=9000, simulator_port=None) == {
        "BOOKLNK_PUBLIC_BASE_URL": "http://127.0.0.1:9000"
    }
    assert defaults({}, host="0.0.0.0", port=9000, simulator_port=None) == {
        "BOOKLNK_PUBLIC_BASE_URL": "http://127.0.0.1:9000"
    }
    assert (
        defaults(
            {"BOOKLNK_PUBLIC_BASE_URL": "https://book.example.com"}, host="::", port=1, simulator_port=None
        )
        == {}
    )


def test_kashier_urls_follow_the_simulators_port_unless_set() -> None:
    found = defaults(
        {"BOOKLNK_KASHIER_API_URL": "https://api.kashier.io"}, host="h", port=1, simulator_port=9790
    )
    assert found == {
        "BOOKLNK_PUBLIC_BASE_URL": "http://h:1",
        "BOOKLNK_KASHIER_HPP_URL": "http://127.0.0.1:9790",
        "BOOKLNK_KASHIER_FEP_URL": "http://127.0.0.1:9790",
    }


def test_a_url_of_this_machine_on_another_port_is_named() -> None:
    urls = {
        "BOOKLNK_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        **dict.fromkeys(KASHIER_URLS, "http://localhost:8790"),
    }
    assert elsewhere(urls, port=8000, simulator_port=8790) == []
    assert elsewhere(urls, port=9000, simulator_port=None) == [
        Elsewhere("BOOKLNK_PUBLIC_BASE_URL", 8000, 9000)
    ]
    assert [e.setting for e in elsewhere(urls, port=8000, simulator_port=9790)] == list(KASHIER_URLS)
    remote = {"BOOKLNK_PUBLIC_BASE_URL": "https://book.example.com"}
    assert elsewhere(remote, port=9000, simulator_port=None) == []
