"""keras_ae.registry: duplicates refused, unknown names listed."""

import pytest

from keras_ae.registry import Registry


def test_registry_rejects_duplicates_and_names_the_known_entries():
    reg = Registry("widget")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", 2)
    with pytest.raises(ValueError, match=r"unknown widget 'b' \(known: a\)"):
        reg.get("b")
    reg.register("a", 3, replace=True)
    assert reg["a"] == 3 and list(reg) == ["a"]
