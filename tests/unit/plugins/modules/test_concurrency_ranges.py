"""concurrency and image_concurrency are checked by the one owner of numeric ranges (options.check_number).

Before, each module had its own lower-bound check with its own wording and none had the documented
upper bound, so ``concurrency: 1000`` started a thousand threads.
"""

from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidOptionError
from ansible_collections.oci.registry.plugins.module_utils._options import check_number
from ansible_collections.oci.registry.plugins.modules import registry_copy, registry_delete, registry_tag_info
from ansible_collections.oci.registry.tests.unit.plugins.modules.module_runner import run

# Port 9 (discard) on loopback: nothing listens, so a request sent before validation would fail
# with a connection error, not with the range message the test looks for.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.mark.parametrize("value", [0, 65])
def test_concurrency_out_of_range_gets_the_same_message_in_every_module(value, capsys):
    with pytest.raises(InvalidOptionError) as caught:
        check_number("concurrency", value)
    expected = caught.value.message
    results = [
        run(registry_copy, capsys, src=UNREACHABLE + "/a/b:1", dest=UNREACHABLE + "/a/c:1", concurrency=value),
        run(registry_delete, capsys, registry_url=UNREACHABLE, concurrency=value,
            repositories=[{"repository": "a/b", "tags": ["old"]}]),
        run(registry_tag_info, capsys, registry_url=UNREACHABLE, repositories=["a/b"], concurrency=value),
    ]
    for result in results:
        assert result["failed"] is True
        assert expected in result["msg"], result["msg"]
        assert "between 1 and 64" in result["msg"]


@pytest.mark.parametrize("value", [0, 65])
def test_image_concurrency_out_of_range_is_refused_before_any_request(value, capsys):
    result = run(registry_copy, capsys, images=[{"src": UNREACHABLE + "/a/b:1", "dest": UNREACHABLE + "/a/c:1"}],
                 image_concurrency=value)
    assert result["failed"] is True
    assert "image_concurrency is %d; it must be between 1 and 64" % value in result["msg"], result["msg"]
