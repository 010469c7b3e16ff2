import pytest

from dashboards.promql import operands, substitute


def test_substitute_replaces_grafana_variables_in_both_spellings() -> None:
    expr = 'sum(rate(x{job=~"$job", centre=~"${centre}"}[$__rate_interval]))'
    assert substitute(expr) == 'sum(rate(x{job=~".+", centre=~".+"}[1m]))'
    assert substitute('x{job=~"$job"}', {"job": "vigie-server"}) == 'x{job=~"vigie-server"}'


def test_substitute_refuses_an_unknown_variable() -> None:
    with pytest.raises(KeyError, match="instance"):
        substitute('x{instance="$instance"}')


def test_operands_drop_scalar_thresholds_and_binary_modifiers() -> None:
    assert operands("a:ratio >= 0.8") == ["a:ratio"]
    assert operands("predict_linear(a[5m], 300) >= on (instance, job) (cap > 0)") == [
        "predict_linear(a[5m], 300)",
        "(cap > 0)",
    ]
    assert operands("r * 60 > 20\nand\nr * 60 > 0.05 * open") == ["r * 60", "r * 60", "0.05 * open"]
    assert operands("a > bool 1") == ["a"]


def test_operands_ignore_operators_inside_selectors_strings_and_calls() -> None:
    expr = 'sum by (le) (rate(x_bucket{code!="200", path=~"a>b|and"}[1m]))'
    assert operands(expr) == [expr]
    assert operands('up{job=~"vigie.*"} == 0') == ['up{job=~"vigie.*"}']
    # "and" inside an identifier is not the operator.
    assert operands("standard_metric > 1") == ["standard_metric"]
