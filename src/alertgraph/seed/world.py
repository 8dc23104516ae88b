"""The entities of a seed tenant (people, hosts, addresses) and the story of one alert.

A :class:`Story` holds who, where and what for one alert and the pieces that several evidence
types share; :mod:`.evidence` builds the evidence items from it and :mod:`.records` the records.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from alertgraph.seed.vocab import (
    COUNTRIES,
    DOMAINS,
    FILES,
    FIRST,
    LAST,
    MDE,
    MINUTE,
    SECURITY,
    URLS,
    Template,
    guid,
    hex_digits,
)
from alertgraph.store.codec import format_datetime


class World:
    """People, devices and addresses of one demo tenant, all derived from one random stream."""

    def __init__(self, rng: random.Random, tenant_id: str) -> None:
        self.rng = rng
        self.tenant_id = tenant_id
        self.domain = rng.choice(DOMAINS)
        netbios = self.domain.split(".")[0].upper()[:15]
        self.netbios = netbios
        names = rng.sample([(f, s) for f in FIRST for s in LAST], 40)
        self.users: list[dict[str, Any]] = [
            {
                "id": guid(rng),
                "displayName": f"{first} {last}",
                "userPrincipalName": f"{first.lower()}.{last.lower()}@{self.domain}",
                "accountName": f"{first[0]}{last}".lower(),
                "sid": f"S-1-5-21-{rng.randint(10**9, 4 * 10**9)}-{rng.randint(10**9, 4 * 10**9)}-"
                f"{rng.randint(10**8, 10**9)}-{rng.randint(1100, 9000)}",
            }
            for first, last in names
        ]
        platforms = (
            ("Windows11", "23H2", 22631),
            ("Windows10", "22H2", 19045),
            ("WindowsServer2022", "21H2", 20348),
            ("Linux", "Ubuntu 22.04", None),
            ("macOS", "14.4", None),
        )
        self.devices: list[dict[str, Any]] = []
        for number in range(30):
            platform, version, build = rng.choice(platforms)
            prefix = "srv" if platform.startswith("WindowsServer") or platform == "Linux" else "wks"
            host = f"{prefix}-{rng.choice(('fin', 'hr', 'eng', 'ops', 'sales', 'dc'))}-{number:03d}"
            self.devices.append(
                {
                    "hostName": host,
                    "deviceDnsName": f"{host}.{self.domain}",
                    "osPlatform": platform,
                    "version": version,
                    "osBuild": build,
                    "mdeDeviceId": hex_digits(rng, 160),
                    "azureAdDeviceId": guid(rng),
                    "ip": f"10.{rng.randint(0, 30)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}",
                    "rbacGroupName": rng.choice(("Workstations", "Servers", "Finance", "Tier0")),
                }
            )
        self.partner_staff = [f"{u['accountName']}@partner.{self.domain}" for u in self.users[:5]]

    def public_ip(self) -> str:
        rng = self.rng
        first = rng.choice((20, 40, 51, 185, 45, 91, 103))
        return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def story(self, template: Template, at: int) -> Story:
        return Story(self, template, at)

    def hunting_queries(self, alerts: list[dict[str, Any]]) -> list[dict[str, str]]:
        hosts = sorted({e["hostName"] for a in alerts for e in a["evidence"] if "hostName" in e})
        queries = []
        if hosts:
            queries.append(
                {
                    "kqlText": f'DeviceProcessEvents | where DeviceName in~ ("{hosts[0]}") '
                    "| where Timestamp > ago(7d) | summarize count() by FileName"
                }
            )
        if self.rng.random() < 0.5:
            queries.append(
                {
                    "kqlText": "AlertEvidence | where AlertId in ("
                    + ", ".join(f'"{a["id"]}"' for a in alerts[:3])
                    + ") | project Timestamp, EntityType, RemoteIP"
                }
            )
        return queries


class Story:
    """The entities of one alert: who, where, what; builds evidence items that agree."""

    def __init__(self, world: World, template: Template, at: int) -> None:
        rng = world.rng
        self.world = world
        self.rng = rng
        self.template = template
        self.at = at
        self.user = rng.choice(world.users)
        self.device = rng.choice(world.devices)
        country = rng.choice(COUNTRIES)
        self.country = country
        self.ip = world.public_ip()
        self.url = rng.choice(URLS)
        file_name, folder, publisher = rng.choice(FILES)
        self.file = (file_name, folder.format(account=self.user["accountName"]), publisher)
        self.values = {
            "host": self.device["hostName"],
            "account": self.user["accountName"],
            "upn": self.user["userPrincipalName"],
            "ip": self.ip,
        }

    def fill(self, text: str) -> str:
        return text.format_map(self.values)

    def additional_data(self, template: Template) -> dict[str, Any]:
        if template.service_source == MDE:
            return {"MachineGroup": self.device["rbacGroupName"], "IsRemoteActivity": False}
        if template.service_source == "azureAdIdentityProtection":
            return {"RiskLevel": self.rng.choice(("low", "medium", "high")), "IpAddress": self.ip}
        return {}

    # -- shared pieces --

    def base(
        self, kind: str, roles: tuple[str, ...] = (), detailed: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        rng = self.rng
        remediation = rng.choice(
            ("none", "none", "none", "remediated", "prevented", "blocked", "notFound")
        )
        if rng.random() < 0.05:
            remediation = rng.choice(
                (
                    "active",
                    "pendingApproval",
                    "declined",
                    "unremediated",
                    "running",
                    "partiallyRemediated",
                )
            )
        return {
            "@odata.type": SECURITY + kind,
            "createdDateTime": format_datetime(self.at + rng.randint(0, 5 * MINUTE)),
            "verdict": rng.choice(
                ("suspicious", "suspicious", "malicious", "noThreatsFound", "unknown")
            ),
            "remediationStatus": remediation,
            "remediationStatusDetails": None,
            "roles": list(roles),
            "detailedRoles": list(detailed),
            "tags": [],
        }

    def account(self) -> dict[str, Any]:
        user = self.user
        return {
            "accountName": user["accountName"],
            "domainName": self.world.netbios,
            "userSid": user["sid"],
            "azureAdUserId": user["id"],
            "userPrincipalName": user["userPrincipalName"],
            "displayName": user["displayName"],
            "tenantId": self.world.tenant_id,
        }

    def file_details(self) -> dict[str, Any]:
        rng = self.rng
        name, folder, publisher = self.file
        return {
            "fileName": name,
            "filePath": folder,
            "filePublisher": publisher,
            "signer": publisher,
            "issuer": "Microsoft Code Signing PCA 2011"
            if publisher == "Microsoft Corporation"
            else None,
            "fileSize": rng.randint(4_000, 9_000_000),
            "sha1": hex_digits(rng, 160),
            "sha256": hex_digits(rng, 256),
            "md5": hex_digits(rng, 128),
            "sha256Ac": None,
        }

    def ip_value(self, address: str | None = None) -> dict[str, Any]:
        code, country, city, state, lat, lon = self.country
        return {
            **self.base("ipEvidence", ("attacker",) if address is None else ()),
            "ipAddress": address or self.ip,
            "countryLetterCode": code,
            "location": {
                "countryName": country,
                "city": city,
                "state": state,
                "latitude": lat,
                "longitude": lon,
            },
            "stream": None,
        }

    def k8s_namespace(self) -> dict[str, Any]:
        return {
            **self.base("kubernetesNamespaceEvidence"),
            "name": self.rng.choice(("payments", "default", "kube-system", "web")),
            "labels": {"team": "platform"},
            "cluster": self.k8s_cluster(),
        }

    def k8s_cluster(self) -> dict[str, Any]:
        return {
            **self.base("kubernetesClusterEvidence"),
            "name": "aks-prod-weu",
            "distribution": "AKS",
            "platform": self.rng.choice(("aks", "eks", "gke", "arc")),
            "version": "1.29.4",
            "cloudResource": self.azure_resource(
                "Microsoft.ContainerService/managedClusters", "aks-prod-weu"
            ),
        }

    def azure_resource(
        self, kind: str = "Microsoft.Compute/virtualMachines", name: str | None = None
    ) -> dict[str, Any]:
        name = name or self.device["hostName"]
        sub = str(uuid.uuid5(uuid.NAMESPACE_DNS, self.world.tenant_id))
        return {
            **self.base("azureResourceEvidence", ("contextual",)),
            "resourceId": f"/subscriptions/{sub}/resourceGroups/rg-prod/providers/{kind}/{name}",
            "resourceName": name,
            "resourceType": kind,
        }

    def image(self) -> dict[str, Any]:
        return {
            **self.base("containerImageEvidence"),
            "imageId": "contosoregistry.azurecr.io/payments/api@sha256:"
            + hex_digits(self.rng, 256),
            "registry": {
                **self.base("containerRegistryEvidence"),
                "registry": "contosoregistry.azurecr.io",
            },
            "digestImage": None,
        }
