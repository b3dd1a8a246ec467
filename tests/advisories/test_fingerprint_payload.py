"""Payload bytes: the variant points an author writes in the bytes a proof of concept sends (filler bytes, a marker
byte, a constant) take one value of their range in each copy, and a hex dump of the traffic names the copy it came
from among as many candidates as a real advisory has, while an unrelated dump, or the traffic of a copy made for
nobody among the candidates, names nobody."""

import random
import re
import sys
from unittest import mock

from advisories.fingerprinting import SourceText, copy_key, personalise, read_sample, templates_for, trace
from advisories.fingerprinting.code import serving_template
from advisories.fingerprinting.proposals import preview_html
from advisories.fingerprinting.variant_points import parse_alternatives, strip_variant_points
from advisories.sample_texts import PROOF_OF_CONCEPT

CANDIDATES = {f"copy-{n}": copy_key(token=f"{n:064x}", user_id=n) for n in range(432)}
SOURCES = [SourceText(PROOF_OF_CONCEPT, kind="code")]


def _copy(key: bytes) -> str:
    return personalise(serving_template(SOURCES[0]), key)


def _traffic(key: bytes) -> bytes:
    namespace = {"__name__": "leaked"}
    with mock.patch.object(sys, "argv", ["poc.py"]):
        exec(compile(_copy(key), "poc.py", "exec"), namespace)  # noqa: S102 (the test's own generated copy)
    return namespace["payload"]()


def _xxd(data: bytes) -> str:
    rows = []
    for offset in range(0, len(data), 16):
        row = data[offset : offset + 16]
        groups = " ".join(row[i : i + 2].hex() for i in range(0, len(row), 2))
        rows.append(f"{offset:08x}: {groups:<39}  {''.join(chr(b) if 32 <= b < 127 else '.' for b in row)}")
    return "\n".join(rows)


def _hexdump_c(data: bytes) -> str:
    rows = []
    for offset in range(0, len(data), 16):
        row = data[offset : offset + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        rows.append(f"{offset:08x}  {row[:8].hex(' ')}  {row[8:].hex(' '):<23}  |{text}|")
    return "\n".join(rows)


def test_byte_ranges_expand_to_every_value_and_a_reversed_range_is_plain_text():
    assert parse_alternatives("A..Z") == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert parse_alternatives("\\x00..\\xff") == [f"\\x{value:02x}" for value in range(256)]
    assert len(parse_alternatives("0x7a3c0000..0x7a3c00ff")) == 256
    assert parse_alternatives("Z..A") == ["Z..A"]
    assert strip_variant_points('MARKER = b"{{= \\xff..\\x00 =}}"') == 'MARKER = b"\\xff..\\x00"'


def test_each_copy_of_the_proof_of_concept_takes_one_value_of_each_byte_range():
    copies = [_copy(key) for key in list(CANDIDATES.values())[:60]]
    fillers = [re.search(r'FILLER = \(b"([A-Z])([A-Z])" \* CHUNK_SIZE\)', copy).groups() for copy in copies]
    markers = [re.search(r'MARKER = b"\\xde\\xad\\x([0-9a-f]{2})\\xbe\\xef"', copy).group(1) for copy in copies]
    tags = [int(re.search(r"SESSION_TAG = (0x[0-9a-f]{8})", copy).group(1), 16) for copy in copies]

    assert len(set(fillers)) >= 50 and any(first != second for first, second in fillers)
    assert len(set(markers)) >= 40
    assert all(0x7A3C0000 <= tag <= 0x7A3C00FF for tag in tags) and len(set(tags)) >= 40
    assert all("{{" not in copy for copy in copies)


def test_a_hex_dump_of_the_traffic_names_the_copy_among_432_candidates():
    for leaker in ("copy-3", "copy-171", "copy-402"):
        traffic = _traffic(CANDIDATES[leaker])
        for dump in (_xxd(traffic), _hexdump_c(traffic), traffic.hex()):
            ranking = trace(dump, SOURCES, CANDIDATES)

            assert ranking.match is not None and ranking.match.label == leaker


def test_a_two_byte_filler_is_read_from_the_runs_of_its_unit():
    key = CANDIDATES["copy-5"]
    filler = re.search(r'FILLER = \(b"([A-Z]{2})"', _copy(key)).group(1).encode()
    reading = read_sample(_xxd(b"BDAT 256\r\n" + filler * 128 + b"\xde\xad"), templates_for(SOURCES))

    assert len(reading.slots) == 2  # both points of the filler, nothing else
    ranking = trace(_xxd(filler * 128), SOURCES, CANDIDATES)
    assert ranking.slots == 2
    assert ranking.match is None  # 9.4 bits: ranked, too little to name one of 432 copies


def test_an_unrelated_hex_dump_or_the_traffic_of_a_copy_made_for_nobody_names_nobody():
    rng = random.Random(17)
    outsiders = [copy_key(token=f"{n + 9000:064x}", user_id=n) for n in range(12)]
    samples = [_xxd(rng.randbytes(rng.randrange(200, 8000))) for _ in range(12)]
    samples += [_xxd(_traffic(key)) for key in outsiders]
    samples += [_xxd(_traffic(outsiders[n]) + _traffic(outsiders[n + 1])) for n in range(0, 12, 2)]

    for sample in samples:
        assert trace(sample, SOURCES, CANDIDATES).match is None


def test_the_traffic_of_two_colluders_mixed_names_one_of_them_or_nobody():
    colluders = ("copy-8", "copy-9")
    mixed = _traffic(CANDIDATES[colluders[0]]) + _traffic(CANDIDATES[colluders[1]])

    ranking = trace(_xxd(mixed), SOURCES, CANDIDATES)

    assert ranking.match is None or ranking.match.label in colluders


def test_the_editor_preview_holds_every_value_of_a_byte_range():
    html = str(preview_html('FILLER = b"{{=f1: A..Z =}}{{=f2: \\x00..\\xff =}}"'))

    assert 'data-count="26"' in html and 'data-count="256"' in html
    assert html.count('class="variant-alternative"') == 26 + 256
    assert '<span class="variant-alternative" data-alternative="25" hidden>Z</span>' in html
