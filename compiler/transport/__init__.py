"""How mlc reaches machines it does not run on: argument vectors for the
programs that do the reaching (ssh, rsync), built here and run by the caller.

`compiler.transport.ssh`: commands, copies, background processes and one
shared connection per host, for sites of kind `ssh` (docs/ssh-test-server.md
says how it is tested against a real OpenSSH server).
"""
