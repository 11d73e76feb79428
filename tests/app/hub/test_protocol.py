from __future__ import annotations

import json

import numpy as np
import pytest

from app.hub import protocol
from app.hub.protocol import Ping, Subscribe
from app.hub.state import Cells
from edge.catalog import Catalog
from edge.errors import ProtocolError


def subscribe(catalog: Catalog, **fields: object) -> Subscribe:
    request = protocol.parse(json.dumps({"op": "subscribe", **fields}), catalog)
    assert isinstance(request, Subscribe)
    return request


def test_subscribe_to_every_signal_resolves_to_the_stored_keys(catalog: Catalog) -> None:
    sub = subscribe(catalog, trucks="*", signals="*")

    assert sub.trucks is None
    assert sub.keys == tuple(s.key for s in catalog.signals if s.stored)
    assert "CellVoltMux" not in sub.keys


def test_subscribe_keeps_the_listed_trucks_and_signals_and_defaults_the_rate(
    catalog: Catalog,
) -> None:
    sub = subscribe(catalog, trucks=[9, 2, 9], signals=["SOC", "Latitude", "SOC"])

    assert sub.trucks == (2, 9)
    assert sub.keys == ("SOC", "Latitude")
    assert sub.signal_ids.tolist() == [catalog.id_of("SOC"), catalog.id_of("Latitude")]
    assert sub.rate_hz == protocol.DEFAULT_RATE_HZ


def test_ping_is_understood(catalog: Catalog) -> None:
    assert isinstance(protocol.parse('{"op":"ping"}', catalog), Ping)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "got a list"),
        ('{"op": "dance"}', "'dance'"),
        ('{"op": "subscribe", "trucks": "*", "signals": ["Nope"]}', "unknown 'Nope'"),
        ('{"op": "subscribe", "trucks": "*", "signals": ["CellVoltMux"]}', "'CellVoltMux'"),
        ('{"op": "subscribe", "trucks": [true], "signals": "*"}', "got True"),
        ('{"op": "subscribe", "trucks": [-1], "signals": "*"}', "got -1"),
        ('{"op": "subscribe", "trucks": "all", "signals": "*"}', "str 'all'"),
        ('{"op": "subscribe", "trucks": "*"}', "expected 'trucks' and 'signals'"),
        ('{"op": "subscribe", "trucks": "*", "signals": "*", "rate_hz": 50}', "got 50.0"),
        ('{"op": "subscribe", "trucks": "*", "signals": "*", "rate_hz": "4"}', "str '4'"),
        ('{"op": "subscribe", "trucks": "*", "signals": "*", "rate": 4}', "['rate']"),
        ('{"op": "ping", "x": 1}', "only 'op'"),
    ],
)
def test_a_bad_message_is_refused_saying_what_was_expected(
    catalog: Catalog, text: str, says: str
) -> None:
    with pytest.raises(ProtocolError, match="expected") as caught:
        protocol.parse(text, catalog)

    assert says in str(caught.value)


def test_a_message_over_64_kib_is_refused_before_parsing(catalog: Catalog) -> None:
    text = json.dumps({"op": "subscribe", "trucks": [1] * 30000, "signals": "*"})

    with pytest.raises(ProtocolError, match="at most 65536 bytes"):
        protocol.parse(text, catalog)


def test_hello_lists_every_stored_signal_with_unit_and_value_names(catalog: Catalog) -> None:
    hello = json.loads(protocol.hello(catalog))

    assert hello["type"] == "hello"
    assert hello["version"] == 1
    assert len(hello["signals"]) == sum(1 for s in catalog.signals if s.stored)
    assert hello["signals"]["PackVoltage"] == {"unit": "V"}
    assert hello["signals"]["VehicleMode"]["choices"]["1"] == "Driving"


def test_cells_are_encoded_by_truck_as_string_with_unix_seconds(catalog: Catalog) -> None:
    keys = [s.key for s in catalog.signals]
    cells = Cells(
        truck_ids=np.array([7, 7, 12], dtype=np.int64),
        signal_ids=np.array(
            [catalog.id_of("SOC"), catalog.id_of("Latitude"), catalog.id_of("SOC")],
            dtype=np.intp,
        ),
        t_us=np.array([1764770000123456, 1764770000000001, 1764770001000000], dtype=np.int64),
        values=np.array([81.2, 52.5, 3.0]),
        changes=3,
    )

    message = json.loads(protocol.encode_cells("update", cells, keys))

    assert message == {
        "type": "update",
        "trucks": {
            "7": {"SOC": [1764770000.123456, 81.2], "Latitude": [1764770000.000001, 52.5]},
            "12": {"SOC": [1764770001.0, 3.0]},
        },
    }
