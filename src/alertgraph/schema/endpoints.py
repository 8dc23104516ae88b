"""The served entity sets: one row each, everything else is derived from the EDM.

A row says where a collection lives in the URL space, which EDM type it holds, which table stores
it, what Graph documents about it (query options, limits, permissions, write codes), which writes it
takes and how its navigation properties join other sets. Bound actions come from the CSDL's
bindings; what they do lives in alertgraph.rules. Adding an endpoint is a row here plus its rules.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from alertgraph.schema.edm import load_model

SECURITY_READ_ROLES = (
    "Security Reader",
    "Global Reader",
    "Security Operator",
    "Security Administrator",
)
SECURITY_WRITE_ROLES = ("Security Operator", "Security Administrator")
PIM_READ_ROLES = (
    "Global Reader",
    "Security Reader",
    "Security Operator",
    "Security Administrator",
    "Privileged Role Administrator",
)
PIM_WRITE_ROLES = ("Privileged Role Administrator",)

#: Query options Graph's OData stack knows; anything else starting with "$" is rejected.
ALL_OPTIONS = frozenset(
    {
        "$filter",
        "$select",
        "$expand",
        "$orderby",
        "$top",
        "$skip",
        "$count",
        "$search",
        "$skiptoken",
        "$format",
        "$apply",
        "$compute",
        "$index",
        "$schemaversion",
        "$levels",
        "$deltatoken",
        "$id",
    }
)


@dataclass(frozen=True, slots=True)
class Access:
    """Any one of ``permissions`` (least privileged first); for delegated calls also one of
    ``roles`` (directory role names) unless it is empty."""

    permissions: tuple[str, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Navigation:
    """How a navigation property of the set's type reaches rows of another set.

    ``local`` and ``remote`` name properties (or the system column ``_parent`` for containment)
    whose equality links the two rows within one tenant.
    """

    name: str
    target: str
    local: str
    remote: str
    collection: bool


@dataclass(frozen=True, slots=True)
class EntitySet:
    name: str
    path: str  # URL path below the version root, without keys
    type_name: str
    table: str
    versions: tuple[str, ...] = ("beta",)
    parent: str | None = None  # contained below an entity of this set
    read_permissions: tuple[str, ...] = ()
    write_permissions: tuple[str, ...] = ()
    read_roles: tuple[str, ...] = ()
    write_roles: tuple[str, ...] = ()
    #: options Graph documents (or the CSDL capabilities allow) for this collection
    options: frozenset[str] = frozenset({"$filter", "$select", "$count", "$top", "$skip"})
    #: options Graph's docs list for the collection (``--strict-graph`` allows only these)
    documented_options: frozenset[str] = frozenset()
    documented_filterable: tuple[str, ...] | None = None
    max_top: int = 1000
    #: rows per page without $top ($top is the page size, up to max_top)
    page_size: int = 100
    #: the nextLink continues with $skip (PIM incidents) instead of a keyset $skiptoken
    skip_paging: bool = False
    default_order: tuple[tuple[str, bool], ...] = (("id", False),)  # (property, descending)
    requires_scope_filter: bool = False
    navigations: tuple[Navigation, ...] = ()
    patch_status: int = 200
    updatable: tuple[str, ...] = ()
    #: properties a PATCH body must carry (Graph answers 400 without them)
    patch_required: tuple[str, ...] = ()
    #: PATCH bodies are validated against the stored derived type and must name it
    patch_by_runtime_type: bool = False
    #: POST to the collection creates an item (on /beta)
    insertable: bool = False
    #: the entity has a ``comments`` collection that POST appends to
    has_comments: bool = False
    #: actions Graph serves that the shipped CSDL does not declare: (name, bound to collection)
    undeclared_actions: tuple[tuple[str, bool], ...] = ()
    #: operations (actions, navigations) whose permissions differ from plain read and write
    access: dict[str, Access] = field(default_factory=dict)
    indexes: tuple[tuple[str, ...], ...] = ()

    def navigation(self, name: str) -> Navigation | None:
        for nav in self.navigations:
            if nav.name == name:
                return nav
        return None

    def actions(self, *, on_collection: bool) -> tuple[str, ...]:
        """Names of the actions bound to the collection (or to one entity) of this set."""
        return _bound_actions(self.type_name, on_collection) + tuple(
            name for name, collection in self.undeclared_actions if collection == on_collection
        )


@functools.cache
def _bound_actions(type_name: str, on_collection: bool) -> tuple[str, ...]:
    """Actions the CSDL binds to ``type_name`` or one of its base types, as OData routing does."""
    model = load_model()
    lineage: list[str] = []
    current: str | None = type_name
    while current is not None:
        lineage.append(current)
        struct = model.types.get(current)
        current = struct.base if struct is not None else None
    return tuple(
        action.name.rsplit(".", 1)[1]
        for action in model.actions
        if action.binding.name in lineage and action.binding.collection == on_collection
    )


PIM_ROOT = "identityGovernance/roleManagementAlerts"
#: Every PIM collection shares its permissions and directory roles (spec 3.1).
PIM_ACCESS: dict[str, Any] = {
    "read_permissions": (
        "RoleManagementAlert.Read.Directory",
        "RoleManagementAlert.ReadWrite.Directory",
    ),
    "write_permissions": ("RoleManagementAlert.ReadWrite.Directory",),
    "read_roles": PIM_READ_ROLES,
    "write_roles": PIM_WRITE_ROLES,
}

ENTITY_SETS: tuple[EntitySet, ...] = (
    EntitySet(
        name="alerts_v2",
        path="security/alerts_v2",
        type_name="microsoft.graph.security.alert",
        table="security_alerts",
        versions=("beta", "v1.0"),
        read_permissions=("SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"),
        write_permissions=("SecurityAlert.ReadWrite.All",),
        read_roles=SECURITY_READ_ROLES,
        write_roles=SECURITY_WRITE_ROLES,
        options=frozenset({"$filter", "$select", "$count", "$top", "$skip", "$orderby"}),
        documented_options=frozenset({"$count", "$filter", "$skip", "$top"}),
        documented_filterable=(
            "assignedTo",
            "classification",
            "determination",
            "createdDateTime",
            "lastUpdateDateTime",
            "severity",
            "serviceSource",
            "status",
            # lambdas over evidence with a type cast are documented in the migration guide (S1)
            "evidence",
        ),
        max_top=2000,
        page_size=100,
        default_order=(("createdDateTime", True), ("id", False)),
        updatable=("assignedTo", "classification", "determination", "status"),
        insertable=True,
        has_comments=True,
        undeclared_actions=(("createAlert", True),),
        # permission table not published; the sibling action's permission or the alert write one
        access={
            "moveAlerts": Access(
                ("SecurityData.Manage.All", "SecurityAlert.ReadWrite.All"), SECURITY_WRITE_ROLES
            ),
            "createAlert": Access(
                ("SecurityAlert.Create.All", "SecurityAlert.ReadWrite.All"), SECURITY_WRITE_ROLES
            ),
        },
        indexes=(
            ("createdDateTime", "id"),
            ("lastUpdateDateTime", "id"),
            ("severity", "status", "createdDateTime", "id"),
            ("status", "createdDateTime", "id"),
            ("incidentId",),
            ("serviceSource", "createdDateTime", "id"),
            # an analyst's own queue (the console's "Assigned to")
            ("assignedTo", "createdDateTime", "id"),
        ),
    ),
    EntitySet(
        name="incidents",
        path="security/incidents",
        type_name="microsoft.graph.security.incident",
        table="security_incidents",
        versions=("beta", "v1.0"),
        read_permissions=("SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"),
        write_permissions=("SecurityIncident.ReadWrite.All",),
        read_roles=SECURITY_READ_ROLES,
        write_roles=SECURITY_WRITE_ROLES,
        options=frozenset({"$filter", "$select", "$count", "$top", "$skip", "$orderby", "$expand"}),
        documented_options=frozenset({"$count", "$filter", "$skip", "$top", "$expand"}),
        documented_filterable=(
            "assignedTo",
            "classification",
            "createdDateTime",
            "determination",
            "lastUpdateDateTime",
            "severity",
            "status",
        ),
        max_top=50,
        page_size=50,
        default_order=(("createdDateTime", True), ("id", False)),
        navigations=(Navigation("alerts", "alerts_v2", "id", "incidentId", True),),
        updatable=("assignedTo", "classification", "determination", "status", "customTags"),
        has_comments=True,
        access={
            "mergeIncidents": Access(("SecurityData.Manage.All",), SECURITY_WRITE_ROLES),
            # /security/incidents/{id}/alerts and $expand=alerts: the incident read permission
            "alerts": Access(
                ("SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"),
                SECURITY_READ_ROLES,
            ),
        },
        indexes=(
            ("createdDateTime", "id"),
            ("lastUpdateDateTime", "id"),
            ("status",),
            ("assignedTo", "createdDateTime", "id"),
        ),
    ),
    EntitySet(
        name="partner_alerts",
        path="security/partner/securityAlerts",
        type_name="microsoft.graph.partner.security.partnerSecurityAlert",
        table="partner_security_alerts",
        read_permissions=("PartnerSecurity.Read.All", "PartnerSecurity.ReadWrite.All"),
        write_permissions=("PartnerSecurity.ReadWrite.All",),
        options=frozenset({"$filter", "$select", "$count", "$top", "$skip", "$orderby"}),
        documented_options=frozenset({"$count", "$filter", "$select"}),
        max_top=1000,
        page_size=100,
        default_order=(("detectedDateTime", True), ("id", False)),
        updatable=("status", "resolvedReason"),
        patch_required=("status",),
        indexes=(("detectedDateTime", "id"), ("status", "detectedDateTime", "id")),
    ),
    EntitySet(
        name="pim_alerts",
        path=f"{PIM_ROOT}/alerts",
        type_name="microsoft.graph.unifiedRoleManagementAlert",
        table="pim_alerts",
        **PIM_ACCESS,
        options=frozenset({"$filter", "$select", "$expand", "$top", "$skip", "$count"}),
        documented_options=frozenset({"$filter", "$select", "$expand"}),
        documented_filterable=("alertDefinitionId", "scopeId", "scopeType"),
        requires_scope_filter=True,
        navigations=(
            Navigation("alertDefinition", "pim_definitions", "alertDefinitionId", "id", False),
            Navigation(
                "alertConfiguration",
                "pim_configurations",
                "alertDefinitionId",
                "alertDefinitionId",
                False,
            ),
            Navigation("alertIncidents", "pim_incidents", "id", "_parent", True),
        ),
        patch_status=204,
        updatable=("isActive",),
        patch_required=("isActive",),
    ),
    EntitySet(
        name="pim_incidents",
        path=f"{PIM_ROOT}/alerts/alertIncidents",
        type_name="microsoft.graph.unifiedRoleManagementAlertIncident",
        table="pim_alert_incidents",
        parent="pim_alerts",
        **PIM_ACCESS,
        options=frozenset({"$filter", "$select", "$expand", "$top", "$skip", "$count"}),
        documented_options=frozenset({"$filter", "$select", "$expand", "$top"}),
        documented_filterable=("id",),
        page_size=100,
        skip_paging=True,
    ),
    EntitySet(
        name="pim_configurations",
        path=f"{PIM_ROOT}/alertConfigurations",
        type_name="microsoft.graph.unifiedRoleManagementAlertConfiguration",
        table="pim_alert_configurations",
        **PIM_ACCESS,
        options=frozenset({"$filter", "$select", "$expand", "$top", "$skip", "$count"}),
        documented_options=frozenset({"$filter", "$select", "$expand"}),
        documented_filterable=("scopeId", "scopeType"),
        requires_scope_filter=True,
        navigations=(
            Navigation("alertDefinition", "pim_definitions", "alertDefinitionId", "id", False),
        ),
        patch_status=204,
        patch_by_runtime_type=True,
        updatable=(
            "isEnabled",
            "duration",
            "sequentialActivationCounterThreshold",
            "timeIntervalBetweenActivations",
            "globalAdminCountThreshold",
            "percentageOfGlobalAdminsOutOfRolesThreshold",
        ),
    ),
    EntitySet(
        name="pim_definitions",
        path=f"{PIM_ROOT}/alertDefinitions",
        type_name="microsoft.graph.unifiedRoleManagementAlertDefinition",
        table="pim_alert_definitions",
        **PIM_ACCESS,
        options=frozenset({"$filter", "$select", "$expand", "$top", "$skip", "$count"}),
        documented_options=frozenset({"$filter", "$select", "$expand"}),
        documented_filterable=("scopeId", "scopeType"),
        requires_scope_filter=True,
    ),
    EntitySet(
        name="pim_operations",
        path=f"{PIM_ROOT}/operations",
        type_name="microsoft.graph.longRunningOperation",
        table="pim_operations",
        **PIM_ACCESS,
        options=frozenset({"$filter", "$select", "$top", "$skip", "$count"}),
        documented_options=frozenset({"$select", "$expand"}),
    ),
)


@dataclass(frozen=True, slots=True)
class Container:
    """A singleton that only holds collections (``GET /security/partner``): Graph answers it
    with the bare entity, readable with the permissions of the collections below it."""

    path: str
    type_name: str
    #: the entity set whose read permission and roles guard the container
    guard: str
    versions: tuple[str, ...] = ("beta",)

    @property
    def segments(self) -> list[str]:
        return self.path.split("/")


CONTAINERS: tuple[Container, ...] = (
    Container(
        "security/partner", "microsoft.graph.partner.security.partnerSecurity", "partner_alerts"
    ),
    Container(PIM_ROOT, "microsoft.graph.roleManagementAlert", "pim_alerts"),
)

BY_NAME: dict[str, EntitySet] = {entity_set.name: entity_set for entity_set in ENTITY_SETS}


def entity_set(name: str) -> EntitySet:
    return BY_NAME[name]


#: (entity set, index number) of indexes added after schema version 2: opening an older database
#: creates them.
LATER_INDEXES = (("alerts_v2", 6), ("incidents", 3))
