"""Where a webhook may go (pure): URLs, and the addresses their hosts resolve to."""

from __future__ import annotations

import ipaddress

import pytest

from booklnk.integrations.targets import (
    Refused,
    TargetPolicy,
    check_addresses,
    check_url,
    is_public,
    policy_for,
)

PRODUCTION = policy_for("production", None)


def test_production_requires_https_and_public_addresses_elsewhere_anything_goes() -> None:
    assert TargetPolicy(require_https=True, allow_private=False) == PRODUCTION
    assert policy_for("development", None) == TargetPolicy(require_https=False, allow_private=True)
    assert policy_for("test", False) == TargetPolicy(require_https=False, allow_private=False)


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://hooks.example.com/x", "https_required"),
        ("ftp://hooks.example.com/x", "not_a_url"),
        ("hooks.example.com/x", "not_a_url"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com:99999/x", "not_a_url"),
        ("https://h.example/" + "a" * 2048, "too_long"),
    ],
)
def test_urls_refused_in_production(url: str, rule: str) -> None:
    with pytest.raises(Refused) as refused:
        check_url(url, PRODUCTION)
    assert refused.value.rule == rule


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4 hidden in IPv6
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    ],
)
def test_private_loopback_link_local_multicast_and_reserved_addresses_are_refused(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert not is_public(ip)
    with pytest.raises(Refused) as refused:
        check_addresses([ip], PRODUCTION)
    assert refused.value.rule == "private_address"
    check_addresses([ip], TargetPolicy(require_https=False, allow_private=True))  # dev: fine


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    public = ipaddress.ip_address("93.184.216.34")
    assert is_public(public)
    assert is_public(ipaddress.ip_address("2606:4700::1111"))
    check_addresses([public], PRODUCTION)
    with pytest.raises(Refused):
        check_addresses([public, ipaddress.ip_address("10.0.0.7")], PRODUCTION)
    with pytest.raises(Refused) as refused:
        check_addresses([], PRODUCTION)
    assert refused.value.rule == "unresolvable"
