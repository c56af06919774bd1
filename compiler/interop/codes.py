"""Diagnostic codes of the importers (E09xx errors, W09xx warnings); docs/interop.md
explains each one."""

# Reading the input at all.
UNREADABLE = "E0901"  # the file cannot be read or decoded
YAML_SYNTAX = "E0902"  # MLDev: not well-formed YAML
MLDEV_SHAPE = "E0903"  # MLDev: the document or a stage has the wrong shape
CONTROL_CHARACTER = "E0904"  # a string holds a control character (NUL, CR, ESC...)
SCRIPT_SYNTAX = "E0905"  # MLDev: a script line that is not shell mlc can read
JSON_SYNTAX = "E0910"  # WfFormat: not well-formed JSON
WF_VERSION = "E0911"  # WfFormat: a schema version this importer does not read
WF_SHAPE = "E0912"  # WfFormat: a required field is missing or has the wrong type
WF_UNKNOWN_TASK = "E0913"  # WfFormat: a parent/child names no task
WF_CYCLE = "E0914"  # WfFormat: the dependencies form a cycle

# Translated with a loss: a `// TODO` in the output marks each one.
UNKNOWN_TAG = "W0901"  # MLDev: a custom tag (a user's Python class)
SERVICE = "W0902"  # MLDev: a MonitoringService or kin, not an mlx stage
EXPRESSION = "W0903"  # MLDev: a `${...}` expression with no mlx equivalent
FUNCTION = "W0904"  # MLDev: a `!function` (Python code)
OUTPUT_TWICE = "W0905"  # an output already produced by another stage/task
ORDER_CONFLICT = "W0906"  # MLDev: pipeline order contradicts the data flow
PARAM_VALUE = "W0907"  # MLDev: a parameter value with no mlx type (null, mixed list)
UNKNOWN_RUN = "W0908"  # MLDev: a pipeline entry that names no stage
IGNORED_FIELD = "W0909"  # MLDev: a field of a stage the importer does not know
ENV_VARIABLE = "W0910"  # MLDev: an environment variable with a bad name or a non-string value
OUTSIDE_OUTPUT = "W0911"  # MLDev: an output outside the project folder
DATA_CYCLE = "W0912"  # MLDev: an input written by a stage that depends on its reader
SELF_INPUT = "W0915"  # WfFormat: a task reads a file it writes itself
MACHINE_INCOMPLETE = "W0916"  # WfFormat: a machine without cores or memory
