"""Argument vectors for working on an ssh host: run a command in a work dir,
copy files with rsync either way, start a background process with a pid file
and stop it, and share one connection per host. Nothing here runs anything:
each function returns an argv list for `subprocess` (never a shell string).

How a remote command line is quoted
-----------------------------------
ssh does not pass an argv to the remote side: it joins the words after the
host with spaces into one string, and the remote user's login shell parses
that string (`$SHELL -c STRING`). Quoting therefore has to be for the remote
shell, and joining must not change anything. So every ssh argv built here
ends with exactly one word after `--` and the host: a command line already
quoted for a POSIX shell (sh, dash, bash, zsh as the login shell; csh/tcsh
and fish are not supported), of the form

    bash -c '<script>' mlc-ssh '<value 1>' '<value 2>' ...

The script is a constant of this module; it reads values only as "$1", "$2",
..., so no value is ever parsed as shell text on either side. Each value is
single-quoted (`shlex.quote`: inside '...' a POSIX shell expands nothing; a
quote is written '"'"'), so spaces, quotes, $(...), backquotes, globs,
newlines, leading dashes and any UTF-8 arrive byte for byte. Values cannot
contain NUL (no argv can); that raises ValueError, as do environment names
that are not shell identifiers. Relative paths on the host are relative to
the login directory (the remote shell starts there).

`ssh` itself is called as `ssh <options> -- HOST LINE`: after `--` ssh reads
no more options, even from words after the host.

Exit status of a remote run: the command's own, or 255 when ssh itself failed
(connection refused or timed out, authentication, host key).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# The name the remote `bash -c` script runs under ($0): shown in its errors.
SCRIPT_NAME = "mlc-ssh"

# A Unix socket path is at most 108 bytes on Linux (sun_path); ssh also
# appends a random suffix while it creates the socket. Paths longer than this
# go to a short fallback directory (see `control_path`).
_MAX_CONTROL_PATH = 90

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Characters a host word must not contain: ssh would split on them, or read
# them as an option.
_BAD_HOST = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SshHost:
    """One ssh host as mlc reaches it.

    host: what `ssh` takes: an alias of the user's ssh config, or
        `[user@]hostname`.
    control_dir: where the socket of the shared connection lives (the run's
        `.mlc/ssh/`); created by `prepare_control_dir`.
    config_file: an ssh config file read instead of ~/.ssh/config (the tests'
        server, a CI machine); None for the user's own.
    connect_timeout: seconds for the TCP connect and the ssh handshake.
    alive_interval, alive_count: a connection that stops answering is dropped
        after about interval x count seconds (ServerAliveInterval/CountMax).
    persist: seconds the shared connection stays open after its last use.
    """

    host: str
    control_dir: Path
    config_file: Path | None = None
    connect_timeout: int = 10
    alive_interval: int = 15
    alive_count: int = 3
    persist: int = 300

    def __post_init__(self) -> None:
        if not self.host or self.host.startswith("-") or _BAD_HOST.search(self.host):
            raise ValueError(f"not an ssh host: {self.host!r}")
        for name in ("connect_timeout", "alive_interval", "alive_count", "persist"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(f"a value passed over ssh cannot contain NUL: {value!r}")
    return value


def _ssh_config_word(value: str) -> str:
    """`value` as one word of an ssh config line (ssh reads `-o Key=Value` as
    a config line): double-quoted, with \\ and " escaped (OpenSSH's argv_split)."""
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise ValueError(f"an ssh option value cannot contain control characters: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def control_path(host: SshHost) -> Path:
    """The socket of `host`'s shared connection: a short name derived from the
    host and config file, in `host.control_dir`, or, when that path would be
    too long for a Unix socket or holds control characters, in a private
    directory under the system's temp dir named after the control dir."""
    identity = f"{host.host}\0{host.config_file or ''}"
    name = hashlib.sha256(identity.encode()).hexdigest()[:16]
    preferred = Path(os.path.abspath(host.control_dir)) / name
    text = str(preferred)
    if len(os.fsencode(text)) <= _MAX_CONTROL_PATH and not re.search(r"[\x00-\x1f\x7f]", text):
        return preferred
    run = hashlib.sha256(os.fsencode(text)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mlc-ssh-{os.getuid()}" / run


def prepare_control_dir(host: SshHost) -> Path:
    """Creates the directory of `host`'s control socket (mode 0700: whoever
    can reach the socket can use the connection) and returns the socket path."""
    path = control_path(host)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The fallback directory sits in a shared temp dir: use it only if it is
    # ours (not another user's, not a symlink planted there).
    status = path.parent.lstat()
    if path.parent.is_symlink() or status.st_uid != os.getuid():
        raise PermissionError(f"the ssh control directory {path.parent} is not owned by this user")
    path.parent.chmod(0o700)
    return path


def ssh_options(host: SshHost) -> list[str]:
    """The options every ssh call to `host` takes: never prompt, bounded
    connect and liveness, and one shared connection (ControlMaster=auto: the
    first call opens it, later calls reuse it; a dead one's stale socket is
    removed and a new connection made)."""
    options = []
    if host.config_file is not None:
        options += ["-F", os.fspath(host.config_file)]
    # `%` starts a token in ControlPath; a literal one is `%%`.
    socket = str(control_path(host)).replace("%", "%%")
    for key, value in (
        ("BatchMode", "yes"),
        ("ConnectTimeout", str(host.connect_timeout)),
        ("ServerAliveInterval", str(host.alive_interval)),
        ("ServerAliveCountMax", str(host.alive_count)),
        ("ControlMaster", "auto"),
        ("ControlPath", _ssh_config_word(socket)),
        ("ControlPersist", str(host.persist)),
    ):
        options += ["-o", f"{key}={value}"]
    return options


def ssh_argv(host: SshHost, line: str, *, keep_stdin: bool = False) -> list[str]:
    """ssh running `line`, a command line already quoted for the remote
    shell. stdin is /dev/null unless `keep_stdin`."""
    return ["ssh", *ssh_options(host), "-T", *([] if keep_stdin else ["-n"]), "--", host.host, _no_nul(line)]


def _script_line(script: str, values: Sequence[str]) -> str:
    """`bash -c SCRIPT mlc-ssh VALUE...` quoted for a POSIX login shell."""
    words = ["bash", "-c", script, SCRIPT_NAME, *(_no_nul(value) for value in values)]
    return " ".join(shlex.quote(word) for word in words)


def _env_words(env: Mapping[str, str] | None) -> list[str]:
    words = []
    for name, value in sorted((env or {}).items()):
        if not _ENV_NAME.match(name):
            raise ValueError(f"not an environment variable name: {name!r}")
        words.append(f"{name}={value}")
    return words


def _argv_words(argv: Sequence[str]) -> list[str]:
    if not argv:
        raise ValueError("an empty command")
    return [os.fspath(word) for word in argv]


# Shared by the remote scripts. Arguments: WORKDIR [NAME=VALUE ...] -- ...;
# enters WORKDIR (made if missing) and exports the assignments, leaving the
# words after `--` in "$@". `export "NAME=VALUE"` assigns the value as it is.
_ENTER = r"""
mkdir -p -- "$1" && cd -- "$1" || exit 1
shift
while [ "$1" != -- ]; do export -- "${1?}"; shift; done
shift
"""

# Process identity for pid files: "PID START", START being the start time
# (field 22 of /proc/PID/stat), so that a recycled pid is not taken for the
# process; "-" where /proc is missing. A group whose leader has exited is
# still ours while any member lives: Linux does not reuse a pid that is still
# some group's id. Zombies do not count: kill -0 reaches them, but they are
# gone except for their parent's wait (which, orphaned, may never come).
_PROCESS = r"""
group_alive() {
  if command -v ps >/dev/null 2>&1; then
    ps -e -o pgid= -o stat= | awk -v group="$1" '$1 == group && $2 !~ /^Z/ { found = 1 } END { exit !found }'
  else
    kill -0 -- "-$1" 2>/dev/null
  fi
}
start_time() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -; return; }
  # Fields after the command name, which may hold spaces and parentheses:
  # the 22nd of the line is the 20th of these.
  read -r -a fields <<<"${stat##*) }"
  echo "${fields[19]}"
}
read_pid_file() {
  pid='' start=''
  [ -s "$1" ] && read -r pid start <"$1"
  case $pid in '' | *[!0-9]*) pid= ;; esac
}
alive() {
  [ -n "$pid" ] && group_alive "$pid" || return 1
  local now
  now=$(start_time "$pid")
  [ "$now" = - ] || [ "${start:--}" = - ] || [ "$now" = "$start" ]
}
"""

_RUN = _ENTER + 'exec "$@"\n'

_START = (
    _PROCESS
    + r"""
pid_file=$1 log_file=$2
shift 2
"""
    + _ENTER
    + r"""
read_pid_file "$pid_file"
if alive; then
  echo "$0: already running as process group $pid (pid file $pid_file)" >&2
  exit 3
fi
rm -f -- "$pid_file"
# In a shell without job control a background child is not a group leader,
# so setsid does not fork: $! is the new session's (and group's) id.
setsid -- "$@" </dev/null >>"$log_file" 2>&1 &
pid=$!
printf '%s %s\n' "$pid" "$(start_time "$pid")" >"$pid_file.new" && mv -f -- "$pid_file.new" "$pid_file"
"""
)

_STATUS = (
    _PROCESS
    + r"""
cd -- "$1" || exit 1
read_pid_file "$2"
alive
"""
)

_STOP = (
    _PROCESS
    + r"""
cd -- "$1" || exit 1
pid_file=$2 grace_tenths=$(($3 * 10))
read_pid_file "$pid_file"
if alive; then
  kill -TERM -- "-$pid" 2>/dev/null
  while alive && [ "$grace_tenths" -gt 0 ]; do sleep 0.1; grace_tenths=$((grace_tenths - 1)); done
  if alive; then
    echo "$0: process group $pid ignored SIGTERM for $3 s; killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null
    tenths=50
    while alive && [ "$tenths" -gt 0 ]; do sleep 0.1; tenths=$((tenths - 1)); done
    alive && { echo "$0: process group $pid survived SIGKILL" >&2; exit 1; }
  fi
fi
rm -f -- "$pid_file"
"""
)


def run_argv(
    host: SshHost,
    argv: Sequence[str],
    workdir: str,
    env: Mapping[str, str] | None = None,
    *,
    keep_stdin: bool = False,
) -> list[str]:
    """Runs `argv` on the host in `workdir` (made if missing) with `env`
    added to the login environment. The exit status is argv's, 1 if the work
    dir cannot be made or entered, 255 if ssh failed."""
    values = [workdir, *_env_words(env), "--", *_argv_words(argv)]
    return ssh_argv(host, _script_line(_RUN, values), keep_stdin=keep_stdin)


def start_background_argv(
    host: SshHost,
    argv: Sequence[str],
    workdir: str,
    pid_file: str,
    log_file: str,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Starts `argv` on the host in `workdir`, detached in a session (and
    process group) of its own, stdin from /dev/null, stdout and stderr
    appended to `log_file`; writes "PID START" to `pid_file` (both relative
    to workdir unless absolute) and returns at once. Exit status 3 if the pid
    file names a process still running; a stale pid file is replaced."""
    values = [pid_file, log_file, workdir, *_env_words(env), "--", *_argv_words(argv)]
    return ssh_argv(host, _script_line(_START, values))


def status_argv(host: SshHost, workdir: str, pid_file: str) -> list[str]:
    """Exit status 0 if the process group of `pid_file` is running, 1 if not
    (no pid file, or a stale one), 255 if ssh failed."""
    return ssh_argv(host, _script_line(_STATUS, [workdir, pid_file]))


def stop_background_argv(host: SshHost, workdir: str, pid_file: str, grace: int = 10) -> list[str]:
    """Stops the process group of `pid_file`: SIGTERM, SIGKILL after `grace`
    seconds; then removes the pid file. Succeeds when nothing was running
    (a stale or missing pid file)."""
    if grace < 0:
        raise ValueError(f"grace must not be negative, not {grace}")
    return ssh_argv(host, _script_line(_STOP, [workdir, pid_file, str(grace)]))


def check_master_argv(host: SshHost) -> list[str]:
    """Exit status 0 if the shared connection is open (ssh prints its pid:
    "Master running (pid=N)" on stderr)."""
    return ["ssh", *ssh_options(host), "-O", "check", "--", host.host]


def close_master_argv(host: SshHost) -> list[str]:
    """Closes the shared connection (fails harmlessly when none is open)."""
    return ["ssh", *ssh_options(host), "-O", "exit", "--", host.host]


def _rsync_shell_word(word: str) -> str:
    """`word` as rsync splits its -e command: on spaces, with '...' or "..."
    grouping and a doubled quote standing for itself (rsync(1), --rsh)."""
    if word and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", word):
        return word
    return "'" + word.replace("'", "''") + "'"


def _local_path(path: str | os.PathLike[str]) -> str:
    # Absolute, so that rsync never reads a leading dash as an option or a
    # colon before the first slash as `host:path`; a trailing slash (copy the
    # contents) is kept.
    text = os.fspath(path)
    absolute = os.path.abspath(text)
    return absolute + "/" if text.endswith("/") and absolute != "/" else absolute


def _as_directory(path: str) -> str:
    # A destination ending in `/` is a directory to rsync: made if missing,
    # never taken for the name of a single copied file.
    return path if path.endswith("/") else path + "/"


def _remote_path(host: SshHost, path: str) -> str:
    _no_nul(path)
    if not path:
        raise ValueError("an empty remote path")
    # A relative path is relative to the login directory; `./` keeps a
    # leading dash from being read as an option by the remote rsync.
    if path.startswith("-"):
        path = "./" + path
    return f"{host.host}:{path}"


def _rsync_argv(host: SshHost, sources: Sequence[str], destination: str, io_timeout: int) -> list[str]:
    """rsync -a from `sources` to `destination` (one side `host:path`)
    through `host`'s shared connection."""
    shell = " ".join(_rsync_shell_word(word) for word in ["ssh", *ssh_options(host)])
    # -s (--protect-args, called --secluded-args since rsync 3.3): file names
    # travel inside rsync's protocol, never through the remote shell. rsync has
    # it since 3.0 (2008) on both ends. --timeout bounds a stalled transfer.
    return ["rsync", "-a", "-s", f"--timeout={io_timeout}", "-e", shell, "--", *sources, destination]


def rsync_push_argv(
    host: SshHost, local_sources: Sequence[str | os.PathLike[str]], remote_dir: str, *, io_timeout: int = 120
) -> list[str]:
    """Copies local files or directories into `remote_dir` on the host (made
    if missing, its parent must exist). rsync's rules: a source `dir/` copies
    dir's contents, `dir` the directory itself."""
    if not local_sources:
        raise ValueError("nothing to copy")
    sources = [_local_path(source) for source in local_sources]
    return _rsync_argv(host, sources, _remote_path(host, _as_directory(remote_dir)), io_timeout)


def rsync_pull_argv(
    host: SshHost, remote_sources: Sequence[str], local_dir: str | os.PathLike[str], *, io_timeout: int = 120
) -> list[str]:
    """Copies files or directories of the host into local `local_dir` (made
    if missing, its parent must exist); sources as in `rsync_push_argv`."""
    if not remote_sources:
        raise ValueError("nothing to copy")
    sources = [_remote_path(host, source) for source in remote_sources]
    return _rsync_argv(host, sources, _as_directory(_local_path(local_dir)), io_timeout)
