"""The parameters cell parser: types, descriptions, refusals, and a property test."""
from __future__ import annotations

import keyword

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel_ext.core.model import InputType
from kernel_ext.core.parameters_cell import parse_parameters, type_of_value


def one(source: str):
    params, problems = parse_parameters(source)
    assert problems == [] and len(params) == 1
    return params[0]


@pytest.mark.parametrize("source,kind,item", [
    ("x = 1", InputType.INT, None), ("x = 1.5", InputType.FLOAT, None), ("x = True", InputType.BOOLEAN, None),
    ("x = 'a'", InputType.STRING, None), ("x = '2024-01-31'", InputType.DATE, None),
    ("x = '2024-01-31T06:00:00Z'", InputType.DATETIME, None), ("x = [1, 2]", InputType.ARRAY, InputType.INT),
    ("x = ['a']", InputType.ARRAY, InputType.STRING), ("x = [1, 'a']", InputType.JSON, None),
    ("x = {'a': 1}", InputType.JSON, None), ("x = None", InputType.STRING, None),
    ("x: float = 1", InputType.FLOAT, None), ("x: str = '2024-01-01'", InputType.STRING, None),
    ("x: list[int] = []", InputType.ARRAY, InputType.INT), ("x: dict = {}", InputType.JSON, None),
    ("x: 'date' = '2024-01-01'", InputType.DATE, None), ("x: datetime.date = '2024-01-01'", InputType.DATE, None),
])
def test_types_from_values_and_annotations(source: str, kind: InputType, item: InputType | None) -> None:
    param = one(source)
    assert (param.type, param.item_type) == (kind, item)


def test_literal_annotation_gives_choices() -> None:
    param = one("from typing import Literal\nmode: Literal['fast', 'slow'] = 'fast'  # how hard to try")
    assert param.type is InputType.SELECT and param.choices == ("fast", "slow")
    assert param.description == "how hard to try"


def test_optional_and_required_parameters() -> None:
    assert one("x: int | None = None").optional
    assert one("x: Optional[int] = 3").optional
    required = one("x: int")
    assert not required.has_default and not required.optional and required.type is InputType.INT


def test_trailing_comment_is_the_description_and_hash_in_strings_is_not() -> None:
    assert one("x = 'a # b'   #  the  label ").description == "the  label"
    assert one("x = 'a # b'").description is None


@pytest.mark.parametrize("source,fragment", [
    ("x = foo()", "not a literal"), ("x = y = 1", "not a plain assignment"), ("x, y = 1, 2", "not a plain"),
    ("print(1)", "not a plain"), ("x += 1", "not a plain"), ("'doc'", "bare string"),
    ("%matplotlib inline\nx = 1", "not plain Python"), ("x = 1\nx = 2", "assigned twice"),
    ("x: int = 'a'", "annotated INT"), ("x = {1, 2}", "cannot pass"), ("x = b'a'", "cannot pass"),
    ("x = float('nan')", "not a literal"), ("x = {1: 'a'}", "cannot pass"),
    ("from typing import Literal\nx: Literal['a'] = 'b'", "annotated SELECT"),
])
def test_refusals_name_the_line(source: str, fragment: str) -> None:
    _, problems = parse_parameters(source)
    assert problems and fragment in problems[0].message
    assert problems[0].line is not None


def test_all_problems_are_reported() -> None:
    _, problems = parse_parameters("a = f()\nb = 1\nc = g()\n")
    assert [p.line for p in problems] == [1, 3]


_names = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n))
_scalars = st.one_of(st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=20))
_values = st.one_of(st.none(), _scalars, st.lists(_scalars, max_size=4),
                    st.dictionaries(st.text(max_size=8), _scalars, max_size=3))
_comments = st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
                                         min_size=1, max_size=30).map(str.strip).filter(bool))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_names, st.tuples(_values, _comments), min_size=1, max_size=6))
def test_rendered_parameters_parse_back(params: dict) -> None:
    lines = [f"{name} = {value!r}" + (f"  # {comment}" if comment else "") for name, (value, comment) in params.items()]
    parsed, problems = parse_parameters("\n".join(lines))
    assert problems == []
    assert [p.name for p in parsed] == list(params)
    for p in parsed:
        value, comment = params[p.name]
        assert p.value == value and p.description == comment
        assert p.type is type_of_value(value)[0]
