"""Sync's pure parts: identity replacement and Retry-After reading."""

from __future__ import annotations

import email.utils
import time

import httpx
from hypothesis import given
from hypothesis import strategies as st

from alertgraph.sync.anonymize import Anonymizer
from alertgraph.sync.client import MAX_WAIT, retry_after, token_tenant

names = st.from_regex(r"[a-z]{4,9}", fullmatch=True)
octet = st.integers(min_value=0, max_value=255)
ips = st.tuples(octet, octet, octet, octet).map(lambda parts: ".".join(map(str, parts)))


@given(
    people=st.lists(st.tuples(names, names), min_size=1, max_size=6, unique=True),
    hosts=st.lists(names.map(lambda n: f"wks-{n}"), min_size=1, max_size=4, unique=True),
    addresses=st.lists(ips, min_size=1, max_size=4, unique=True),
)
def test_identities_are_replaced_everywhere_and_consistently(people, hosts, addresses) -> None:
    records = []
    for index, (first, last) in enumerate(people):
        host, ip = hosts[index % len(hosts)], addresses[index % len(addresses)]
        upn = f"{first}.{last}@contoso.com"
        records.append(
            {
                "id": f"alert-{index}",
                "incidentId": "42",
                "description": f"{upn} signed in on {host} from {ip}.",
                "evidence": [
                    {
                        "userAccount": {
                            "userPrincipalName": upn,
                            "displayName": f"{first.title()} {last.title()}",
                            "accountName": f"{first[0]}{last}",
                            "azureAdUserId": f"user-{first}-{last}",
                        },
                        "hostName": host,
                        "ipAddress": ip,
                    }
                ],
            }
        )
    anonymizer = Anonymizer()
    for record in records:
        anonymizer.learn(record)
    first_pass = [anonymizer.record(record) for record in records]
    assert [anonymizer.record(record) for record in records] == first_pass  # stable
    for before, after in zip(records, first_pass, strict=True):
        assert after["id"] == before["id"]
        assert after["incidentId"] == before["incidentId"]
        account = before["evidence"][0]["userAccount"]
        replaced = after["evidence"][0]
        assert replaced["userAccount"]["azureAdUserId"] == account["azureAdUserId"]
        text = str(after).lower()
        for original in (
            account["userPrincipalName"],
            account["displayName"],
            before["evidence"][0]["hostName"],
            before["evidence"][0]["ipAddress"],
            "contoso",
        ):
            assert original.lower() not in text
        # the description names the same stand-ins as the evidence
        assert replaced["userAccount"]["userPrincipalName"] in after["description"]
        assert replaced["hostName"] in after["description"]
        assert replaced["ipAddress"] in after["description"]
    stand_ins = {r["evidence"][0]["userAccount"]["userPrincipalName"] for r in first_pass}
    assert len(stand_ins) == len(people)  # different people stay different


def test_retry_after_in_seconds_or_as_a_date() -> None:
    request = httpx.Request("GET", "http://upstream")
    seconds = httpx.Response(429, headers={"Retry-After": "7"}, request=request)
    assert retry_after(seconds, 0) == 7
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    dated = httpx.Response(503, headers={"Retry-After": later}, request=request)
    assert 25 <= retry_after(dated, 0) <= 30
    huge = httpx.Response(429, headers={"Retry-After": "86400"}, request=request)
    assert retry_after(huge, 0) == MAX_WAIT
    bare = httpx.Response(503, request=request)
    assert retry_after(bare, 0) == 1
    assert retry_after(bare, 3) == 8


def test_the_token_tenant_is_read_from_the_jwt() -> None:
    assert token_tenant("not-a-jwt") is None
    payload = "eyJ0aWQiOiJ0ZW5hbnQtMSJ9"  # {"tid":"tenant-1"}
    assert token_tenant(f"e30.{payload}.sig") == "tenant-1"
