"""The bounds the front end enforces on what a user can write, stated once.

Each limit turns an input that would crash, hang or exhaust mlc (or produce
output no scheduler accepts) into a positioned diagnostic. docs/language.md
("Limits") quotes these numbers; tests/hostile checks them."""

from __future__ import annotations

# Brackets ([ { ( ) open inside each other, counted across a whole value or
# block: deeper values are generated, not written, and would exhaust the
# recursive passes.
MAX_NESTING = 100

# Characters in a name: names become file names (255 bytes on most file
# systems) with a sweep label and an extension added.
MAX_NAME_LENGTH = 128

# Files in one chain of imports (a imports b imports c ...).
MAX_IMPORT_DEPTH = 100

# Members of one sweep axis, and instances of one stage (the product of
# its axes): every instance becomes a job, a script and a Snakemake rule.
MAX_SWEEP_MEMBERS = 10_000
MAX_STAGE_INSTANCES = 10_000

# Nodes in one pool or partition (the largest machines have ~10^5).
MAX_POOL_NODES = 100_000

# Whole numbers fit int64 (every serialiser and the IR's JSON schema take
# them); fields that reach an int32 of Kubernetes or Slurm (cpus, replicas,
# GPUs) stop at MAX_INT.
MAX_WHOLE = 2**63 - 1
MAX_INT = 2**31 - 1

# A stage retried more often than this hides a bug rather than a flaky node.
MAX_RETRIES = 100
MAX_TASKS_PER_NODE = 1024  # processes a launcher starts on one node

# Quantities, in the IR's base units: past these the arithmetic of placement
# loses meaning (and an int64 byte count overflows). Other numbers need only
# be finite.
MAX_SIZE = 2**63 - 1  # bytes (8192 PiB)
MAX_DURATION = 3650 * 86400.0  # seconds (ten years)
MAX_RATE = 1e15  # bandwidths (bytes per second) and prices

# Documents the importers read (MLDev YAML, WfFormat JSON): nesting, and
# nodes once every YAML alias is expanded (an alias bomb doubles per level).
MAX_DOCUMENT_NODES = 100_000
