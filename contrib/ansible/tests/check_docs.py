#!/usr/bin/env python3
"""The nixconf module's DOCUMENTATION, EXAMPLES and RETURN parse, and the
documented options are exactly the argument_spec (name, type, default,
choices), what ansible-test's validate-modules checks for them.

usage: check_docs.py MODULE_FILE (run by run.sh, with ansible-core's
Python, which has PyYAML)."""

import importlib.util
import sys

import yaml


class Captured(Exception):
    pass


def argument_spec(path):
    spec = importlib.util.spec_from_file_location("nixconf_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    captured = {}

    def fake(**kwargs):
        captured.update(kwargs)
        raise Captured()

    module.AnsibleModule = fake
    try:
        module.main()
    except Captured:
        pass
    return module, captured


def main():
    path = sys.argv[1]
    module, kwargs = argument_spec(path)
    doc = yaml.safe_load(module.DOCUMENTATION)
    examples = yaml.safe_load(module.EXAMPLES)
    returns = yaml.safe_load(module.RETURN)
    problems = []
    if doc.get("module") != "nixconf":
        problems.append("DOCUMENTATION names module %r" % doc.get("module"))
    if not isinstance(examples, list) or not examples:
        problems.append("EXAMPLES is not a list of tasks")
    for task in examples or []:
        if "nixconf.nixconf.nixconf" not in task:
            problems.append("an example does not use nixconf.nixconf.nixconf: %r" % task)
    for name, ret in (returns or {}).items():
        for key in ("description", "returned", "type"):
            if key not in ret:
                problems.append("RETURN %s has no %s" % (name, key))
    if not kwargs.get("supports_check_mode"):
        problems.append("supports_check_mode is not True")
    spec = kwargs.get("argument_spec", {})
    options = doc.get("options", {})
    if set(spec) != set(options):
        problems.append("options %s documented, %s in argument_spec" % (sorted(options), sorted(spec)))
    for name in sorted(set(spec) & set(options)):
        s, o = spec[name], options[name]
        if s.get("type", "str") != o.get("type", "str"):
            problems.append("%s: type %s in argument_spec, %s documented" % (name, s.get("type"), o.get("type")))
        if s.get("default") != o.get("default"):
            problems.append("%s: default %r in argument_spec, %r documented" % (name, s.get("default"), o.get("default")))
        if s.get("choices") != o.get("choices"):
            problems.append("%s: choices %r in argument_spec, %r documented" % (name, s.get("choices"), o.get("choices")))
        if not o.get("description"):
            problems.append("%s has no description" % name)
    if problems:
        for p in problems:
            print("FAIL: %s: %s" % (path, p), file=sys.stderr)
        sys.exit(1)
    print("%s: documentation matches the argument_spec (%d options)" % (path, len(spec)))


if __name__ == "__main__":
    main()
