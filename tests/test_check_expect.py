"""``cnncalc check --expect-...``: expectations given on the command line, for files that
cannot hold them (Darknet, Caffe), checked like a spec's own."""

from click.testing import CliRunner

from cnncalc.cli import main

LENET = "32x32x3 | conv 10 f5 p2 | relu | maxpool f2 | fc 10"


def check(*args: str):
    return CliRunner().invoke(main, ["check", *args])


def test_expectations_that_hold_pass():
    result = check(LENET, "--expect-params", "26370", "--expect-output", "10")
    assert result.exit_code == 0, result.output
    assert "ok — 26,370 params" in result.output


def test_each_unmet_expectation_is_a_line():
    result = check(LENET, "--expect-params", "26371", "--expect-macs", "1", "--expect-output", "9")
    assert result.exit_code == 1
    assert "expected 26,371 parameters, got 26,370" in result.output
    assert "expected 1 MACs, got " in result.output
    assert "expected output 9, got 10" in result.output


def test_a_named_output_must_exist():
    result = check(LENET, "--expect-output", "head=10")
    assert result.exit_code == 1
    assert "expected an output named 'head'" in result.output


def test_bad_expectations_are_usage_errors():
    for args in (
        ("--expect-output", "10", "--expect-output", "11"),
        ("--expect-output", "ten"),
        ("--expect-params", "-1"),
    ):
        result = check(LENET, *args)
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output


def test_from_yaml_reads_a_file_of_any_name(tmp_path):
    spec = tmp_path / "net.cfg"
    spec.write_text("input: 8x8x3\nlayers: [conv 4 f3]\n", encoding="utf-8")
    result = check(str(spec), "--from", "yaml", "--expect-output", "6x6x4")
    assert result.exit_code == 0, result.output


def test_input_checks_at_another_size():
    spec = "8x8x3 | conv 4 f3 p1 name=c"
    assert check(spec, "--input", "16x16x3", "--expect-output", "16x16x4").exit_code == 0
    result = check(spec, "--input", "16x16x3", "--expect-output", "8x8x4")
    assert result.exit_code == 1
    assert "expected output 8x8x4, got 16x16x4" in result.output
    assert check(spec, "--input", "16x16").exit_code == 2
