#!/usr/bin/env python3
"""Run commands one after the other, stop at the first failure:
  steps.py -- cmd1 arg... :: cmd2 arg... :: ...
Used to time multi-step workflows (create-template then write-region) as one case. The last
command replaces this process (exec), so the memory sampled over the process tree while it runs
is the tool's, not this Python driver's."""
import os
import subprocess
import sys

args = sys.argv[1:]
if args and args[0] == "--":
    args = args[1:]
cmds, cur = [], []
for x in args:
    if x == "::":
        cmds.append(cur)
        cur = []
    else:
        cur.append(x)
if cur:
    cmds.append(cur)
for c in cmds[:-1]:
    rc = subprocess.run(c).returncode
    if rc:
        sys.exit(rc)
if cmds:
    sys.stdout.flush()
    os.execvp(cmds[-1][0], cmds[-1])
