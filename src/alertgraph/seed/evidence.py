"""One builder per evidence type: Graph JSON evidence items that agree with one alert's story.

Every builder returns JSON that the codec accepts, with ``@odata.type`` on each item and the
non-nullable evidence members always present. Stories come from :mod:`.world`; used by
:mod:`.records`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alertgraph.seed.vocab import COMMAND_LINES, DAY, MINUTE, guid, hex_digits
from alertgraph.seed.world import Story
from alertgraph.store.codec import TICKS_PER_SECOND, format_datetime

EvidenceBuilder = Callable[[Story], dict[str, Any]]


def evidence_items(story: Story, kinds: tuple[str, ...], count: int) -> list[dict[str, Any]]:
    """``count`` evidence items: each of ``kinds`` in order, then random ones of them."""
    chosen = list(kinds[:count])
    while len(chosen) < count:
        chosen.append(story.rng.choice(kinds))
    return [BUILDERS[kind](story) for kind in chosen]


def _device(s: Story) -> dict[str, Any]:
    d, rng = s.device, s.rng
    return {
        **s.base("deviceEvidence", ("compromised",), ("PrimaryDevice",)),
        "hostName": d["hostName"],
        "deviceDnsName": d["deviceDnsName"],
        "ntDomain": s.world.netbios,
        "dnsDomain": s.world.domain,
        "osPlatform": d["osPlatform"],
        "version": d["version"],
        "osBuild": d["osBuild"],
        "mdeDeviceId": d["mdeDeviceId"],
        "azureAdDeviceId": d["azureAdDeviceId"],
        "firstSeenDateTime": format_datetime(s.at - rng.randint(30, 900) * DAY),
        "healthStatus": rng.choice(
            (
                "active",
                "active",
                "inactive",
                "impairedCommunication",
                "noSensorData",
                "noSensorDataImpairedCommunication",
                "unknown",
            )
        ),
        "onboardingStatus": rng.choice(
            ("onboarded", "onboarded", "canBeOnboarded", "unsupported", "insufficientInfo")
        ),
        "riskScore": rng.choice(("none", "informational", "low", "medium", "high")),
        "defenderAvStatus": rng.choice(
            (
                "updated",
                "updated",
                "notUpdated",
                "disabled",
                "notReporting",
                "notSupported",
                "unknown",
            )
        ),
        "rbacGroupId": rng.randint(1, 40),
        "rbacGroupName": d["rbacGroupName"],
        "lastIpAddress": d["ip"],
        "lastExternalIpAddress": s.world.public_ip(),
        "ipInterfaces": [d["ip"], "fe80::" + hex_digits(rng, 16)],
        "loggedOnUsers": [{"accountName": s.user["accountName"], "domainName": s.world.netbios}],
        "resourceAccessEvents": [],
        "vmMetadata": (
            {
                "cloudProvider": "azure",
                "vmId": guid(rng),
                "subscriptionId": guid(rng),
                "resourceId": f"/subscriptions/{guid(rng)}/resourceGroups/rg-servers/providers/"
                f"Microsoft.Compute/virtualMachines/{d['hostName']}",
            }
            if d["hostName"].startswith("srv")
            else None
        ),
    }


def _file(s: Story) -> dict[str, Any]:
    return {
        **s.base("fileEvidence", ("contextual",)),
        "fileDetails": s.file_details(),
        "mdeDeviceId": s.device["mdeDeviceId"],
        "detectionStatus": s.rng.choice(("detected", "blocked", "prevented")),
    }


def _process(s: Story) -> dict[str, Any]:
    rng = s.rng
    start = s.at - rng.randint(1, 600) * TICKS_PER_SECOND
    return {
        **s.base("processEvidence", ("attacker",) if rng.random() < 0.3 else ()),
        "processId": rng.randint(400, 65_000),
        "parentProcessId": rng.randint(400, 65_000),
        "processCommandLine": rng.choice(COMMAND_LINES),
        "processCreationDateTime": format_datetime(start),
        "parentProcessCreationDateTime": format_datetime(
            start - rng.randint(1, 3600) * TICKS_PER_SECOND
        ),
        "detectionStatus": rng.choice(("detected", "blocked", "prevented")),
        "mdeDeviceId": s.device["mdeDeviceId"],
        "imageFile": s.file_details(),
        "parentProcessImageFile": {
            "fileName": "explorer.exe",
            "filePath": "C:\\Windows",
            "fileSize": 4_960_000,
            "filePublisher": "Microsoft Corporation",
        },
        "userAccount": s.account(),
    }


def _user(s: Story) -> dict[str, Any]:
    return {
        **s.base("userEvidence", ("compromised",) if s.rng.random() < 0.5 else (), ("Impacted",)),
        "userAccount": s.account(),
        "stream": None,
    }


def _mailbox(s: Story) -> dict[str, Any]:
    return {
        **s.base("mailboxEvidence", (), ("Recipient",)),
        "displayName": s.user["displayName"],
        "primaryAddress": s.user["userPrincipalName"],
        "upn": s.user["userPrincipalName"],
        "userAccount": s.account(),
    }


def _message(s: Story) -> dict[str, Any]:
    rng = s.rng
    sender_domain = rng.choice(
        ("billing-notice.example", "docu-share.example", "outlook-verify.example")
    )
    return {
        **s.base("analyzedMessageEvidence"),
        "networkMessageId": guid(rng),
        "internetMessageId": f"<{hex_digits(rng, 64)}@{sender_domain}>",
        "subject": rng.choice(
            (
                "Action required: invoice overdue",
                "Your mailbox is almost full",
                "Q3 bonus letter",
                "Shared document: Payroll.xlsx",
            )
        ),
        "language": "en",
        "senderIp": s.ip,
        "recipientEmailAddress": s.user["userPrincipalName"],
        "receivedDateTime": format_datetime(s.at - rng.randint(1, 120) * MINUTE),
        "antiSpamDirection": "Inbound",
        "deliveryAction": rng.choice(("Delivered", "Blocked", "Junked", "Replaced")),
        "deliveryLocation": rng.choice(
            ("Inbox/folder", "Junk folder", "Quarantine", "Deleted items")
        ),
        "attachmentsCount": rng.randint(0, 2),
        "urlCount": 1,
        "urls": [s.url],
        "threats": ["Phish"],
        "threatDetectionMethods": ["URL detonation reputation"],
        "p1Sender": {
            "emailAddress": f"noreply@{sender_domain}",
            "domainName": sender_domain,
            "displayName": None,
        },
        "p2Sender": {
            "emailAddress": f"accounts@{sender_domain}",
            "domainName": sender_domain,
            "displayName": "Accounts Payable",
        },
        "urn": f"urn:MailEntity:{hex_digits(rng, 128)}",
    }


def _mail_cluster(s: Story) -> dict[str, Any]:
    rng = s.rng
    ids = [guid(rng) for _ in range(rng.randint(2, 4))]
    return {
        **s.base("mailClusterEvidence"),
        "clusterBy": "Subject;SenderIp",
        "clusterByValue": f"Action required: invoice overdue;{s.ip}",
        "emailCount": len(ids) * rng.randint(1, 30),
        "networkMessageIds": ids,
        "query": f'(Subject:"Action required: invoice overdue") AND (SenderIp:{s.ip})',
        "urn": f"urn:MailClusterEntity:{hex_digits(rng, 128)}",
    }


def _mailbox_configuration(s: Story) -> dict[str, Any]:
    return {
        **s.base("mailboxConfigurationEvidence"),
        "configurationId": guid(s.rng),
        "configurationType": s.rng.choice(
            ("mailForwardingRule", "userInboxRule", "owaSettings", "ewsSettings", "mailDelegation")
        ),
        "displayName": "Forward to archive",
        "externalDirectoryObjectId": s.user["id"],
        "mailboxPrimaryAddress": s.user["userPrincipalName"],
        "upn": s.user["userPrincipalName"],
    }


def _submission(s: Story) -> dict[str, Any]:
    rng = s.rng
    return {
        **s.base("submissionMailEvidence"),
        "networkMessageId": guid(rng),
        "recipient": s.user["userPrincipalName"],
        "reportType": rng.choice(("Phish", "Junk", "Malware")),
        "sender": "accounts@billing-notice.example",
        "senderIp": s.ip,
        "subject": "Action required: invoice overdue",
        "submissionDateTime": format_datetime(s.at - rng.randint(1, 60) * MINUTE),
        "submissionId": guid(rng),
        "submitter": s.user["userPrincipalName"],
    }


def _teams(s: Story) -> dict[str, Any]:
    rng = s.rng
    url = {**s.base("urlEvidence"), "url": s.url}
    return {
        **s.base("teamsMessageEvidence"),
        "messageId": str(rng.randint(10**12, 10**13)),
        "threadId": f"19:{hex_digits(rng, 128)}@thread.v2",
        "threadType": "chat",
        "channelId": None,
        "groupId": None,
        "campaignId": guid(rng) if rng.random() < 0.3 else None,
        "deliveryAction": rng.choice(("delivered", "blocked", "replaced", "deliveredAsSpam")),
        "deliveryLocation": rng.choice(("teams", "quarantine", "failed")),
        "isExternal": True,
        "isOwned": False,
        "messageDirection": rng.choice(("inbound", "intraorg", "outbound")),
        "owningTenantId": guid(rng),
        "parentMessageId": None,
        "receivedDateTime": format_datetime(s.at - rng.randint(1, 60) * MINUTE),
        "lastModifiedDateTime": format_datetime(s.at),
        "recipients": [s.user["userPrincipalName"]],
        "suspiciousRecipients": [s.user["userPrincipalName"]],
        "senderFromAddress": "it-support@helpdesk-external.example",
        "senderIP": s.ip,
        "sourceAppName": "Teams",
        "sourceId": None,
        "subject": "Urgent: verify your account",
        "urls": [url],
        "files": [],
    }


def _url(s: Story) -> dict[str, Any]:
    return {**s.base("urlEvidence", ("contextual",)), "url": s.url}


def _ip(s: Story) -> dict[str, Any]:
    return s.ip_value()


def _network(s: Story) -> dict[str, Any]:
    rng = s.rng
    source = s.ip_value(s.device["ip"])
    return {
        **s.base("networkConnectionEvidence"),
        "sourceAddress": source,
        "sourcePort": rng.randint(49152, 65535),
        "destinationAddress": s.ip_value(),
        "destinationPort": rng.choice((443, 80, 4444, 3333, 8080)),
        "protocol": rng.choice(("tcp", "tcp", "udp")),
    }


def _dns(s: Story) -> dict[str, Any]:
    return {
        **s.base("dnsEvidence"),
        "domainName": "cdn-update.example.net",
        "dnsServerIp": s.ip_value("10.0.0.53"),
        "hostIpAddress": s.ip_value(s.device["ip"]),
        "ipAddresses": [s.ip_value()],
    }


def _malware(s: Story) -> dict[str, Any]:
    return {
        **s.base("malwareEvidence"),
        "name": s.template.threat or "Trojan:Win32/Wacatac.B!ml",
        "category": s.rng.choice(("Trojan", "HackTool", "Ransom", "Backdoor")),
        "files": [_file(s)],
        "processes": [],
    }


def _file_hash(s: Story) -> dict[str, Any]:
    algorithm = s.rng.choice(("sha256", "sha1", "md5", "sha256ac", "unknown"))
    bits = {"md5": 128, "sha1": 160}.get(algorithm, 256)
    return {**s.base("fileHashEvidence"), "algorithm": algorithm, "value": hex_digits(s.rng, bits)}


def _registry_key(s: Story) -> dict[str, Any]:
    return {
        **s.base("registryKeyEvidence"),
        "registryHive": "HKEY_CURRENT_USER",
        "registryKey": "Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    }


def _registry_value(s: Story) -> dict[str, Any]:
    return {
        **s.base("registryValueEvidence"),
        "registryHive": "HKEY_CURRENT_USER",
        "registryKey": "Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        "registryValueName": "Updater",
        "registryValue": "C:\\ProgramData\\Intel\\svchost32.exe",
        "registryValueType": "String",
        "mdeDeviceId": s.device["mdeDeviceId"],
    }


def _cloud_app(s: Story) -> dict[str, Any]:
    rng = s.rng
    name, app_id = rng.choice(
        (
            ("Microsoft SharePoint Online", 20892),
            ("Microsoft Exchange Online", 20893),
            ("Microsoft Teams", 28375),
            ("Dropbox", 11627),
        )
    )
    return {
        **s.base("cloudApplicationEvidence"),
        "appId": app_id,
        "saasAppId": app_id,
        "displayName": name,
        "instanceId": 0,
        "instanceName": name,
        "stream": {"name": "Office 365 API"},
    }


def _logon_session(s: Story) -> dict[str, Any]:
    rng = s.rng
    return {
        **s.base("cloudLogonSessionEvidence"),
        "account": _user(s),
        "browser": rng.choice(("Edge 124.0", "Chrome 125.0", "Firefox 126.0")),
        "deviceName": None,
        "operatingSystem": rng.choice(("Windows 10", "macOS", "Android")),
        "previousLogonDateTime": format_datetime(s.at - rng.randint(1, 72) * 60 * MINUTE),
        "protocol": "OAuth2:Authorize",
        "sessionId": guid(rng),
        "startUtcDateTime": format_datetime(s.at - rng.randint(1, 30) * MINUTE),
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
    }


def _logon_request(s: Story) -> dict[str, Any]:
    return {**s.base("cloudLogonRequestEvidence"), "requestId": guid(s.rng)}


def _host_session(s: Story) -> dict[str, Any]:
    rng = s.rng
    start = s.at - rng.randint(5, 300) * MINUTE
    return {
        **s.base("hostLogonSessionEvidence"),
        "account": _user(s),
        "host": _device(s),
        "sessionId": str(rng.randint(10**5, 10**7)),
        "startUtcDateTime": format_datetime(start),
        "endUtcDateTime": format_datetime(start + rng.randint(1, 120) * MINUTE)
        if rng.random() < 0.6
        else None,
    }


def _oauth(s: Story) -> dict[str, Any]:
    return {
        **s.base("oauthApplicationEvidence"),
        "appId": guid(s.rng),
        "displayName": s.rng.choice(
            ("PDF Converter Online", "Mail Sorter Pro", "Calendar Sync Helper")
        ),
        "objectId": guid(s.rng),
        "publisher": "Unverified",
    }


def _service_principal(s: Story) -> dict[str, Any]:
    return {
        **s.base("servicePrincipalEvidence"),
        "appId": guid(s.rng),
        "appOwnerTenantId": guid(s.rng),
        "servicePrincipalName": "PDF Converter Online",
        "servicePrincipalObjectId": guid(s.rng),
        "servicePrincipalType": s.rng.choice(
            ("application", "managedIdentity", "legacy", "unknown")
        ),
        "tenantId": s.world.tenant_id,
    }


def _group(s: Story) -> dict[str, Any]:
    name = s.rng.choice(
        ("Domain Admins", "Enterprise Admins", "Backup Operators", "Account Operators")
    )
    return {
        **s.base("securityGroupEvidence"),
        "displayName": name,
        "friendlyName": name,
        "securityGroupId": guid(s.rng),
        "activeDirectoryObjectGuid": guid(s.rng),
        "distinguishedName": f"CN={name},CN=Users,DC={s.world.domain.replace('.', ',DC=')}",
        "sid": f"S-1-5-21-{s.rng.randint(10**9, 4 * 10**9)}-512",
    }


def _ad_domain(s: Story) -> dict[str, Any]:
    trusted = {
        **s.base("activeDirectoryDomainEvidence"),
        "activeDirectoryDomainName": f"emea.{s.world.domain}",
        "trustedDomains": [],
    }
    return {
        **s.base("activeDirectoryDomainEvidence"),
        "activeDirectoryDomainName": s.world.domain,
        "trustedDomains": [trusted],
    }


def _blob_container(s: Story) -> dict[str, Any]:
    return {
        **s.base("blobContainerEvidence"),
        "name": "backups",
        "url": "https://contosostorage.blob.core.windows.net/backups",
        "storageResource": s.azure_resource("Microsoft.Storage/storageAccounts", "contosostorage"),
    }


def _blob(s: Story) -> dict[str, Any]:
    rng = s.rng
    return {
        **s.base("blobEvidence"),
        "name": "db-2024-05-01.bak",
        "url": "https://contosostorage.blob.core.windows.net/backups/db-2024-05-01.bak",
        "etag": f"0x8DC{hex_digits(rng, 48).upper()}",
        "fileHashes": [
            {"algorithm": "md5", "value": hex_digits(rng, 128)},
            {"algorithm": "sha256", "value": hex_digits(rng, 256)},
        ],
        "blobContainer": _blob_container(s),
    }


def _sas(s: Story) -> dict[str, Any]:
    return {
        **s.base("sasTokenEvidence"),
        "allowedIpAddresses": "0.0.0.0-255.255.255.255",
        "allowedResourceTypes": ["container", "object"],
        "allowedServices": ["blob"],
        "permissions": ["read", "list"],
        "protocol": "https",
        "signatureHash": hex_digits(s.rng, 256),
        "signedWith": "key1",
        "startDateTime": format_datetime(s.at - 3 * DAY),
        "expiryDateTime": format_datetime(s.at + 27 * DAY),
        "storageResource": s.azure_resource("Microsoft.Storage/storageAccounts", "contosostorage"),
    }


def _azure(s: Story) -> dict[str, Any]:
    return s.azure_resource()


def _amazon(s: Story) -> dict[str, Any]:
    account = str(s.rng.randint(10**11, 10**12 - 1))
    instance = f"i-{hex_digits(s.rng, 68)}"
    return {
        **s.base("amazonResourceEvidence"),
        "amazonAccountId": account,
        "amazonResourceId": f"arn:aws:ec2:eu-west-1:{account}:instance/{instance}",
        "resourceName": instance,
        "resourceType": "EC2 Instance",
    }


def _google(s: Story) -> dict[str, Any]:
    project = s.rng.choice(("contoso-analytics", "contoso-web-prod"))
    return {
        **s.base("googleCloudResourceEvidence"),
        "projectId": project,
        "projectNumber": s.rng.randint(10**11, 10**12),
        "location": "europe-west1-b",
        "locationType": s.rng.choice(("zonal", "regional", "global", "unknown")),
        "resourceName": "gke-node-7f3c",
        "resourceType": "compute.googleapis.com/Instance",
        "fullResourceName": f"//compute.googleapis.com/projects/{project}"
        "/zones/europe-west1-b/instances/gke-node-7f3c",
    }


def _container(s: Story) -> dict[str, Any]:
    return {
        **s.base("containerEvidence"),
        "name": "api",
        "containerId": hex_digits(s.rng, 256),
        "image": s.image(),
        "isPrivileged": True,
        "command": ["/bin/sh"],
        "args": ["-c", "mount /dev/sda1 /mnt && chroot /mnt"],
        "pod": None,
    }


def _service_account(s: Story) -> dict[str, Any]:
    return {
        **s.base("kubernetesServiceAccountEvidence"),
        "name": "ci-deployer",
        "namespace": s.k8s_namespace(),
    }


def _pod(s: Story) -> dict[str, Any]:
    return {
        **s.base("kubernetesPodEvidence"),
        "name": f"payments-api-{hex_digits(s.rng, 20)}",
        "labels": {"app": "payments-api"},
        "namespace": s.k8s_namespace(),
        "podIp": s.ip_value("10.244.1.17"),
        "serviceAccount": _service_account(s),
        "controller": _controller(s),
        "containers": [_container(s)],
        "initContainers": [],
        "ephemeralContainers": [],
    }


def _controller(s: Story) -> dict[str, Any]:
    return {
        **s.base("kubernetesControllerEvidence"),
        "name": "payments-api",
        "type": s.rng.choice(("Deployment", "ReplicaSet", "DaemonSet")),
        "labels": {"app": "payments-api"},
        "namespace": s.k8s_namespace(),
    }


def _secret(s: Story) -> dict[str, Any]:
    return {
        **s.base("kubernetesSecretEvidence"),
        "name": "db-credentials",
        "secretType": "Opaque",
        "namespace": s.k8s_namespace(),
    }


def _k8s_service(s: Story) -> dict[str, Any]:
    return {
        **s.base("kubernetesServiceEvidence"),
        "name": "payments-api",
        "namespace": s.k8s_namespace(),
        "labels": {"app": "payments-api"},
        "selector": {"app": "payments-api"},
        "serviceType": s.rng.choice(("clusterIP", "loadBalancer", "nodePort", "externalName")),
        "clusterIP": s.ip_value("10.0.42.7"),
        "externalIPs": [s.ip_value()],
        "servicePorts": [
            {
                "name": "https",
                "port": 443,
                "nodePort": 30443,
                "targetPort": "8443",
                "protocol": "tcp",
                "appProtocol": "https",
            }
        ],
    }


def _github_org(s: Story) -> dict[str, Any]:
    return {
        **s.base("gitHubOrganizationEvidence"),
        "login": "contoso",
        "displayName": "Contoso",
        "orgId": str(s.rng.randint(10**6, 10**8)),
        "company": "Contoso Ltd",
        "email": f"github@{s.world.domain}",
        "webUrl": "https://github.com/contoso",
    }


def _github_repo(s: Story) -> dict[str, Any]:
    return {
        **s.base("gitHubRepoEvidence"),
        "login": "payments-service",
        "owner": "contoso",
        "ownerType": "Organization",
        "repoId": str(s.rng.randint(10**7, 10**9)),
        "baseUrl": "https://github.com/contoso/payments-service",
    }


def _github_user(s: Story) -> dict[str, Any]:
    login = s.user["accountName"] + "-gh"
    return {
        **s.base("gitHubUserEvidence"),
        "login": login,
        "name": s.user["displayName"],
        "email": s.user["userPrincipalName"],
        "userId": str(s.rng.randint(10**6, 10**8)),
        "webUrl": f"https://github.com/{login}",
    }


def _nic(s: Story) -> dict[str, Any]:
    mac = ":".join(hex_digits(s.rng, 8) for _ in range(6))
    return {
        **s.base("nicEvidence"),
        "ipAddress": s.ip_value("192.168.10.21"),
        "macAddress": mac,
        "vlans": ["10"],
    }


def _iot(s: Story) -> dict[str, Any]:
    rng = s.rng
    return {
        **s.base("ioTDeviceEvidence"),
        "deviceId": guid(rng),
        "deviceName": "PLC-Line3",
        "deviceType": "PLC",
        "deviceSubType": "Programmable Logic Controller",
        "manufacturer": rng.choice(("Siemens", "Rockwell Automation", "Schneider Electric")),
        "model": "S7-1500",
        "serialNumber": hex_digits(rng, 40).upper(),
        "operatingSystem": None,
        "importance": rng.choice(("high", "normal", "low", "unknown")),
        "isAuthorized": False,
        "isProgramming": False,
        "isScanner": False,
        "macAddress": ":".join(hex_digits(rng, 8) for _ in range(6)),
        "ipAddress": s.ip_value("192.168.10.21"),
        "nics": [_nic(s)],
        "owners": [],
        "protocols": ["S7", "Modbus"],
        "purdueLayer": "Level 1",
        "sensor": "ot-sensor-01",
        "site": "Plant Rotterdam",
        "zone": "Assembly",
        "source": "Defender for IoT",
        "sourceRef": {**s.base("urlEvidence"), "url": "https://portal.azure.com/#iot/device"},
        "devicePageLink": "https://portal.azure.com/#iot/device",
        "ioTHub": None,
        "ioTSecurityAgentId": None,
    }


def _ai_agent(s: Story) -> dict[str, Any]:
    return {
        **s.base("aiAgentEvidence"),
        "agentId": guid(s.rng),
        "agentName": s.rng.choice(("HR Helper", "IT Support Agent", "Sales Copilot")),
        "hostingPlatformType": s.rng.choice(
            ("copilotStudio", "azureAIFoundry", "copilot", "unknown")
        ),
        "instructions": "Answer questions about internal HR policies only.",
    }


def _image(s: Story) -> dict[str, Any]:
    return s.image()


def _registry(s: Story) -> dict[str, Any]:
    return {**s.base("containerRegistryEvidence"), "registry": "contosoregistry.azurecr.io"}


def _namespace(s: Story) -> dict[str, Any]:
    return s.k8s_namespace()


def _cluster(s: Story) -> dict[str, Any]:
    return s.k8s_cluster()


BUILDERS: dict[str, EvidenceBuilder] = {
    "device": _device,
    "file": _file,
    "process": _process,
    "user": _user,
    "mailbox": _mailbox,
    "analyzedMessage": _message,
    "mailCluster": _mail_cluster,
    "mailboxConfiguration": _mailbox_configuration,
    "submissionMail": _submission,
    "teamsMessage": _teams,
    "url": _url,
    "ip": _ip,
    "networkConnection": _network,
    "dns": _dns,
    "malware": _malware,
    "fileHash": _file_hash,
    "registryKey": _registry_key,
    "registryValue": _registry_value,
    "cloudApplication": _cloud_app,
    "cloudLogonSession": _logon_session,
    "cloudLogonRequest": _logon_request,
    "hostLogonSession": _host_session,
    "oauthApplication": _oauth,
    "servicePrincipal": _service_principal,
    "securityGroup": _group,
    "activeDirectoryDomain": _ad_domain,
    "blobContainer": _blob_container,
    "blob": _blob,
    "sasToken": _sas,
    "azureResource": _azure,
    "amazonResource": _amazon,
    "googleCloudResource": _google,
    "container": _container,
    "containerImage": _image,
    "containerRegistry": _registry,
    "kubernetesCluster": _cluster,
    "kubernetesNamespace": _namespace,
    "kubernetesPod": _pod,
    "kubernetesController": _controller,
    "kubernetesSecret": _secret,
    "kubernetesServiceAccount": _service_account,
    "kubernetesService": _k8s_service,
    "gitHubOrganization": _github_org,
    "gitHubRepo": _github_repo,
    "gitHubUser": _github_user,
    "ioTDevice": _iot,
    "nic": _nic,
    "aiAgent": _ai_agent,
}
