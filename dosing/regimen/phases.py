"""A phase file (regimens/<protocol>/<phase>.toml): its head, the tests it names, and its orders."""

from functools import cache
from pathlib import Path


from dosing.errors import RegimenError
from dosing.regimen import grammar
from dosing.regimen.load import cached_protocol
from dosing.regimen.model import Phase, Protocol
from dosing.regimen.orders import load_order, no_double_orders
from dosing.regimen.source import Source, known_keys, read, table, tagged, text

HEAD_KEYS = ("name", "title", "length_days", "tests", "ends", "next_after_days", "titrated", "orders_from", "start_criteria",
             "default_weeks", "course_hours")
# A test the phase names: on which day, and what is taken (printed on the calendar).
TEST_KEYS = ("day", "what")


def load_phase(protocol: Protocol, name: str) -> Phase:
    if name not in protocol.phases:
        raise RegimenError(protocol.directory / "protocol.toml", None, f"the protocol has no phase {name!r}; it has {', '.join(protocol.phases)}")
    return _load_phase(protocol.directory.parent, protocol.directory.name, name)


@cache
def _load_phase(root: Path, protocol_name: str, name: str) -> Phase:
    protocol = cached_protocol(root, protocol_name)
    source = Source(protocol.directory / f"{name}.toml")
    data = source.data
    known_keys(source, data, ("phase", "order"), None, "the file")
    head_line = source.header_line("[phase]")
    head = table(source, data, "phase", None)
    known_keys(source, head, HEAD_KEYS, head_line, "[phase]")
    at = lambda key: source.key_line(key, head_line)  # noqa: E731
    if head.get("name") != name:
        raise source.error(at("name"), f"phase name must be {name!r}, as the file is named")
    length = tagged(source, head, "length_days", head_line, "phase length")
    read(source, at("length_days"), grammar.whole, length.value, 1, 800, "length_days (days)")
    extra = {}
    if "tests" in head:
        extra["tests"] = _tests(source, head, head_line, length.value)
    if "ends" in head:
        extra["ends"] = tagged(source, head, "ends", head_line, "phase end")
        read(source, at("ends"), grammar.weeks_after_diagnosis, extra["ends"].value)
    if "next_after_days" in head:
        extra["next_after_days"] = tagged(source, head, "next_after_days", head_line, "interval to the next phase")
        read(source, at("next_after_days"), grammar.whole, extra["next_after_days"].value, 1, 800, "next_after_days (days)")
    if "default_weeks" in head:
        extra["default_weeks"] = tagged(source, head, "default_weeks", head_line, "weeks a sheet covers")
        read(source, at("default_weeks"), grammar.whole, extra["default_weeks"].value, 1, 104, "default_weeks (weeks)")
    if "start_criteria" in head:
        extra["start_criteria"] = tagged(source, head, "start_criteria", head_line, "start criteria")
    if "titrated" in head:
        if not isinstance(head["titrated"], bool):
            raise source.error(at("titrated"), "titrated must be true or false")
        extra["titrated"] = head["titrated"]
    head_source = source
    if "orders_from" in head:
        # Consolidations 2 and 3 repeat consolidation 1: one copy of the orders, so they cannot drift apart.
        other = head["orders_from"]
        if not isinstance(other, str) or other not in protocol.phases or other == name or "order" in data:
            raise source.error(at("orders_from"), "orders_from names another phase of the protocol, and the file then has no [[order]] of its own")
        source_of_orders = Source(protocol.directory / f"{other}.toml")
        if "orders_from" in source_of_orders.data.get("phase", {}):
            raise source.error(at("orders_from"), f"{other} takes its orders from another phase itself")
        source, data = source_of_orders, source_of_orders.data
    raw_orders = data.get("order")
    if not isinstance(raw_orders, list) or not raw_orders:
        raise source.error(None, "the phase has no [[order]] entries")
    orders = []
    for i, raw in enumerate(raw_orders):
        orders.append(load_order(source, protocol, raw, source.header_line("[[order]]", i), length.value, orders))
    orders = tuple(orders)
    no_double_orders(source, orders)
    if "course_hours" in head or any(o.continuous for o in orders):
        extra["course_hours"] = _course_hours(head_source, head, head_line, orders)
    return Phase(
        name=name,
        title=text(head_source, head, "title", head_line),
        length_days=length,
        orders=orders,
        tests=extra.pop("tests", None),
        path=source.path,
        **extra,
    )


def _tests(source, head: dict, line, length: int):
    """tests = { value = [{ day = 36, what = "MRD and bone marrow" }], ... }: each test's day inside the phase."""
    value = tagged(source, head, "tests", line, "tests")
    at = source.key_line("tests", line)
    if not isinstance(value.value, list) or not value.value:
        raise source.error(at, 'tests is a list: [{ day = 36, what = "MRD and bone marrow" }]')
    for number, entry in enumerate(value.value, start=1):
        field = f"tests[{number}]"
        if not isinstance(entry, dict):
            raise source.error(at, f'{field} must be {{ day = 36, what = "MRD and bone marrow" }}')
        for key in entry:
            if key not in TEST_KEYS:
                raise source.error(at, f"{field}: {key!r} is not a field of a test; known: {', '.join(TEST_KEYS)}")
        for key in TEST_KEYS:
            if key not in entry:
                raise source.error(at, f"{field} has no {key}: write {{ day = 36, what = \"MRD and bone marrow\" }}")
        read(source, at, grammar.whole, entry["day"], 1, length, f"{field}.day (a day of the phase)")
        if not isinstance(entry["what"], str) or not entry["what"].strip():
            raise source.error(at, f"{field}.what must be text: what is taken, e.g. \"MRD and bone marrow\"")
    return value


def _course_hours(source, head: dict, line, orders):
    """The hours of one course of the phase's continuous infusion: its days × 24, said in the data."""
    if "course_hours" not in head:
        raise source.error(line, "a phase with a continuous infusion says its course: course_hours = { value = 672, tag = ..., source = ... }")
    value = tagged(source, head, "course_hours", line, "course of the continuous infusion")
    at = source.key_line("course_hours", line)
    continuous = [o for o in orders if o.continuous]
    if len(continuous) != 1:
        raise source.error(at, "course_hours belongs to a phase with one continuous infusion")
    hours = read(source, at, grammar.whole, value.value, 1, 24 * 800, "course_hours (hours)")
    if hours != 24 * len(continuous[0].days):
        raise source.error(at, f"course_hours is {hours}, but the {continuous[0].drug.name} order runs {len(continuous[0].days)} days "
                               f"({24 * len(continuous[0].days)} hours): make them agree")
    return value
