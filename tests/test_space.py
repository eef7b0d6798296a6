"""Tests for naskit.core.space against NAS-Bench-201's known numbers and its own unique-cell rule.

Known numbers (Dong & Yang, ICLR 2020): 5**6 = 15,625 cells, 6,466 classes of isomorphic cells,
6 edges x 4 other ops = 24 neighbours. The reference for the classes is NB201's
``Structure.to_unique_str(consider_zero=True)``, re-written below from the arch string alone.
"""

import csv
import dataclasses
import gzip
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naskit.core.space import OPS, Arch, NB201Space, _randbelow, parse

FIXTURES = Path(__file__).parent / "fixtures"
SPACE = NB201Space()
ALL = list(SPACE)
FUZZ = settings(max_examples=300, deadline=None, database=None, derandomize=True)


def hamming(a: Arch, b: Arch) -> int:
    return sum(x != y for x, y in zip(a.ops, b.ops))


def chi_square(counts, expected: float) -> float:
    return sum((c - expected) ** 2 / expected for c in counts)


def nats_unique_strings() -> dict[str, str]:
    """NATS-Bench's own unique string of every cell, produced by its API
    (``to_unique_str(consider_zero=True)``), not by naskit: an independent reference. From the
    public NATS-Bench export in v-tao/nats-bench-landscape (nats_bench.csv, accuracy columns
    removed); see tests/fixtures/README.md."""
    with gzip.open(FIXTURES / "nats_unique_strings.csv.gz", "rt", encoding="utf-8") as f:
        return {row["arch"]: row["nats_unique_string"] for row in csv.DictReader(f)}


# --- size, enumeration, indexing ---------------------------------------------------------------
def test_space_has_15625_distinct_cells():
    assert len(SPACE) == 15625 == 5**6
    assert len(ALL) == 15625
    assert len(set(ALL)) == 15625


def test_index_is_enumeration_position_and_getitem_inverts_it():
    for i, arch in enumerate(ALL):
        assert arch.index == i
        assert SPACE[arch.index] == arch


def test_index_is_base5_number_in_ops_order():
    # first edge most significant: ops (none, ..., none, skip_connect) -> 1, (skip_connect, none, ...) -> 5**5
    assert Arch(("none",) * 5 + ("skip_connect",)).index == 1
    assert Arch(("skip_connect",) + ("none",) * 5).index == 5**5
    assert Arch(("avg_pool_3x3",) * 6).index == 15624


@pytest.mark.parametrize("bad", [-1, 15625])
def test_getitem_out_of_range_raises_index_error(bad):
    with pytest.raises(IndexError, match="0..15624"):
        SPACE[bad]


# --- the NB201 string ----------------------------------------------------------------------------
def test_parse_str_round_trip_for_every_cell():
    for arch in ALL:
        text = str(arch)
        assert parse(text) == arch
        assert str(parse(text)) == text
        assert SPACE.parse(text) == arch


def test_str_is_the_nb201_format():
    arch = Arch(("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "none", "nor_conv_3x3"))
    assert str(arch) == (
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    )
    assert arch.op(2, 1) == "avg_pool_3x3" and arch.op(3, 0) == "skip_connect"
    assert repr(arch) == f"Arch('{arch}')"


def test_parse_ignores_surrounding_whitespace():
    arch = SPACE[1234]
    assert parse(f"  {arch}\n") == arch


VALID = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"


@pytest.mark.parametrize(
    "text, must_mention",
    [
        # wrong op name: names the token and every allowed op
        (VALID.replace("nor_conv_3x3", "conv_5x5"), ["'conv_5x5'", *OPS]),
        (VALID.replace("skip_connect", "Skip_Connect"), ["'Skip_Connect'", *OPS]),
        # wrong source node: names the bad source and the expected one
        (VALID.replace("nor_conv_3x3~0", "nor_conv_3x3~1"), ["'1'", "node 0"]),
        (VALID.replace("none~1|", "none~01|"), ["'01'", "node 1"]),
        ("|nor_conv_3x3~0|+|skip_connect~1|none~0|+|none~0|none~1|avg_pool_3x3~2|", ["'1'", "node 0"]),
        # wrong number of nodes
        ("|nor_conv_3x3~0|+|none~0|skip_connect~1|", ["3", "got 2"]),
        (VALID + "+|none~0|", ["3", "got 4"]),
        # wrong number of edges in a node
        ("|nor_conv_3x3~0|+|none~0|+|none~0|none~1|avg_pool_3x3~2|", ["node 2", "2 incoming edges", "got 1"]),
        ("|nor_conv_3x3~0|none~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|", ["node 1", "got 2"]),
        # malformed edges and nodes
        (VALID.replace("none~0|skip", "none0|skip"), ["'none0'", "op~source"]),
        (VALID.replace("|+|none~0|s", "+|none~0|s"), ["node 1", "'|op~0|...|'"]),
        # empty
        ("", ["empty"]),
        ("   \n", ["empty"]),
    ],
)
def test_bad_string_raises_value_error_naming_the_problem(text, must_mention):
    with pytest.raises(ValueError) as info:
        parse(text)
    for word in must_mention:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("not_a_string", [None, 42, b"|none~0|", ["none"] * 6, SPACE[0]])
def test_non_string_raises_value_error_naming_the_type(not_a_string):
    with pytest.raises(ValueError, match=type(not_a_string).__name__):
        parse(not_a_string)


def check_parse_contract(text):
    """``parse`` returns an Arch that round-trips, or raises ValueError; nothing else."""
    try:
        arch = parse(text)
    except ValueError as err:
        assert str(err)
        return
    assert isinstance(arch, Arch)
    assert str(arch) == text.strip()
    assert parse(str(arch)) == arch


@FUZZ
@given(st.text())
def test_fuzz_parse_arbitrary_text(text):
    check_parse_contract(text)


@FUZZ
@given(st.text(alphabet="|+~0123 \n_-xnoecpkvgalrsi#"))
def test_fuzz_parse_text_made_of_arch_characters(text):
    check_parse_contract(text)


TOKENS = ["|", "+", "~", "~0", "0", "1", "2", "3", "-1", "01", " ", "\n", "\x00", "é", *OPS, "nor_conv_5x5", "None", ""]


@st.composite
def mutated_arch_strings(draw):
    """A valid NB201 string with 1-4 random edits: deletions, insertions, replacements, duplications."""
    text = str(SPACE[draw(st.integers(0, len(SPACE) - 1))])
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 16)))
        token = draw(st.sampled_from(TOKENS))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "swap-halves"]))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + token + text[i:]
        elif kind == "replace":
            text = text[:i] + token + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[i:] + text[:i]
    return text


@FUZZ
@given(mutated_arch_strings())
def test_fuzz_parse_mutated_valid_strings(text):
    check_parse_contract(text)


@FUZZ
@given(st.integers(0, 15624), st.integers(0, 5), st.sampled_from(OPS))
def test_fuzz_replacing_one_op_gives_that_cell(index, edge, op):
    # The one kind of edit that must stay valid: swapping an op name for another allowed one.
    arch = SPACE[index]
    ops = list(arch.ops)
    ops[edge] = op
    pieces = str(arch).split("~")  # piece k ends with the op of edge k
    pieces[edge] = pieces[edge][: -len(arch.ops[edge])] + op
    assert parse("~".join(pieces)) == Arch(tuple(ops))


# --- Arch is a value ---------------------------------------------------------------------------
def test_arch_is_immutable():
    arch = SPACE[42]
    with pytest.raises(dataclasses.FrozenInstanceError):
        arch.ops = ("none",) * 6
    with pytest.raises(TypeError):
        arch.ops[0] = "none"  # a tuple, not a list


def test_arch_equality_and_hash_are_by_content():
    a = parse(VALID)
    b = Arch(("nor_conv_3x3", "none", "skip_connect", "none", "none", "avg_pool_3x3"))
    assert a == b and a is not b
    assert hash(a) == hash(b)
    assert len({a, b, SPACE[a.index]}) == 1
    assert {a: "x"}[b] == "x"
    assert a != SPACE[a.index + 1]
    assert a != str(a)


@pytest.mark.parametrize(
    "ops, must_mention",
    [
        (("none",) * 5, ["6 edges", "5 ops"]),
        (("none",) * 7, ["6 edges", "7 ops"]),
        (("none",) * 5 + ("max_pool_3x3",), ["'max_pool_3x3'", *OPS]),
    ],
)
def test_arch_rejects_bad_ops(ops, must_mention):
    with pytest.raises(ValueError) as info:
        Arch(ops)
    for word in must_mention:
        assert word in str(info.value)


# --- canonical classes -------------------------------------------------------------------------
def test_exactly_6466_canonical_classes():
    assert len({SPACE.canonical(a) for a in ALL}) == 6466


def test_canonical_form_is_nats_bench_unique_string_for_every_cell():
    reference = nats_unique_strings()
    assert len(reference) == 15625 and len(set(reference.values())) == 6466
    assert {str(a) for a in ALL} == set(reference)
    assert all(SPACE.canonical(a) == reference[str(a)] for a in ALL)  # the same string, not only the same classes


NONE6 = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.mark.parametrize(
    "a, b",
    [
        # Both disconnected: every summand of the output is '#' (zero).
        (NONE6, "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|none~2|"),
        # Output cut off from node 1, which is then a dead branch: only node 1's op differs.
        (
            "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|skip_connect~2|",
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|skip_connect~2|",
        ),
        # Addition commutes: node 1 is a skip copy of node 0, so conv3(0)+conv1(1) = conv1(0)+conv3(1).
        (
            "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|none~2|",
            "|skip_connect~0|+|none~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|",
        ),
        # Node 2 feeds nothing (edge 2->3 is none), so what computes node 2 does not matter.
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|",
            "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|none~2|",
        ),
    ],
)
def test_isomorphic_cells_share_a_canonical_key(a, b):
    assert parse(a) != parse(b)
    assert SPACE.canonical(parse(a)) == SPACE.canonical(parse(b))


@pytest.mark.parametrize(
    "a, b",
    [
        # A different op on the only path.
        (
            "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
            "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
        ),
        # Composition does not commute: pool(conv(x)) vs conv(pool(x)).
        (
            "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|none~2|",
            "|avg_pool_3x3~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|",
        ),
        # Connected vs disconnected.
        ("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", NONE6),
        # x + conv(x) vs conv(x) alone.
        (
            "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|none~2|",
            "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
        ),
        # NB201's rule only spots a zero node fed by one edge: node 2 = '#+#' is not '#', so
        # conv(node 2) stays a term, and these two disconnected cells count as two classes.
        (NONE6, "|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|"),
        # NB201's rule keeps zero summands: a skip detour through node 2 adds a '#' term.
        (
            "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|",
            "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
        ),
    ],
)
def test_different_cells_have_different_canonical_keys(a, b):
    assert SPACE.canonical(parse(a)) != SPACE.canonical(parse(b))


def test_is_connected_agrees_with_the_reference_key():
    # The input shows up as '0' in NB201's key exactly when a path reaches the output
    # (no op name contains a '0').
    reference = nats_unique_strings()
    for arch in ALL:
        assert arch.is_connected() == ("0" in reference[str(arch)])


# --- neighbours, mutation, sampling -------------------------------------------------------------
def test_every_cell_has_24_distinct_neighbours_one_edge_away():
    for arch in ALL:
        neighbours = SPACE.neighbors(arch)
        assert len(neighbours) == 24
        assert len(set(neighbours)) == 24
        assert all(hamming(arch, n) == 1 for n in neighbours)


def test_neighbour_relation_is_symmetric():
    for arch in ALL[::97]:
        for n in SPACE.neighbors(arch):
            assert arch in SPACE.neighbors(n)


RNGS = pytest.mark.parametrize(
    "make_rng", [random.Random, np.random.default_rng], ids=["random.Random", "numpy.Generator"]
)


@RNGS
def test_mutate_changes_exactly_one_edge_and_is_reproducible(make_rng):
    def walk(seed):
        rng, arch, path = make_rng(seed), SPACE[0], []
        for _ in range(300):
            arch = SPACE.mutate(arch, rng)
            path.append(arch)
        return path

    path = walk(7)
    assert path == walk(7)
    assert path != walk(8)
    for before, after in zip([SPACE[0], *path], path):
        assert hamming(before, after) == 1


@RNGS
def test_mutate_is_uniform_over_the_24_neighbours(make_rng):
    rng, arch = make_rng(0), parse(VALID)
    counts = Counter(SPACE.mutate(arch, rng) for _ in range(2400))
    assert set(counts) == set(SPACE.neighbors(arch))
    assert chi_square(counts.values(), 100) < 70  # 23 dof: mean 23, sd 6.8


@RNGS
def test_sample_is_reproducible(make_rng):
    def draw(seed):
        rng = make_rng(seed)
        return [SPACE.sample(rng) for _ in range(100)]

    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


@RNGS
def test_sample_is_uniform_over_ops_on_every_edge(make_rng):
    rng = make_rng(2024)
    samples = [SPACE.sample(rng) for _ in range(5000)]
    per_edge = Counter((e, op) for a in samples for e, op in enumerate(a.ops))
    assert len(per_edge) == 30
    assert chi_square(per_edge.values(), 1000) < 75  # 6 edges x 4 dof = 24 dof: mean 24, sd 6.9
    overall = Counter(op for a in samples for op in a.ops)
    assert chi_square(overall.values(), 6000) < 30  # 4 dof
    # Edges are drawn independently: 5,000 uniform draws hit about 15625 * (1 - e^(-5000/15625)) = 4,280 cells.
    assert 4100 < len(set(samples)) < 4450


def test_randbelow_rejects_other_rngs():
    for bad in (np.random.RandomState(0), 0, None, random):
        with pytest.raises(TypeError, match="random.Random or numpy.random.Generator"):
            _randbelow(bad, 5)
    with pytest.raises(TypeError):
        SPACE.sample(np.random.RandomState(0))


# --- encoding ----------------------------------------------------------------------------------
def test_encode_is_one_hot_per_edge():
    arch = parse(VALID)
    x = SPACE.encode(arch)
    assert x.shape == (30,) and x.dtype == np.float32
    assert x.sum() == 6 and set(np.unique(x)) == {0.0, 1.0}
    blocks = x.reshape(6, 5)
    assert (blocks.sum(1) == 1).all()
    assert tuple(OPS[k] for k in blocks.argmax(1)) == arch.ops


def test_encode_is_injective_over_the_space():
    x = SPACE.encode_many(ALL)
    assert x.shape == (15625, 30)
    assert (x.sum(1) == 6).all()
    assert len(np.unique(x, axis=0)) == 15625


def test_encode_many_of_nothing_is_empty():
    assert SPACE.encode_many([]).shape == (0, 30)


def test_arch_from_a_list_becomes_a_hashable_tuple():
    arch = Arch(["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "none"])
    assert isinstance(arch.ops, tuple) and hash(arch) == hash(Arch(tuple(arch.ops)))
