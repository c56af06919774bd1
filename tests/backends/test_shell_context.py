"""compiler/shell_context.py: where a `${...}` lands in the shell, how the
command refers to its variable there, and what cannot be read."""

from __future__ import annotations

import subprocess
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.shell_context import ShellSyntaxError, Site, SiteError, render

V = Site("VALUE_p", ("v",))


def text_of(*pieces) -> str:
    return render(list(pieces)).text


@pytest.mark.parametrize("before, after, expected", [
    ("echo ", "", 'echo "${MLC_VALUE_p}"'),
    ('echo "a ', ' b"', 'echo "a ${MLC_VALUE_p} b"'),
    ("echo 'a ", " b'", "echo 'a '\"${MLC_VALUE_p}\"' b'"),
    ("echo $'a ", "'", "echo $'a '\"${MLC_VALUE_p}\"$''"),
    ("echo `echo ", "`", 'echo `echo "${MLC_VALUE_p}"`'),
    ('echo "$(echo ', ')"', 'echo "$(echo "${MLC_VALUE_p}")"'),
    ("true # ", "", "true # ${MLC_VALUE_p}"),
    ("cat <<E\n", "\nE", "cat <<E\n${MLC_VALUE_p}\nE"),
    ("cat <<'E'\n", "\nE", "cat <<'E'\nv\nE"),
    ("cat <<-\"E\"\n\t", "\n\tE", "cat <<-\"E\"\n\tv\n\tE"),
    ('echo ${x:-', '}', 'echo ${x:-"${MLC_VALUE_p}"}'),
    ("cat <<<", "", 'cat <<<"${MLC_VALUE_p}"'),
    ("echo a\\\n", "", 'echo a\\\n"${MLC_VALUE_p}"'),
])
def test_each_context_refers_to_the_variable_its_own_way(before, after, expected):
    assert text_of(before, V, after) == expected


def test_backticks_end_where_bash_ends_them_and_old_arithmetic_counts():
    with pytest.raises(ShellSyntaxError, match='`"` quote'):
        render(['echo "`echo "`', V, '"'])  # bash reads `echo "` inside the backticks
    with pytest.raises(SiteError, match="whole number"):
        render(["echo $[ ", V, " ]"])


def test_arithmetic_takes_whole_numbers_only():
    assert text_of("echo $(( ", Site("VALUE_n", ("12",)), " + 1 ))") == "echo $(( 12 + 1 ))"
    with pytest.raises(SiteError, match="whole number"):
        render(["(( x = ", Site("VALUE_n", ("a[$(id)]",)), " ))"])


def test_a_port_with_several_paths_is_several_words_or_one_string():
    ports = Site("IN_x", ("a b", "c"))
    assert render(["cat ", ports]).text == 'cat "${MLC_IN_x_1}" "${MLC_IN_x_2}"'
    assert render(['echo "', ports, '"']).exports == (("MLC_IN_x_1", "a b"), ("MLC_IN_x_2", "c"))
    assert render(['echo "', ports, '"']).text == 'echo "${MLC_IN_x_1} ${MLC_IN_x_2}"'


def test_variables_are_named_after_the_site_and_unique():
    one, other = Site("VALUE_é", ("1",)), Site("VALUE__", ("2",))
    rendered = render([one, " ", other, " ", one])
    assert rendered.exports == (("MLC_VALUE__", "1"), ("MLC_VALUE___2", "2"))


def test_a_heredoc_after_sites_on_its_line_keeps_the_order():
    rendered = render(["cat <<'E' ", Site("VALUE_a", ("1",)), "\n", Site("VALUE_b", ("2",)), "\nE"])
    assert rendered.text == "cat <<'E' \"${MLC_VALUE_a}\"\n2\nE"


@pytest.mark.parametrize("value", ["E", "x\nE", "E\nx", "\tE"])
def test_a_value_ending_a_quoted_heredoc_is_refused(value):
    with pytest.raises(SiteError, match="end the here-document"):
        render(["cat <<-'E'\n", Site("VALUE_p", (value,)), "\nE"])


def test_a_value_joining_its_neighbours_into_the_end_line_is_refused():
    with pytest.raises(SiteError):
        render(["cat <<'END'\nE", Site("VALUE_p", ("N",)), "D\nEND"])


@pytest.mark.parametrize("command", [
    "echo 'open", 'echo "open', "echo $(open", "echo `open", "cat <<E\nno end", "cat <<", "echo ${x",
    "echo $((1 + 2)", "echo \\", "cat <<E \"a\nb\"\nE",
    "cat <<'E' $(echo\n)\nE", "echo \"${x:-'a'}\"", "cat <<$E\nE", "cat <<'E'\\\n\nE", "x=`cat <<'E'`",
])
def test_what_cannot_be_read_is_an_error(command):
    with pytest.raises(ShellSyntaxError):
        render([command, " ", V] if not command.endswith("\\") else [command, V])


def test_a_backslash_right_before_a_site_is_an_error():
    with pytest.raises(ShellSyntaxError, match="right before"):
        render(["echo \\", V])


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(ShellSyntaxError, match="nest"):
        render(["$(" * 5000 + "x" + ")" * 5000])


def test_scanning_is_linear():
    def seconds(n: int) -> float:
        command = ["echo 'a' \"b\" $(c) `d` ${e} # f\n" * n, V]
        start = time.perf_counter()
        render(command)
        return time.perf_counter() - start
    small, large = seconds(2_000), seconds(20_000)
    assert large < 30 * small + 0.05


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["'", '"', "`", "$(", ")", "${", "}", "$((", "))", "<<", "<<-", "E", "'E'",
                                 "\n", "\\", "#", " ", "a", "$'", None]), max_size=30))
def test_any_text_is_read_or_refused_never_crashes(tokens):
    pieces = [V if t is None else t for t in tokens]
    try:
        render(pieces)
    except (ShellSyntaxError, SiteError):
        pass


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["echo ", "'a ", "' ", '"b ', '" ', "$(c ", ") ", "`d ", "` ", "# c\n",
                                 "cat <<E\n", "cat <<'E'\n", "\nE\n", "\n", None]), max_size=14))
def test_what_is_read_stays_valid_bash(tokens):
    """When bash accepts the command with plain words at the sites, it
    accepts what mlc makes of it."""
    plain = "".join("w" if t is None else t for t in tokens)
    if subprocess.run(["bash", "-n", "-c", plain], capture_output=True).returncode != 0:
        return
    try:
        rendered = render([V if t is None else t for t in tokens])
    except (ShellSyntaxError, SiteError):
        return
    assert subprocess.run(["bash", "-n", "-c", rendered.text], capture_output=True).returncode == 0, rendered.text


HOSTILE_VALUE = "$(touch pwned1)`touch pwned2`'\"$(touch pwned3)\"\n; touch pwned4\n$((a[$(touch pwned5)]))"
FRAGMENTS = ["echo ", "cat ", "true", " ", "\n", ";", "'", '"', "`", "$(", ")", "${x:-", "}", "$((", "))", "$[",
             "]", "#", "<<E", "<<'E'", "<<-'E'", '<<"E"', "<<\\E", "E", "\tE", "\\", "$'", "case a in a) ",
             ";; esac", "(", "|", "&&", "cat <<'E'\n", "cat <<E\n", "\nE\n", None, None, None]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=16))
def test_no_command_makes_bash_run_the_value(tmp_path_factory, tokens):
    """Differential against bash itself: whatever command text surrounds the
    sites, what mlc renders never makes bash run code from the value."""
    try:
        rendered = render([Site("VALUE_p", (HOSTILE_VALUE,)) if t is None else t for t in tokens])
    except (ShellSyntaxError, SiteError):
        return
    folder = tmp_path_factory.mktemp("bash")
    subprocess.run(["bash", "-c", rendered.text], cwd=folder, capture_output=True, timeout=10,
                   stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", **dict(rendered.exports)})
    assert not list(folder.glob("pwned*")), rendered.text
