# shellcheck shell=bash disable=SC2034  # the constants are used by the scripts that source this
# Shared by .ci/slurm-up and .ci/slurm-down (sourced, not run): where the
# two-node test cluster keeps its files, and how its daemons are found and
# stopped. Daemons are only ever addressed by the pid in their pid file.

readonly SLURM_CONF_DIR=/etc/slurm                 # the clients' default: no SLURM_CONF needed
readonly SLURM_LOG_DIR=/var/log/slurm
readonly SLURM_STATE_DIR=/var/lib/slurm
readonly SLURMCTLD_PID_FILE=/run/slurmctld.pid
readonly SLURMDBD_PID_FILE=/run/slurmdbd.pid
# The single-node cluster's slurmd, which an older slurm-up may have left running.
readonly OLD_SLURMD_PID_FILE=/run/slurmd.pid
readonly MUNGE_RUN_DIR=/run/munge
readonly MUNGED_PID_FILE=$MUNGE_RUN_DIR/munged.pid
readonly MUNGED_LOG_FILE=/var/log/munge/munged.log
readonly MLC_SLURM_ENV_FILE=/run/mlc-slurm.env     # what the tests read (see docs/slurm-test-cluster.md)

# The compute nodes: one slurmd each, in a network namespace of the node's
# name with the node's own address (.ci/slurm-net.sh).
readonly NODE_NAMES=(mlc-n1 mlc-n2)
readonly NODE_ADDRESSES=(10.77.0.11 10.77.0.12)
# This machine's address on the bridge that joins the nodes: where slurmctld
# and slurmdbd are reached from inside the namespaces.
readonly CONTROLLER_ADDRESS=10.77.0.1

# slurm.conf expands %n to the node name in these.
slurmd_pid_file() { echo "/run/slurmd-$1.pid"; }
slurmd_log_file() { echo "$SLURM_LOG_DIR/slurmd-$1.log"; }

# Prints the pid recorded in pid file $1 if that process is alive and runs the
# program named $2 (a pid file left by a dead daemon may name a recycled pid).
daemon_pid() {
  local pid_file=$1 program=$2 pid comm
  [[ -r $pid_file ]] || return 1
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == "$program"* ]] || return 1
  echo "$pid"
}

# Process $1 is still running: not gone, and not a zombie (the container's
# init reaps the daemons, which it inherits, only about once a second).
is_running() {
  local state
  state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# Waits up to $2 tenths of a second for process $1 to exit; fails if it did not.
wait_for_exit() {
  local pid=$1 tenths=$2
  while is_running "$pid" && ((tenths-- > 0)); do sleep 0.1; done
  ! is_running "$pid"
}

# Stops the daemon of pid file $1 / program $2: SIGTERM, then SIGKILL if it is
# still there after 10 s. Succeeds when nothing was running.
stop_daemon() {
  local pid_file=$1 program=$2 pid
  pid=$(daemon_pid "$pid_file" "$program") || { rm -f "$pid_file"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for_exit "$pid" 100; then
    echo "slurm: $program (pid $pid) ignored SIGTERM for 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait_for_exit "$pid" 50 || true
  fi
  rm -f "$pid_file"
}
