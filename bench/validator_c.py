"""A validator in C, measured before adopting one: ``python -m bench.validator_c``.

Builds msgspec struct types from the CSDL for the alert and every type it nests (enums as their
members, date-times by pattern, polymorphic evidence tagged by ``@odata.type``, closed types
refusing unknown members) and times, on the same generated alerts in one process, rounds of:

- msgspec decoding and checking a line into those structs;
- what the import does today: ``orjson.loads`` and the compiled plan (``FastRows``), then the
  plan and the stored JSON (``FastRows.row``).

Only the timing of the check is compared: msgspec gives the members in declared order, where the
rows written today keep a nested value's members in the order the record gave them, so adopting
it changes what a first load stores (see docs/performance.md). Needs msgspec (``pip install -e
'.[bench]'``) and the generated alerts of ``python -m bench.import_rate`` or ``bench.run``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import types
from pathlib import Path
from typing import Any, Literal, Optional, Union

from bench import data
from bench.measure import call_rounds

#: the pattern of an Edm.DateTimeOffset in JSON (the codec checks the date itself)
DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$"


def struct_types(model: Any, type_name: str) -> Any:
    """The msgspec type that checks a value of ``type_name`` (a struct, or a tagged union)."""
    import msgspec

    from alertgraph.schema.edm import TypeRef

    module = types.ModuleType("bench_validator_types")
    sys.modules[module.__name__] = module
    module.__dict__.update(Any=Any, Literal=Literal, Optional=Optional, Union=Union)
    datetime_text = msgspec.Meta(pattern=DATETIME)
    module.DateTimeText = __import__("typing").Annotated[str, datetime_text]
    built: dict[str, str] = {}

    def class_name(name: str) -> str:
        return name.replace(".", "_")

    def annotation(ref: Any) -> str:
        name = ref.name
        if name in model.types:
            concrete = [
                n for n in [name, *model.types[name].derived] if not model.types[n].abstract
            ]
            for each in concrete:
                build(each)
            text = (
                class_name(concrete[0])
                if len(concrete) == 1
                else ("Union[" + ", ".join(class_name(n) for n in concrete) + "]")
            )
        elif name in model.enums:
            enum = model.enums[name]
            text = "str" if enum.is_flags else f"Literal[{', '.join(map(repr, enum.members))}]"
        else:
            text = {
                "Edm.String": "str",
                "Edm.DateTimeOffset": "DateTimeText",
                "Edm.Int32": "int",
                "Edm.Int64": "int",
                "Edm.Boolean": "bool",
                "Edm.Double": "float",
            }.get(name, "Any")
        return f"Optional[list[{text}]]" if ref.collection else f"Optional[{text}]"

    def build(name: str) -> None:
        if name in built:
            return
        built[name] = class_name(name)
        struct = model.types[name]
        fields = [
            (f"m{i}", annotation(p.type), msgspec.field(default=msgspec.UNSET, name=member))
            for i, (member, p) in enumerate(struct.properties.items())
        ]
        setattr(
            module,
            class_name(name),
            msgspec.defstruct(
                class_name(name),
                fields,
                module=module.__name__,
                kw_only=True,
                forbid_unknown_fields=not struct.open,
                tag_field="@odata.type",
                tag="#" + name,
            ),
        )

    return eval(annotation(TypeRef(type_name)), module.__dict__)  # names built above


def main(argv: list[str] | None = None) -> None:
    import msgspec
    import orjson
    from sqlalchemy import create_engine

    from alertgraph.schema.endpoints import ENTITY_SETS
    from alertgraph.store.database import Store
    from alertgraph.store.fastrow import FastRows

    parser = argparse.ArgumentParser(prog="python -m bench.validator_c", description=__doc__)
    parser.add_argument("--alerts", type=int, default=20_000, help="the generated file to read")
    parser.add_argument("--records", type=int, default=3_000, help="alerts timed per round")
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    args = parser.parse_args(argv)
    ndjson, _ = data.generate(args.workdir, args.alerts, 7)
    with open(ndjson, "rb") as stream:
        lines = list(itertools.islice(stream, args.records))
    root = next(e for e in ENTITY_SETS if e.path == "security/alerts_v2")
    store = Store(create_engine("sqlite://"))
    decoder = msgspec.json.Decoder(struct_types(store.model, root.type_name))
    for line in lines:  # every generated alert must pass, or the timing would be of errors
        decoder.decode(line)
    fast = FastRows(store)
    struct = store.model.types[root.type_name]
    plan = fast._plan(struct, True)

    def check_c() -> None:
        for line in lines:
            decoder.decode(line)

    def check_today() -> None:
        for line in lines:
            fast._members(plan, orjson.loads(line), {}, struct, True)

    def row_today() -> None:
        for line in lines:
            fast.row(root, orjson.loads(line))

    for label, step in (
        ("msgspec: decode and check", check_c),
        ("today: orjson.loads + the compiled plan", check_today),
        ("today: + the stored JSON (FastRows.row)", row_today),
    ):
        fastest, median = call_rounds(step, 1, 9, 1)
        sys.stdout.write(
            f"{label}: {median / len(lines):.1f} µs per alert "
            f"(median of 9 rounds; fastest {fastest / len(lines):.1f})\n"
        )


if __name__ == "__main__":
    main()
