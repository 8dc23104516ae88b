"""``--anonymize``: people, devices, domains and addresses replaced consistently; ids kept.

Two passes over everything one sync fetched: the first learns the identities the records name in
known places (display names of accounts, account names, host names, domains), the second rewrites
every text value: e-mail addresses and IPv4 addresses wherever they occur, and each learned
identity wherever it occurs (descriptions and URLs included). Within a run the same input always
gets the same replacement, so relations between records survive. Ids (``id``, ``...Id``) are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
IPV4 = re.compile(r"(?<!\d)(?<!\d\.)(?:\d{1,3}\.){3}\d{1,3}(?!\d)(?!\.\d)")
#: Keys whose value names a person when the object is an account, mailbox or assignee.
PERSON_KEYS = ("displayName", "assigneeDisplayName", "userDisplayName")
ACCOUNT_MARKERS = ("userPrincipalName", "accountName", "userSid", "azureAdUserId", "primaryAddress")
ACCOUNT_KEYS = ("accountName", "userName", "login")
HOST_KEYS = ("hostName", "deviceDnsName", "netBiosName", "deviceName", "computerDnsName")
DOMAIN_KEYS = ("domainName", "activeDirectoryDomainName", "dnsDomain")


def _kept(key: str) -> bool:
    """Keys whose values are ids or type names: never rewritten."""
    return key == "id" or key.endswith(("Id", "Ids")) or key.startswith("@") or key == "sid"


def _path(key: str, value: str) -> bool:
    """A resource path under an id key (an ARM ``resourceId``): it names hosts, so rewrite it."""
    return key != "id" and not key.startswith("@") and "/" in value


class Anonymizer:
    """Learns identities from records, then rewrites records with stable replacements."""

    def __init__(self) -> None:
        self.replacements: dict[str, str] = {}  # lower-cased original -> replacement
        self.counts: dict[str, int] = {}
        self._pattern: re.Pattern[str] | None = None

    def _new(self, kind: str, original: str, make: Callable[[int], str]) -> str:
        key = original.lower()
        found = self.replacements.get(key)
        if found is None:
            number = self.counts[kind] = self.counts.get(kind, 0) + 1
            found = self.replacements[key] = make(number)
            if kind not in ("email", "ip"):  # learned tokens: the token pattern grows
                self._pattern = None
        return found

    # -- learning ---------------------------------------------------------------------------

    def learn(self, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                self.learn(item)
            return
        if not isinstance(value, dict):
            return
        is_account = any(value.get(marker) for marker in ACCOUNT_MARKERS)
        for key, item in value.items():
            if isinstance(item, dict | list):
                self.learn(item)
            elif isinstance(item, str) and len(item) >= 3 and not _kept(key):
                if key in PERSON_KEYS and (is_account or key != "displayName"):
                    if not EMAIL.fullmatch(item):
                        self._new("person", item, lambda n: f"Person {n:04d}")
                elif key in ACCOUNT_KEYS:
                    self._new("account", item, lambda n: f"account{n:04d}")
                elif key in HOST_KEYS:
                    self.host(item)
                elif key in DOMAIN_KEYS:
                    self.domain(item)

    def host(self, name: str) -> str:
        label, _, domain = name.partition(".")
        mapped = self._new("host", label, lambda n: f"host-{n:04d}")
        return f"{mapped}.{self.domain(domain)}" if domain else mapped

    def domain(self, name: str) -> str:
        if "." not in name:  # a NetBIOS name
            return self._new("domain", name, lambda n: f"TENANT{n}")
        label = name.split(".")[0]
        if len(label) >= 4:
            self._new("domain", label, lambda n: f"tenant{n}")
            short = self.replacements[label.lower()]
            return self._new("fqdn", name, lambda _n: f"{short}.example")
        return self._new("fqdn", name, lambda n: f"domain{n}.example")

    # -- rewriting --------------------------------------------------------------------------

    def _email(self, match: re.Match[str]) -> str:
        address = match.group(0)
        domain = self.domain(match.group(1))
        return self._new("email", address, lambda n: f"user{n:04d}@{domain}")

    def _ip(self, match: re.Match[str]) -> str:
        address = match.group(0)
        if any(int(part) > 255 for part in address.split(".")):
            return address  # a version number, not an address
        return self._new(
            "ip", address, lambda n: f"198.{18 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"
        )

    def text(self, value: str) -> str:
        value = EMAIL.sub(self._email, value)
        value = IPV4.sub(self._ip, value)
        pattern = self._tokens()
        return (
            pattern.sub(lambda m: self.replacements[m.group(0).lower()], value)
            if pattern
            else value
        )

    def _tokens(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.replacements:
            learned = sorted(
                (key for key in self.replacements if "@" not in key and not IPV4.fullmatch(key)),
                key=len,
                reverse=True,
            )
            if learned:
                alternatives = "|".join(re.escape(key) for key in learned)
                self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return self._pattern

    def record(self, value: Any, key: str = "") -> Any:
        """``value`` with every identity replaced (ids and type names untouched)."""
        if isinstance(value, dict):
            return {name: self.record(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [self.record(item, key) for item in value]
        if isinstance(value, str) and (not _kept(key) or _path(key, value)):
            return self.text(value)
        return value
