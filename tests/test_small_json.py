"""render.small_json writes exactly what json.dumps writes, for the data it is used on."""

import json

from hypothesis import example, given
from hypothesis import strategies as st

from cnncalc.render.text import small_json

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(plain)
@example({"warnings": ['quote " backslash \\ newline \n tab \t bell \x07 dash —']})
def test_small_json_is_json_dumps(value):
    assert small_json(value) == json.dumps(value, ensure_ascii=False)
    assert json.loads(small_json(value)) == value
