# shellcheck shell=bash
# Sourced by .ci/slurm-up and .ci/slurm-down (after slurm-lib.sh): the network
# that makes one machine two Slurm nodes. Each node is a network namespace
# named after it, joined to a bridge in this machine's namespace by a veth
# pair; the bridge holds CONTROLLER_ADDRESS. /etc/hosts names the nodes, so
# that a job can reach the first host of `scontrol show hostnames`.

readonly BRIDGE=mlc-br0
readonly NETWORK_PREFIX=24
readonly HOSTS_FILE=/etc/hosts
readonly HOSTS_MARK="# mlc-slurm test cluster node"

host_side_link() { echo "veth-$1"; }  # at most 15 characters: veth-mlc-n1

link_exists() { ip link show "$1" >/dev/null 2>&1; }

namespace_exists() { [[ -e /run/netns/$1 ]]; }

# Link $2 in namespace $1 (this machine's when empty) has address $3. (Not a
# pipe into grep -q: under pipefail, ip's SIGPIPE would make it fail.)
has_address() {
  local addresses
  addresses=$(ip ${1:+-n "$1"} -o addr show dev "$2")
  [[ $addresses == *" $3/"* ]]
}

# Creates what is missing of the bridge, the namespaces and their links;
# leaves what exists alone, so that running slurmd keep their network.
network_up() {
  local index node address link
  if ! link_exists "$BRIDGE"; then
    ip link add "$BRIDGE" type bridge
  fi
  if ! has_address "" "$BRIDGE" "$CONTROLLER_ADDRESS"; then
    ip addr add "$CONTROLLER_ADDRESS/$NETWORK_PREFIX" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  for index in "${!NODE_NAMES[@]}"; do
    node=${NODE_NAMES[index]}
    address=${NODE_ADDRESSES[index]}
    link=$(host_side_link "$node")
    namespace_exists "$node" || ip netns add "$node"
    if ! link_exists "$link"; then
      ip link add "$link" type veth peer name eth0 netns "$node"
    fi
    ip link set "$link" master "$BRIDGE"
    ip link set "$link" up
    ip -n "$node" link set lo up
    if ! has_address "$node" eth0 "$address"; then
      ip -n "$node" addr add "$address/$NETWORK_PREFIX" dev eth0
    fi
    ip -n "$node" link set eth0 up
  done
  hosts_entries_up
}

# Replaces the cluster's lines of /etc/hosts with the current ones. Written in
# place (not renamed over), because containers often bind-mount the file.
hosts_entries_up() {
  local index wanted current
  wanted=$(for index in "${!NODE_NAMES[@]}"; do
    printf '%s %s %s\n' "${NODE_ADDRESSES[index]}" "${NODE_NAMES[index]}" "$HOSTS_MARK"
  done)
  current=$(grep -F "$HOSTS_MARK" "$HOSTS_FILE" || true)
  [[ $current == "$wanted" ]] && return 0
  hosts_entries_down
  printf '%s\n' "$wanted" >>"$HOSTS_FILE"
}

hosts_entries_down() {
  local kept
  grep -qF "$HOSTS_MARK" "$HOSTS_FILE" || return 0
  kept=$(grep -vF "$HOSTS_MARK" "$HOSTS_FILE" || true)
  printf '%s\n' "$kept" >"$HOSTS_FILE"
}

# Removes the namespaces, links and bridge (deleting a namespace deletes its
# end of the veth pair, and with it the host's end).
network_down() {
  local node link
  for node in "${NODE_NAMES[@]}"; do
    link=$(host_side_link "$node")
    if link_exists "$link"; then ip link del "$link"; fi
    if namespace_exists "$node"; then ip netns del "$node"; fi
  done
  if link_exists "$BRIDGE"; then ip link del "$BRIDGE"; fi
  hosts_entries_down
}

# Runs "$@" as node $1: in its network namespace, and in a UTS namespace of
# its own whose host name is the node's (so that `hostname` in a job names
# its node, as on a real cluster). Files, processes and mounts are shared.
in_node() {
  local node=$1
  shift
  # shellcheck disable=SC2016  # $1 and $@ are the inner shell's
  nsenter --net="/run/netns/$node" -- unshare --uts -- \
    sh -c 'hostname "$1" && shift && exec "$@"' in_node "$node" "$@"
}
