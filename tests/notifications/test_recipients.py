"""Which channel a person's message goes by: their order, else WhatsApp, SMS, e-mail; only
channels they have an address for; a channel left out is opted out of."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from booklnk.notifications.models import Channel
from booklnk.notifications.recipients import Route, routes

EMAIL, PHONE = "mona@example.com", "+201001234567"


def test_by_default_whatsapp_then_sms_then_email() -> None:
    assert routes(email=EMAIL, phone=PHONE, preference=None) == [
        Route(Channel.WHATSAPP, PHONE),
        Route(Channel.SMS, PHONE),
        Route(Channel.EMAIL, EMAIL),
    ]


def test_without_a_proven_number_only_email() -> None:
    assert routes(email=EMAIL, phone=None, preference=None) == [Route(Channel.EMAIL, EMAIL)]


def test_a_channel_left_out_is_opted_out_of() -> None:
    assert routes(email=EMAIL, phone=PHONE, preference=["sms", "email"]) == [
        Route(Channel.SMS, PHONE),
        Route(Channel.EMAIL, EMAIL),
    ]
    assert routes(email=EMAIL, phone=PHONE, preference=[]) == []


@given(st.lists(st.sampled_from(["email", "sms", "whatsapp"]), unique=True), st.booleans())
def test_the_order_chosen_is_kept_and_each_route_is_reachable(preference: list[str], has_phone: bool) -> None:
    found = routes(email=EMAIL, phone=PHONE if has_phone else None, preference=preference)
    usable = [c for c in preference if has_phone or c == "email"]
    assert [route.channel.value for route in found] == usable
    assert all(route.address == (EMAIL if route.channel is Channel.EMAIL else PHONE) for route in found)
