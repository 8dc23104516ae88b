"""The entity data model, loaded once from Graph's CSDL.

Everything schema-shaped in alertgraph (tables, binding, JSON output, write validation, $metadata)
reads these objects; nothing else parses the CSDL. Names are always fully qualified
(``microsoft.graph.security.alert``); CSDL aliases are resolved here.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import resources

EDM_NS = "{http://docs.oasis-open.org/odata/ns/edm}"
EDMX_NS = "{http://docs.oasis-open.org/odata/ns/edmx}"

PRIMITIVES = frozenset(
    {
        "Edm.String",
        "Edm.Boolean",
        "Edm.Byte",
        "Edm.SByte",
        "Edm.Int16",
        "Edm.Int32",
        "Edm.Int64",
        "Edm.Double",
        "Edm.Single",
        "Edm.Decimal",
        "Edm.DateTimeOffset",
        "Edm.Date",
        "Edm.TimeOfDay",
        "Edm.Duration",
        "Edm.Guid",
        "Edm.Binary",
    }
)
INTEGER_TYPES = frozenset({"Edm.Byte", "Edm.SByte", "Edm.Int16", "Edm.Int32", "Edm.Int64"})
NUMERIC_TYPES = INTEGER_TYPES | {"Edm.Double", "Edm.Single", "Edm.Decimal"}
INTEGER_RANGES = {
    "Edm.Byte": (0, 255),
    "Edm.SByte": (-128, 127),
    "Edm.Int16": (-(2**15), 2**15 - 1),
    "Edm.Int32": (-(2**31), 2**31 - 1),
    "Edm.Int64": (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A property's declared type: a qualified name, optionally a collection of it."""

    name: str
    collection: bool = False

    @property
    def is_primitive(self) -> bool:
        return self.name in PRIMITIVES

    def __str__(self) -> str:
        return f"Collection({self.name})" if self.collection else self.name


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    type: TypeRef
    nullable: bool
    declared_by: str


@dataclass(frozen=True, slots=True)
class NavigationProperty:
    name: str
    type: TypeRef
    contains_target: bool
    declared_by: str


@dataclass(slots=True)
class EnumType:
    name: str
    members: dict[str, int]
    is_flags: bool = False
    by_value: dict[int, str] = field(init=False)
    #: members declared after ``unknownFutureValue`` (Graph sends them only on request)
    evolvable_members: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_value = {value: member for member, value in self.members.items()}
        names = list(self.members)
        cut = names.index("unknownFutureValue") + 1 if "unknownFutureValue" in names else len(names)
        self.evolvable_members = frozenset(names[cut:])

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[1]


@dataclass(slots=True)
class StructuredType:
    """An entity or complex type with its inherited members flattened in CSDL order."""

    name: str
    kind: str  # "entity" or "complex"
    base: str | None
    abstract: bool
    open: bool
    own_properties: dict[str, Property] = field(default_factory=dict)
    own_navigation: dict[str, NavigationProperty] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    properties: dict[str, Property] = field(default_factory=dict)
    navigation: dict[str, NavigationProperty] = field(default_factory=dict)
    derived: list[str] = field(default_factory=list)  # direct and indirect subtypes

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[1]

    @property
    def namespace(self) -> str:
        return self.name.rsplit(".", 1)[0]


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # qualified, e.g. microsoft.graph.security.moveAlerts
    binding: TypeRef
    parameters: dict[str, Property]
    return_type: TypeRef | None


@dataclass(slots=True)
class Model:
    """All types of the CSDL document, keyed by qualified name."""

    enums: dict[str, EnumType]
    types: dict[str, StructuredType]
    actions: list[Action]
    annotations: dict[str, dict[str, object]]
    xml: bytes

    def enum(self, name: str) -> EnumType | None:
        return self.enums.get(name)

    def structured(self, name: str) -> StructuredType:
        return self.types[name]

    def is_subtype(self, name: str, of: str) -> bool:
        """True when ``name`` is ``of`` or derives from it."""
        current: str | None = name
        while current is not None:
            if current == of:
                return True
            current = self.types[current].base if current in self.types else None
        return False

    def all_properties(self, name: str) -> dict[str, Property]:
        """Properties of a type and of every type derived from it (first declaration wins)."""
        merged = dict(self.types[name].properties)
        for sub in self.types[name].derived:
            for prop_name, prop in self.types[sub].properties.items():
                merged.setdefault(prop_name, prop)
        return merged

    def find_type(self, qualified_or_short: str) -> StructuredType | None:
        """Look a type up by qualified name, case-insensitively (Graph matches type casts so)."""
        found = self.types.get(qualified_or_short)
        if found is not None:
            return found
        lowered = qualified_or_short.lower()
        for name, struct in self.types.items():
            if name.lower() == lowered:
                return struct
        return None

    def capability(self, target: str, term: str) -> object:
        return self.annotations.get(target, {}).get(term)


def _qualify(type_name: str, aliases: dict[str, str]) -> TypeRef:
    collection = type_name.startswith("Collection(")
    inner = type_name[len("Collection(") : -1] if collection else type_name
    if not inner.startswith("Edm."):
        prefix, _, short = inner.rpartition(".")
        inner = f"{aliases.get(prefix, prefix)}.{short}"
    return TypeRef(inner, collection)


def _annotation_value(element: ET.Element) -> object:
    """Reduce a capability annotation to plain Python: Bool, or a dict of a Record's values."""
    if "Bool" in element.attrib:
        return element.attrib["Bool"] == "true"
    record = element.find(f"{EDM_NS}Record")
    if record is None:
        return None
    values: dict[str, object] = {}
    for prop in record.findall(f"{EDM_NS}PropertyValue"):
        if "Bool" in prop.attrib:
            values[prop.attrib["Property"]] = prop.attrib["Bool"] == "true"
        elif "String" in prop.attrib:
            values[prop.attrib["Property"]] = prop.attrib["String"]
    return values


def parse_csdl(xml: bytes) -> Model:
    """Parse a CSDL XML document into a :class:`Model`."""
    root = ET.fromstring(xml)
    schemas = root.iter(f"{EDM_NS}Schema")
    schema_list = list(schemas)
    aliases: dict[str, str] = {}
    for schema in schema_list:
        namespace = schema.attrib["Namespace"]
        aliases[namespace] = namespace
        if "Alias" in schema.attrib:
            aliases[schema.attrib["Alias"]] = namespace

    enums: dict[str, EnumType] = {}
    types: dict[str, StructuredType] = {}
    actions: list[Action] = []
    annotations: dict[str, dict[str, object]] = {}

    for schema in schema_list:
        namespace = schema.attrib["Namespace"]
        for element in schema:
            tag = element.tag.removeprefix(EDM_NS)
            if tag == "EnumType":
                qualified = f"{namespace}.{element.attrib['Name']}"
                members = {
                    member.attrib["Name"]: int(member.attrib["Value"])
                    for member in element.findall(f"{EDM_NS}Member")
                }
                enums[qualified] = EnumType(
                    qualified, members, element.attrib.get("IsFlags") == "true"
                )
            elif tag in ("EntityType", "ComplexType"):
                qualified = f"{namespace}.{element.attrib['Name']}"
                base = element.attrib.get("BaseType")
                struct = StructuredType(
                    name=qualified,
                    kind="entity" if tag == "EntityType" else "complex",
                    base=_qualify(base, aliases).name if base else None,
                    abstract=element.attrib.get("Abstract") == "true",
                    open=element.attrib.get("OpenType") == "true",
                )
                key = element.find(f"{EDM_NS}Key")
                if key is not None:
                    struct.key = tuple(ref.attrib["Name"] for ref in key)
                for prop in element.findall(f"{EDM_NS}Property"):
                    struct.own_properties[prop.attrib["Name"]] = Property(
                        prop.attrib["Name"],
                        _qualify(prop.attrib["Type"], aliases),
                        prop.attrib.get("Nullable", "true") != "false",
                        qualified,
                    )
                for nav in element.findall(f"{EDM_NS}NavigationProperty"):
                    struct.own_navigation[nav.attrib["Name"]] = NavigationProperty(
                        nav.attrib["Name"],
                        _qualify(nav.attrib["Type"], aliases),
                        nav.attrib.get("ContainsTarget") == "true",
                        qualified,
                    )
                types[qualified] = struct
            elif tag == "Action":
                params = element.findall(f"{EDM_NS}Parameter")
                binding = _qualify(params[0].attrib["Type"], aliases)
                returns = element.find(f"{EDM_NS}ReturnType")
                actions.append(
                    Action(
                        name=f"{namespace}.{element.attrib['Name']}",
                        binding=binding,
                        parameters={
                            p.attrib["Name"]: Property(
                                p.attrib["Name"],
                                _qualify(p.attrib["Type"], aliases),
                                p.attrib.get("Nullable", "true") != "false",
                                namespace,
                            )
                            for p in params[1:]
                        },
                        return_type=_qualify(returns.attrib["Type"], aliases)
                        if returns is not None
                        else None,
                    )
                )
            elif tag == "Annotations":
                target = element.attrib["Target"]
                terms = annotations.setdefault(target, {})
                for annotation in element.findall(f"{EDM_NS}Annotation"):
                    term = annotation.attrib["Term"].rsplit(".", 1)[1]
                    terms[term] = _annotation_value(annotation)

    def flatten(struct: StructuredType) -> None:
        if struct.properties or struct.navigation:
            return
        if struct.base is not None:
            parent = types[struct.base]
            flatten(parent)
            struct.properties.update(parent.properties)
            struct.navigation.update(parent.navigation)
            struct.key = struct.key or parent.key
        struct.properties.update(struct.own_properties)
        struct.navigation.update(struct.own_navigation)

    for struct in types.values():
        flatten(struct)
    for struct in types.values():
        base = struct.base
        while base is not None:
            types[base].derived.append(struct.name)
            base = types[base].base
    return Model(enums, types, actions, annotations, xml)


@functools.cache
def load_model() -> Model:
    """The model shipped with the package (see csdl/README.md for its origin)."""
    xml = (
        resources.files("alertgraph.schema.csdl")
        .joinpath("graph-beta-alerts.csdl.xml")
        .read_bytes()
    )
    return parse_csdl(xml)
