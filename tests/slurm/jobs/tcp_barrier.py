"""A rendezvous of all the tasks of one srun, in plain Python (no PyTorch).

Run by `srun` on every node: the task of SLURM_PROCID 0 listens on the first
host of `scontrol show hostnames`, every other task connects to it and says
who it is; once all have arrived, rank 0 answers each with the list of all
of them. Each task then writes `barrier-<rank>.json` into the working
directory: its rank, its node (and host name), the master it used, and (rank 0) the address
each peer's connection came from.
"""

import json
import os
import socket
import subprocess
import sys
import time

TIMEOUT_S = 120


def master_host() -> str:
    hosts = subprocess.run(["scontrol", "show", "hostnames", os.environ["SLURM_JOB_NODELIST"]],
                           capture_output=True, text=True, check=True).stdout.split()
    return hosts[0]


def send(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


def receive(connection: socket.socket) -> dict:
    with connection.makefile("rb") as stream:
        return json.loads(stream.readline())


def lead(port: int, world: int, me: dict) -> list[dict]:
    server = socket.create_server(("", port))
    server.settimeout(TIMEOUT_S)
    arrivals, connections = [me], []
    while len(arrivals) < world:
        connection, (address, _) = server.accept()
        connection.settimeout(TIMEOUT_S)
        arrivals.append({**receive(connection), "seen_from": address})
        connections.append(connection)
    for connection in connections:
        send(connection, {"arrived": arrivals})
        connection.close()
    return arrivals


def join(master: str, port: int, me: dict) -> list[dict]:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            connection = socket.create_connection((master, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # rank 0 is not listening yet
    connection.settimeout(TIMEOUT_S)
    send(connection, me)
    return receive(connection)["arrived"]


def main() -> None:
    rank, world = int(os.environ["SLURM_PROCID"]), int(os.environ["SLURM_NTASKS"])
    port = int(sys.argv[1])
    master = master_host()
    me = {"rank": rank, "node": os.environ["SLURMD_NODENAME"], "hostname": socket.gethostname(), "master": master}
    arrived = lead(port, world, me) if rank == 0 else join(master, port, me)
    with open(f"barrier-{rank}.json", "w") as result:
        json.dump({**me, "arrived": arrived}, result)


if __name__ == "__main__":
    main()
