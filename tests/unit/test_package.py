"""The package's public names: listed once, all importable."""

import wca_sim


def test_every_public_name_resolves_and_all_lists_them():
    assert set(wca_sim.__all__) == {"__version__", *wca_sim._EXPORTS}
    for name in wca_sim.__all__:
        assert getattr(wca_sim, name) is not None


def test_unknown_attribute_is_an_attribute_error():
    try:
        wca_sim.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
