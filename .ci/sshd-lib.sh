# shellcheck shell=bash disable=SC2034  # the constants are used by the scripts that source this
# Shared by .ci/sshd-up and .ci/sshd-down (sourced, not run): where the test
# OpenSSH server keeps its files, and how it is found and stopped. It is not
# the system's ssh service: its own sshd on 127.0.0.1 and a high port, its own
# host key, config and client key, addressed only by the pid in its pid file.

readonly MLC_SSHD_PORT=${MLC_SSHD_PORT:-2222}
readonly MLC_SSHD_STATE_DIR=/var/lib/mlc-sshd          # keys, configs, known_hosts, log
readonly MLC_SSHD_RUN_DIR=/run/mlc-sshd
readonly MLC_SSHD_PID_FILE=$MLC_SSHD_RUN_DIR/sshd.pid
readonly MLC_SSHD_CONFIG=$MLC_SSHD_STATE_DIR/sshd_config
readonly MLC_SSHD_HOST_KEY=$MLC_SSHD_STATE_DIR/ssh_host_ed25519_key
readonly MLC_SSHD_AUTHORIZED_KEYS=$MLC_SSHD_STATE_DIR/authorized_keys
readonly MLC_SSHD_LOG=$MLC_SSHD_STATE_DIR/sshd.log
readonly MLC_SSH_CLIENT_DIR=$MLC_SSHD_STATE_DIR/client
readonly MLC_SSH_CLIENT_KEY=$MLC_SSH_CLIENT_DIR/id_ed25519
readonly MLC_SSH_CLIENT_CONFIG=$MLC_SSH_CLIENT_DIR/ssh_config
readonly MLC_SSH_KNOWN_HOSTS=$MLC_SSH_CLIENT_DIR/known_hosts
readonly MLC_SSH_HOST_ALIAS=mlc-test-ssh
readonly MLC_SSH_SCRATCH=/tmp/mlc-ssh-scratch          # the root of the tests' remote work dirs
readonly MLC_SSH_ENV_FILE=/run/mlc-ssh.env             # what the tests read (see docs/ssh-test-server.md)

# Prints the pid in the pid file if that process is alive and is an sshd (a
# pid file left by a dead sshd may name a recycled pid).
mlc_sshd_pid() {
  local pid comm
  [[ -r $MLC_SSHD_PID_FILE ]] || return 1
  pid=$(<"$MLC_SSHD_PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == sshd ]] || return 1
  echo "$pid"
}

# Stops the sshd of the pid file (its listener only: sessions already open
# end on their own). SIGTERM, then SIGKILL after 10 s. Succeeds when none ran.
stop_mlc_sshd() {
  local pid tenths=100
  pid=$(mlc_sshd_pid) || { rm -f "$MLC_SSHD_PID_FILE"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  while [[ -d /proc/$pid ]] && ((tenths-- > 0)); do sleep 0.1; done
  if [[ -d /proc/$pid ]]; then
    echo "sshd-down: sshd (pid $pid) ignored SIGTERM for 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$MLC_SSHD_PID_FILE"
}
