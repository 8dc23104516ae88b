"""The vocabulary of seed data: names, files, URLs, and the shapes of a detection and a PIM alert.

The catalogues themselves are data modules beside it (:mod:`.detections`, :mod:`.pim_catalogue`);
:mod:`.world` turns the vocabulary into entities and :mod:`.records` assembles records.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from alertgraph.store.codec import TICKS_PER_SECOND

MINUTE = 60 * TICKS_PER_SECOND
DAY = 1440 * MINUTE
SECURITY = "#microsoft.graph.security."

ANALYSTS = (
    "secops.lead@contoso.com",
    "tier1.analyst@contoso.com",
    "tier2.analyst@contoso.com",
    "threat.hunter@contoso.com",
    "API-App:soar-playbooks",
)

#: Entra built-in roles with their (stable, public) role template ids.
ROLES: tuple[tuple[str, str], ...] = (
    ("Global Administrator", "62e90394-69f5-4237-9190-012177145e10"),
    ("Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"),
    ("Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d"),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    ("Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"),
    ("SharePoint Administrator", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"),
    ("Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"),
    ("Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7"),
    ("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8"),
    ("Conditional Access Administrator", "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"),
    ("Intune Administrator", "3a2c62db-5318-420d-8d74-23affee5d9d5"),
    ("Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"),
)

FIRST = (
    "Adele",
    "Alex",
    "Diego",
    "Grady",
    "Henrietta",
    "Isaiah",
    "Johanna",
    "Joni",
    "Lee",
    "Lidia",
    "Lynne",
    "Megan",
    "Miriam",
    "Nestor",
    "Patti",
    "Pradeep",
    "Sakura",
    "Wei",
    "Amara",
    "Tomasz",
)
LAST = (
    "Vance",
    "Wilber",
    "Siciliani",
    "Archie",
    "Mueller",
    "Langer",
    "Lauer",
    "Sherman",
    "Gu",
    "Holloway",
    "Robbins",
    "Bowen",
    "Hamilton",
    "Varga",
    "Fernandez",
    "Gupta",
    "Tanaka",
    "Chen",
    "Okafor",
    "Nowak",
)
DOMAINS = ("contoso.com", "fabrikam.com", "woodgrovebank.com", "northwindtraders.com")

FILES: tuple[tuple[str, str, str | None], ...] = (
    # name, folder, publisher (None: unsigned)
    ("powershell.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0", "Microsoft Corporation"),
    ("rundll32.exe", "C:\\Windows\\System32", "Microsoft Corporation"),
    ("mimikatz.exe", "C:\\Users\\Public\\Downloads", None),
    ("invoice_8841.pdf.exe", "C:\\Users\\{account}\\AppData\\Local\\Temp", None),
    ("svchost32.exe", "C:\\ProgramData\\Intel", None),
    ("procdump64.exe", "C:\\Tools\\Sysinternals", "Microsoft Corporation"),
    ("AnyDesk.exe", "C:\\Users\\{account}\\Downloads", "philandro Software GmbH"),
    ("xmrig", "/tmp/.cache", None),
    ("payload.dll", "C:\\Windows\\Temp", None),
    ("Q3_Payroll.xlsm", "C:\\Users\\{account}\\Documents", None),
)
COMMAND_LINES = (
    "powershell.exe -nop -w hidden -enc "
    "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
    "rundll32.exe C:\\Windows\\Temp\\payload.dll,DllRegisterServer",
    'mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords" exit',
    "procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\lsass.dmp",
    "cmd.exe /c vssadmin delete shadows /all /quiet",
    "reg.exe add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v Updater "
    "/d C:\\ProgramData\\Intel\\svchost32.exe",
    "/tmp/.cache/xmrig -o pool.minexmr.example:4444 --donate-level 1",
)
URLS = (
    "https://login-microsoftonline.com-secure.example/owa/auth",
    "http://cdn-update.example.net/files/invoice_8841.zip",
    "https://sharepoint-docs.example.org/s/Q3-bonus",
    "http://185.220.101.4/gate.php",
    "https://storage-sync.example.io/upload",
)
COUNTRIES = (
    ("US", "United States", "Seattle", "Washington", 47.61, -122.33),
    ("NL", "Netherlands", "Amsterdam", "North Holland", 52.37, 4.9),
    ("RU", "Russia", "Moscow", "Moscow", 55.75, 37.62),
    ("NG", "Nigeria", "Lagos", "Lagos", 6.52, 3.38),
    ("BR", "Brazil", "Sao Paulo", "Sao Paulo", -23.55, -46.63),
    ("DE", "Germany", "Frankfurt", "Hesse", 50.11, 8.68),
)


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hex_digits(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


#: the products that raise alerts: serviceSource value and display name
MDE, MDE_NAME = "microsoftDefenderForEndpoint", "Microsoft Defender for Endpoint"
MDO, MDO_NAME = "microsoftDefenderForOffice365", "Microsoft Defender for Office 365"
MDI, MDI_NAME = "microsoftDefenderForIdentity", "Microsoft Defender for Identity"
MDCA, MDCA_NAME = "microsoftDefenderForCloudApps", "Microsoft Defender for Cloud Apps"
MDC, MDC_NAME = "microsoftDefenderForCloud", "Microsoft Defender for Cloud"


# --- detection templates --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    """One kind of detection: what a product says about it and which evidence it carries."""

    service_source: str
    detection_sources: tuple[str, ...]
    product: str
    title: str
    categories: tuple[str, ...]
    mitre: tuple[str, ...]
    evidence: tuple[str, ...]
    description: str
    recommended_actions: str | None = None
    id_prefix: str = "da"
    actor: str | None = None
    threat: str | None = None
    threat_family: str | None = None
    system_tags: tuple[str, ...] = ()
    policy: bool = False
    automated: bool = False
    detector_id: str = field(init=False)
    policy_id: str | None = field(init=False)

    def __post_init__(self) -> None:
        key = uuid.uuid5(uuid.NAMESPACE_URL, "alertgraph:" + self.title)
        object.__setattr__(self, "detector_id", str(key))
        object.__setattr__(
            self, "policy_id", str(uuid.uuid5(key, "policy")) if self.policy else None
        )

    def investigation(self, rng: random.Random, status: str) -> str | None:
        """investigationState for products with automated investigation (AIR), else None."""
        if not self.automated:
            return None
        if status == "resolved":
            return rng.choice(
                (
                    "successfullyRemediated",
                    "benign",
                    "partiallyRemediated",
                    "terminatedByUser",
                    "terminatedBySystem",
                    "failed",
                    "partiallyInvestigated",
                )
            )
        return rng.choice(
            (
                "queued",
                "running",
                "pendingApproval",
                "pendingResource",
                "unsupportedAlertType",
                "unsupportedOs",
                "preexistingAlert",
                "suppressedAlert",
                "innerFailure",
                "terminated",
                "unknown",
            )
        )


# --- PIM alert catalogue (spec 3.1) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PimKind:
    name: str
    display_name: str
    severity: str
    is_remediatable: bool
    is_configurable: bool
    configuration_type: str
    incident_type: str
    description: str
    security_impact: str
    mitigation_steps: str
    how_to_prevent: str
    settings: dict[str, Any]


def comment_text(rng: random.Random, template: Template, status: str) -> str:
    if status == "resolved":
        return rng.choice(
            (
                "Confirmed and remediated, closing.",
                "Benign: known admin tooling.",
                f"Closed after review of '{template.title}'.",
            )
        )
    return rng.choice(
        (
            "Looking into this now.",
            "Asked the device owner for context.",
            "Correlates with the phishing wave from this morning.",
            "Waiting for the investigation package.",
        )
    )
