#!/usr/bin/env python3
"""Print fail2ban's own merged view of one configuration stack as JSON.

This is the reference for the Go reader in bangui/fail2ban/config: it uses
fail2ban's ConfigReaderUnshared file selection and SafeConfigParserWithIncludes
merge (the code fail2ban-client runs) and dumps, for DEFAULT and every
section (KNOWN/ ones included), each option's raw value and its interpolated
value or the name of the exception interpolation raises.

Usage: reference.py CONFIG_DIR STACK...   (STACK: jail, fail2ban, filter.d/sshd, ...)
With one stack it prints that stack's dump; with several, an object of dumps
by stack.
"""
import configparser
import glob
import json
import os
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from fail2ban.client.configparserinc import SafeConfigParserWithIncludes  # noqa: E402
from fail2ban.client.configreader import ConfigReaderUnshared  # noqa: E402


def dump(basedir, name):
    cfg = ConfigReaderUnshared(basedir=basedir)
    base = os.path.join(basedir, name)
    files = [base + ".conf"] + sorted(glob.glob("%s.d/*.conf" % base))
    files += [base + ".local"] + sorted(glob.glob("%s.d/*.local" % base))
    files = [f for f in files if os.path.exists(f)]
    read = SafeConfigParserWithIncludes.read(cfg, files) if files else []

    def val(sec, opt):
        d = {"raw": cfg.get(sec, opt, raw=True)}
        try:
            d["value"] = cfg.get(sec, opt)
        except configparser.Error as e:
            d["error"] = type(e).__name__
        return d

    out = {
        "files": [os.path.relpath(f, basedir) for f in read],
        "order": list(cfg._sections),
        "defaults": {o: val("DEFAULT", o) for o in cfg._defaults},
        "sections": {s: {o: val(s, o) for o in opts} for s, opts in cfg._sections.items()},
    }
    return out


if __name__ == "__main__":
    stacks = sys.argv[2:]
    if len(stacks) == 1:
        result = dump(sys.argv[1], stacks[0])
    else:
        result = {s: dump(sys.argv[1], s) for s in stacks}
    json.dump(result, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
