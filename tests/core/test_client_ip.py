"""The client address recorded with every view and download: behind a trusted reverse proxy, the address the proxy
saw; never an address a client wrote into X-Forwarded-For itself."""

import pytest
from django.test import RequestFactory

from core.http import client_ip


def request_from(remote, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_address_is_the_peer_when_no_proxy_is_trusted(settings):
    settings.TRUSTED_PROXIES = []

    assert client_ip(request_from("203.0.113.9", forwarded="198.51.100.1")) == "203.0.113.9"


def test_address_is_the_one_the_trusted_proxy_saw(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert client_ip(request_from("10.0.0.5", forwarded="198.51.100.7")) == "198.51.100.7"


def test_an_address_forged_by_the_client_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]

    # The client sent "X-Forwarded-For: 192.0.2.66"; the proxy appended the address it really saw.
    assert client_ip(request_from("10.0.0.5", forwarded="192.0.2.66, 198.51.100.7")) == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_skipped(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert client_ip(request_from("10.0.0.5", forwarded="198.51.100.7, 10.1.1.1")) == "198.51.100.7"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address"])
def test_the_proxy_address_is_kept_when_the_header_is_missing_or_invalid(settings, forwarded):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert client_ip(request_from("10.0.0.5", forwarded=forwarded)) == "10.0.0.5"


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert client_ip(request_from("203.0.113.9", forwarded="198.51.100.7")) == "203.0.113.9"


# A number of trusted proxies (FOREWARN_TRUSTED_PROXY_COUNT), for proxies whose addresses are not known in advance.


def test_with_one_proxy_the_client_is_the_address_it_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    # The client sent "X-Forwarded-For: 192.0.2.66"; the proxy appended the address it really saw.
    assert client_ip(request_from("10.0.0.5", forwarded="192.0.2.66, 198.51.100.7")) == "198.51.100.7"


def test_with_two_proxies_the_outer_proxys_view_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(request_from("10.0.0.5", forwarded="192.0.2.66, 198.51.100.7, 10.1.1.1")) == "198.51.100.7"


def test_with_fewer_hops_than_proxies_the_furthest_hop_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    # Only the inner proxy was passed: every entry was written by a proxy, the left-most is the client it saw.
    assert client_ip(request_from("10.0.0.5", forwarded="198.51.100.7")) == "198.51.100.7"
    assert client_ip(request_from("10.0.0.5")) == "10.0.0.5"


def test_a_proxy_count_with_networks_ignores_peers_outside_them(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert client_ip(request_from("203.0.113.9", forwarded="198.51.100.7")) == "203.0.113.9"
    assert client_ip(request_from("10.0.0.5", forwarded="198.51.100.7")) == "198.51.100.7"


def test_ipv6_client_addresses_are_normalised(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request_from("10.0.0.5", forwarded="2001:DB8:0:0::1")) == "2001:db8::1"
