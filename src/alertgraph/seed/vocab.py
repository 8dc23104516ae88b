"""The vocabulary of seed data: names, files, URLs, detection templates and the PIM catalogue.

Plain data for :mod:`alertgraph.seed.world` (which turns it into entities and evidence) and
:mod:`alertgraph.seed.records` (which assembles records).
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


MDE, MDE_NAME = "microsoftDefenderForEndpoint", "Microsoft Defender for Endpoint"
MDO, MDO_NAME = "microsoftDefenderForOffice365", "Microsoft Defender for Office 365"
MDI, MDI_NAME = "microsoftDefenderForIdentity", "Microsoft Defender for Identity"
MDCA, MDCA_NAME = "microsoftDefenderForCloudApps", "Microsoft Defender for Cloud Apps"
MDC, MDC_NAME = "microsoftDefenderForCloud", "Microsoft Defender for Cloud"
ISOLATE = "Isolate the device, collect an investigation package and review the process tree."
RESET = "Reset the user's password, revoke sessions and review recent sign-ins and mailbox rules."

TEMPLATES: tuple[Template, ...] = (
    Template(
        MDE,
        ("microsoftDefenderForEndpoint", "automatedInvestigation"),
        MDE_NAME,
        "Suspicious PowerShell command line",
        ("Execution",),
        ("T1059.001", "T1027"),
        ("device", "process", "user", "file"),
        "A PowerShell process with an encoded command ran on {host} under {account}.",
        ISOLATE,
        automated=True,
    ),
    Template(
        MDE,
        ("antivirus",),
        MDE_NAME,
        "'Mimikatz' credential theft tool was prevented",
        ("CredentialAccess",),
        ("T1003.001",),
        ("malware", "file", "device", "process", "user"),
        "Antivirus blocked a credential theft tool on {host}.",
        ISOLATE,
        threat="HackTool:Win32/Mimikatz",
        threat_family="Mimikatz",
        automated=True,
    ),
    Template(
        MDE,
        ("microsoftDefenderForEndpoint",),
        MDE_NAME,
        "Ransomware behavior detected in the file system",
        ("Impact",),
        ("T1486", "T1490"),
        ("device", "process", "file", "user"),
        "Files on {host} were renamed and encrypted in bulk; shadow copies were deleted.",
        ISOLATE,
        system_tags=("Ransomware",),
        automated=True,
    ),
    Template(
        MDE,
        ("microsoftDefenderForEndpoint",),
        MDE_NAME,
        "Anomaly detected in ASEP registry",
        ("Persistence",),
        ("T1547.001", "T1112"),
        ("registryValue", "registryKey", "process", "device"),
        "A Run key on {host} was set to start an unsigned binary at logon.",
        ISOLATE,
    ),
    Template(
        MDE,
        ("microsoftDefenderForEndpoint", "customTi"),
        MDE_NAME,
        "Connection to a custom network indicator",
        ("CommandAndControl",),
        ("T1071.001",),
        ("networkConnection", "device", "ip", "url"),
        "{host} connected to {ip}, which matches a custom indicator of compromise.",
        ISOLATE,
    ),
    Template(
        MDE,
        ("smartScreen",),
        MDE_NAME,
        "Suspicious URL opened in a browser",
        ("InitialAccess",),
        ("T1566.002", "T1204.001"),
        ("url", "device", "user"),
        "SmartScreen flagged a URL that {account} opened on {host}.",
        "Block the URL and check whether credentials were entered.",
    ),
    Template(
        MDE,
        ("microsoftThreatExperts",),
        MDE_NAME,
        "Hands-on-keyboard attack by a known activity group",
        ("LateralMovement", "Discovery"),
        ("T1021.002", "T1087.002"),
        ("device", "process", "user", "hostLogonSession"),
        "Defender Experts observed interactive attacker activity on {host}.",
        ISOLATE,
        actor="Storm-0501",
        system_tags=("Defender Experts",),
    ),
    Template(
        MDE,
        ("microsoftDefenderForEndpoint",),
        MDE_NAME,
        "Suspicious LSASS memory access",
        ("CredentialAccess",),
        ("T1003.001",),
        ("process", "file", "device", "user"),
        "A dump of LSASS memory was written to disk on {host}.",
        ISOLATE,
    ),
    Template(
        MDO,
        ("microsoftDefenderForOffice365",),
        MDO_NAME,
        "Email messages containing malicious URL removed after delivery",
        ("InitialAccess",),
        ("T1566.002",),
        ("analyzedMessage", "mailCluster", "mailbox", "url"),
        "Messages with a phishing URL were delivered to {upn} and removed by ZAP.",
        "Review who clicked the URL and reset affected credentials.",
        id_prefix="fa",
        policy=True,
        automated=True,
    ),
    Template(
        MDO,
        ("microsoftDefenderForOffice365",),
        MDO_NAME,
        "A potentially malicious URL click was detected",
        ("InitialAccess",),
        ("T1204.001",),
        ("url", "user", "mailbox", "analyzedMessage"),
        "{account} clicked a URL that Safe Links later marked malicious.",
        RESET,
        id_prefix="fa",
        policy=True,
        automated=True,
    ),
    Template(
        MDO,
        ("microsoftDefenderForOffice365",),
        MDO_NAME,
        "Suspicious email forwarding activity",
        ("Exfiltration", "Collection"),
        ("T1114.003",),
        ("mailboxConfiguration", "mailbox", "user"),
        "A forwarding rule in {upn}'s mailbox sends mail to an external address.",
        RESET,
        id_prefix="fa",
        policy=True,
    ),
    Template(
        MDO,
        ("microsoftDefenderForOffice365",),
        MDO_NAME,
        "Email reported by user as malware or phish",
        ("InitialAccess",),
        ("T1566.001",),
        ("submissionMail", "analyzedMessage", "mailbox"),
        "{upn} reported a message as phishing.",
        id_prefix="fa",
        policy=True,
    ),
    Template(
        MDO,
        ("microsoftDefenderForOffice365",),
        MDO_NAME,
        "Malicious Teams message removed after delivery",
        ("InitialAccess",),
        ("T1566.003",),
        ("teamsMessage", "user", "url"),
        "A Teams chat message with a malicious link reached {account}.",
        id_prefix="fa",
    ),
    Template(
        MDI,
        ("microsoftDefenderForIdentity",),
        MDI_NAME,
        "Suspected DCSync attack (replication of directory services)",
        ("CredentialAccess",),
        ("T1003.006",),
        ("device", "user", "activeDirectoryDomain"),
        "{account} on {host} requested replication of directory secrets from a domain controller.",
        RESET,
        id_prefix="aa",
    ),
    Template(
        MDI,
        ("microsoftDefenderForIdentity",),
        MDI_NAME,
        "Suspicious additions to sensitive groups",
        ("Persistence", "PrivilegeEscalation"),
        ("T1098",),
        ("securityGroup", "user", "device"),
        "{account} was added to a sensitive on-premises group.",
        id_prefix="aa",
    ),
    Template(
        MDI,
        ("microsoftDefenderForIdentity",),
        MDI_NAME,
        "Suspected Kerberos SPN exposure",
        ("CredentialAccess",),
        ("T1558.003",),
        ("user", "device", "ip"),
        "{host} enumerated service principal names and requested many service tickets.",
        id_prefix="aa",
    ),
    Template(
        MDCA,
        ("cloudAppSecurity",),
        MDCA_NAME,
        "Impossible travel activity",
        ("InitialAccess",),
        ("T1078",),
        ("user", "ip", "cloudApplication", "cloudLogonSession"),
        "{account} signed in from two distant countries within a short time.",
        RESET,
        id_prefix="ca",
    ),
    Template(
        MDCA,
        ("cloudAppSecurity",),
        MDCA_NAME,
        "Mass download by a single user",
        ("Exfiltration",),
        ("T1530",),
        ("user", "cloudApplication", "ip", "file"),
        "{account} downloaded an unusual number of files from SharePoint.",
        id_prefix="ca",
    ),
    Template(
        "azureAdIdentityProtection",
        ("azureAdIdentityProtection",),
        "Microsoft Entra ID Protection",
        "Unfamiliar sign-in properties",
        ("InitialAccess",),
        ("T1078.004",),
        ("user", "ip", "cloudLogonRequest"),
        "A sign-in for {account} came from an unfamiliar location and browser.",
        RESET,
        id_prefix="ad",
    ),
    Template(
        "azureAdIdentityProtection",
        ("azureAdIdentityProtection",),
        "Microsoft Entra ID Protection",
        "Anonymous IP address",
        ("InitialAccess",),
        ("T1090.003",),
        ("user", "ip", "cloudLogonSession"),
        "{account} signed in through an anonymizing proxy.",
        RESET,
        id_prefix="ad",
    ),
    Template(
        "microsoftAppGovernance",
        ("appGovernancePolicy", "appGovernanceDetection"),
        "App Governance",
        "App with suspicious OAuth scope made Graph calls",
        ("CredentialAccess", "Collection"),
        ("T1528",),
        ("oauthApplication", "servicePrincipal", "user"),
        "A newly consented app read mail and files with delegated permissions.",
        id_prefix="ma",
    ),
    Template(
        "dataLossPrevention",
        ("microsoftDataLossPrevention",),
        "Microsoft Purview",
        "DLP policy match: credit card numbers shared externally",
        ("Exfiltration",),
        (),
        ("mailbox", "analyzedMessage", "file"),
        "{upn} sent content with credit card numbers outside the organization.",
        id_prefix="dl",
        policy=True,
    ),
    Template(
        "microsoft365Defender",
        ("microsoft365Defender", "customDetection"),
        "Microsoft Defender XDR",
        "Multi-stage attack: compromised account used for lateral movement",
        ("LateralMovement", "CredentialAccess"),
        ("T1021.001", "T1550.002"),
        ("user", "device", "ip", "hostLogonSession"),
        "Activity across identity and endpoint signals shows {account} moving to {host}.",
        id_prefix="ed",
    ),
    Template(
        "microsoft365Defender",
        ("customDetection",),
        "Microsoft Defender XDR",
        "Custom detection: rare LOLBin downloading content",
        ("CommandAndControl",),
        ("T1105",),
        ("process", "device", "url", "fileHash"),
        "certutil.exe on {host} downloaded a file from the internet.",
        id_prefix="ed",
    ),
    Template(
        MDC,
        ("microsoftDefenderForStorage",),
        MDC_NAME,
        "Access from a suspicious IP to a storage blob container",
        ("Collection",),
        ("T1530",),
        ("blobContainer", "blob", "azureResource", "ip", "sasToken"),
        "Blobs were listed and read with a SAS token from {ip}.",
        id_prefix="dc",
    ),
    Template(
        MDC,
        ("microsoftDefenderForContainers",),
        MDC_NAME,
        "Privileged container detected",
        ("PrivilegeEscalation",),
        ("T1611",),
        (
            "container",
            "kubernetesPod",
            "containerImage",
            "kubernetesCluster",
            "kubernetesNamespace",
            "containerRegistry",
        ),
        "A pod started a privileged container with host access.",
        id_prefix="dc",
    ),
    Template(
        MDC,
        ("microsoftDefenderForContainers",),
        MDC_NAME,
        "Suspicious access to Kubernetes secrets by a service account",
        ("CredentialAccess",),
        ("T1552.007",),
        (
            "kubernetesServiceAccount",
            "kubernetesSecret",
            "kubernetesController",
            "kubernetesService",
            "kubernetesNamespace",
        ),
        "A service account listed secrets in namespaces it never used before.",
        id_prefix="dc",
    ),
    Template(
        MDC,
        ("microsoftDefenderForServers",),
        MDC_NAME,
        "Digital currency mining related behavior detected",
        ("Impact",),
        ("T1496",),
        ("process", "azureResource", "amazonResource", "googleCloudResource", "networkConnection"),
        "Processes on a cloud VM behave like a cryptocurrency miner.",
        id_prefix="dc",
    ),
    Template(
        MDC,
        (
            "microsoftDefenderForKeyVault",
            "microsoftDefenderForResourceManager",
            "microsoftDefenderForDatabases",
            "microsoftDefenderForAppService",
            "microsoftDefenderForApiManagement",
            "microsoftDefenderForDNS",
            "microsoftDefenderForNetwork",
            "microsoftDefenderForCloud",
        ),
        MDC_NAME,
        "Unusual access to a cloud resource from a suspicious IP",
        ("Discovery",),
        ("T1580",),
        ("azureResource", "ip", "dns"),
        "A resource was accessed from {ip}.",
        id_prefix="dc",
    ),
    Template(
        MDC,
        ("microsoftDefenderForIoT",),
        "Microsoft Defender for IoT",
        "Unauthorized PLC programming",
        ("Impact",),
        ("T0843",),
        ("ioTDevice", "nic", "ip"),
        "A controller received a program download from an unauthorized device.",
        id_prefix="dc",
    ),
    Template(
        MDC,
        ("microsoftDefenderForCloud",),
        "Microsoft Defender for Cloud DevOps security",
        "Suspicious clone of a private repository",
        ("Collection",),
        ("T1213.003",),
        ("gitHubRepo", "gitHubUser", "gitHubOrganization", "ip"),
        "A private repository was cloned from an unusual location.",
        id_prefix="dc",
    ),
    Template(
        "microsoftSentinel",
        (
            "scheduledAlerts",
            "nrtAlerts",
            "microsoftSentinel",
            "builtInMl",
            "microsoftDefenderThreatIntelligenceAnalytics",
        ),
        "Azure Sentinel",
        "Failed logon attempts by valid accounts within 10 minutes",
        ("CredentialAccess",),
        ("T1110.001",),
        ("user", "hostLogonSession", "device", "ip"),
        "Many failed logons for {account} on {host}.",
        id_prefix="sn",
    ),
    Template(
        "microsoftInsiderRiskManagement",
        ("microsoftInsiderRiskManagement",),
        "Microsoft Purview Insider Risk Management",
        "Data leak by a departing user",
        ("Exfiltration",),
        (),
        ("user", "file", "cloudApplication"),
        "{account} copied sensitive files shortly before their resignation date.",
        id_prefix="ir",
    ),
    Template(
        "microsoftThreatIntelligence",
        ("microsoftThreatIntelligence", "customTi"),
        "Microsoft Defender Threat Intelligence",
        "Activity from an IP address tied to a threat actor",
        ("CommandAndControl",),
        ("T1071",),
        ("ip", "user", "device"),
        "{host} talked to infrastructure attributed to a tracked actor.",
        id_prefix="ti",
        actor="Storm-0558",
    ),
    Template(
        "microsoftSecurityForAI",
        ("microsoftDefenderForAIServices", "securityCopilot"),
        "Microsoft Defender for AI",
        "Jailbreak attempt on an AI agent was blocked",
        ("DefenseEvasion",),
        ("AML.T0054",),
        ("aiAgent", "user", "ip"),
        "{account} sent prompts that try to override an agent's instructions.",
        id_prefix="ai",
    ),
    Template(
        "unknown",
        ("unknown", "manual"),
        "Third-party detection",
        "Alert forwarded from a partner tool",
        ("SuspiciousActivity",),
        (),
        ("fileHash", "device"),
        "An alert imported from an external tool about {host}.",
        id_prefix="xa",
    ),
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


PIM_KINDS: tuple[PimKind, ...] = (
    PimKind(
        "InvalidLicenseAlert",
        "The organization doesn't have Azure AD Premium P2",
        "high",
        False,
        False,
        "invalidLicenseAlertConfiguration",
        "invalidLicenseAlertIncident",
        "Privileged Identity Management needs a Microsoft Entra ID P2 licence in the tenant.",
        "Without the licence, PIM features such as approval and time-bound activation stop.",
        "Buy or renew Microsoft Entra ID P2 (or a suite that includes it) for the tenant.",
        "Track licence expiry dates and renew before they lapse.",
        {},
    ),
    PimKind(
        "NoMfaOnRoleActivationAlert",
        "Roles don't require multi-factor authentication for activation",
        "medium",
        True,
        False,
        "noMfaOnRoleActivationAlertConfiguration",
        "noMfaOnRoleActivationAlertIncident",
        "Some privileged roles can be activated without multi-factor authentication.",
        "A stolen password alone is enough to obtain the role's permissions.",
        "Open the role settings in PIM and require multi-factor authentication on activation.",
        "Require MFA for every privileged role when it is created or onboarded.",
        {},
    ),
    PimKind(
        "RedundantAssignmentAlert",
        "Eligible administrators aren't activating their privileged role",
        "low",
        True,
        True,
        "redundantAssignmentAlertConfiguration",
        "redundantAssignmentAlertIncident",
        "Users have been eligible for a role for {0} days without activating it ({1} users).",
        "Unused eligible assignments widen the attack surface for no benefit.",
        "Review the listed users and remove the eligible assignments they do not need.",
        "Run regular access reviews of eligible role assignments.",
        {"duration": "P30D"},
    ),
    PimKind(
        "RolesAssignedOutsidePimAlert",
        "Roles are being assigned outside of Privileged Identity Management",
        "high",
        True,
        False,
        "rolesAssignedOutsidePrivilegedIdentityManagementAlertConfiguration",
        "rolesAssignedOutsidePrivilegedIdentityManagementAlertIncident",
        "Privileged role assignments were made directly, bypassing PIM.",
        "Assignments made outside PIM escape approval, justification and audit in PIM.",
        "Review the listed assignments and convert them to eligible PIM assignments.",
        "Grant privileged roles only through PIM.",
        {},
    ),
    PimKind(
        "SequentialActivationRenewalsAlert",
        "Roles are being activated too frequently",
        "medium",
        False,
        True,
        "sequentialActivationRenewalsAlertConfiguration",
        "sequentialActivationRenewalsAlertIncident",
        "A user activated the same privileged role many times in a short period.",
        "Repeated activations can hide that a role is used permanently, or that an account "
        "was taken over.",
        "Check with the user why the role is activated so often and adjust the activation window.",
        "Set an activation duration that fits the work done with the role.",
        {"sequentialActivationCounterThreshold": 10, "timeIntervalBetweenActivations": "PT1H"},
    ),
    PimKind(
        "StaleSignInAlert",
        "Potential stale accounts in a privileged role",
        "medium",
        True,
        True,
        "staleSignInAlertConfiguration",
        "staleSignInAlertIncident",
        "Accounts holding a privileged role have not signed in recently.",
        "Dormant privileged accounts are attractive targets and rarely noticed when abused.",
        "Confirm whether each listed account still needs the role; remove it otherwise.",
        "Review privileged accounts regularly and disable accounts of people who left.",
        {"duration": "P30D"},
    ),
    PimKind(
        "TooManyGlobalAdminsAssignedToTenantAlert",
        "There are too many global administrators",
        "low",
        True,
        True,
        "tooManyGlobalAdminsAssignedToTenantAlertConfiguration",
        "tooManyGlobalAdminsAssignedToTenantAlertIncident",
        "The number or share of Global Administrators is above the configured threshold.",
        "Every Global Administrator can change anything in the tenant; each one adds risk.",
        "Move Global Administrators to less privileged roles that cover what they do.",
        "Keep Global Administrator to a few break-glass and named accounts.",
        {"globalAdminCountThreshold": 5, "percentageOfGlobalAdminsOutOfRolesThreshold": 10},
    ),
)


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
