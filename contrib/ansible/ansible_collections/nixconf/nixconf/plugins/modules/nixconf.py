#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nixconf developers
# SPDX-License-Identifier: MIT OR Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nixconf
short_description: Manage a Nix installation declaratively with nixconf
version_added: "0.1.0"
description:
  - Plans and applies a Nix configuration written in the NixOS option tree
    (C(nixVersion), C(nix.settings), C(nix.buildMachines), ...) on the managed
    host with the C(nixconf) binary installed there, the way the NixOS
    C(nix.*) module does on NixOS - C(/etc/nix/nix.conf), C(/etc/nix/machines),
    C(/etc/nix/registry.json), the C(nixbld) build users and group, the
    nix-daemon drop-in and the directories under C(/nix/var/nix).
  - The module runs C(nixconf plan --json) and reports C(changed) exactly
    when that plan is not up to date; outside check mode it then runs
    C(nixconf apply --yes). Check mode only plans.
  - With O(state=absent) it runs C(nixconf revert), which gives the root back
    as it was before the first apply, byte for byte; nothing is done when
    the root has no receipt (C(ROOT/nix/var/nixconf/receipt.json)).
  - Relies on version 1 of nixconf's plan JSON (see "Plan JSON" in nixconf's
    README).
options:
  config:
    description:
      - The configuration, as a mapping in the NixOS option tree plus
        nixconf's C(users) table and C(ids.gids.nixbld).
      - It is written to a temporary JSON file on the host.
      - Mutually exclusive with O(config_file); one of them is required
        when O(state=present).
    type: dict
  config_file:
    description:
      - Path on the managed host of a C(.toml) or C(.json) configuration.
    type: path
  root:
    description:
      - The root directory to manage; C(/) needs root privileges.
    type: path
    default: /
  generation:
    description:
      - Passed to nixconf as C(--generation) when set (plan and apply);
        left out otherwise. Ignored with O(state=absent).
    type: str
  state:
    description:
      - V(present) applies the configuration; V(absent) reverts everything
        nixconf applied to O(root).
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Overwrite (O(state=present)) or revert (O(state=absent)) files edited
        by hand since nixconf wrote them; nixconf keeps a copy of each under
        C(ROOT/nix/var/nixconf/edited/).
      - Without it, a hand-edited file makes the task fail, in check mode too
        (as does any action nixconf would refuse).
    type: bool
    default: false
  restart_daemon:
    description:
      - Restart C(nix-daemon.service) when a file it reads changed (only on
        C(/) with systemd running).
    type: bool
    default: false
  binary:
    description:
      - The nixconf binary, a path or a name looked up on C(PATH) (and in
        C(/usr/local/bin), where the C(nixconf.nixconf.install) role puts it).
    type: str
    default: nixconf
notes:
  - In check mode, a host where the nixconf binary is not installed yet
    (the install role does not copy it in check mode) is skipped with a
    warning.
  - Supports check mode and diff mode. In diff mode each file change is
    shown with nixconf's own diff (before and after contents); the build
    users, directories and symlinks are listed as one entry.
  - Warnings of the configuration (renamed options) become Ansible warnings.
  - Diff mode, the returned RV(plan) and O(config) show nix.conf as it is
    written; set C(no_log) on tasks whose configuration holds secrets (such
    as C(access-tokens)), or keep those in a file nix.conf includes.
  - Needs no Python library beyond the standard library.
requirements:
  - nixconf on the managed host (see the C(nixconf.nixconf.install) role)
author:
  - nixconf developers
"""

EXAMPLES = r"""
- name: Manage Nix like NixOS does
  nixconf.nixconf.nixconf:
    config:
      nixVersion: "2.18.1"
      nix:
        nrBuildUsers: 8
        settings:
          max-jobs: 4
          trusted-users: [root, "@wheel"]
          experimental-features: [nix-command, flakes]

- name: From a TOML file already on the host, restarting the daemon on change
  nixconf.nixconf.nixconf:
    config_file: /etc/nixconf.toml
    restart_daemon: true

- name: Give the machine back as it was before nixconf
  nixconf.nixconf.nixconf:
    state: absent
"""

RETURN = r"""
up_to_date:
  description: Whether the root was up to date before the task (no change needed).
  returned: when state is present
  type: bool
  sample: false
actions:
  description: What was (or in check mode, would be) carried out, one summary per action.
  returned: always
  type: list
  elements: str
  sample: ["create file /etc/nix/nix.conf (mode 0644)"]
plan:
  description: nixconf's plan as C(nixconf plan --json) printed it (version 1).
  returned: when state is present
  type: dict
report:
  description: The lines nixconf apply or revert printed.
  returned: when something was applied or reverted
  type: list
  elements: str
option:
  description: On a refused configuration, the option path of the first problem (empty when the problem is not one option's).
  returned: failure
  type: str
  sample: nix.settings.max-jobs
errors:
  description: On a refused configuration, every problem, each with C(option) and C(message).
  returned: failure
  type: list
  elements: dict
"""

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

PLAN_JSON_VERSION = 1
RECEIPT = "nix/var/nixconf/receipt.json"
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(Exception):
    pass


def apply_unified(before, hunks):
    """Apply the hunks of a unified diff (lines after its +++ header) to the
    text `before`; raise PatchError unless every context line matches."""
    src = before.split("\n")
    # Lines with their newline, the last without one when the text lacks it.
    src = [line + "\n" for line in src[:-1]] + ([src[-1]] if src[-1] else [])
    out = []
    pos = 0
    i = 0
    while i < len(hunks):
        m = HUNK.match(hunks[i])
        if not m:
            raise PatchError("not a hunk header: %r" % hunks[i])
        start = int(m.group(1))
        count = 1 if m.group(2) is None else int(m.group(2))
        old_start = start - 1 if count > 0 else start
        if old_start < pos or old_start > len(src):
            raise PatchError("hunk out of order")
        out.extend(src[pos:old_start])
        pos = old_start
        i += 1
        body = []
        while i < len(hunks) and not hunks[i].startswith("@@"):
            line = hunks[i]
            if line.startswith("\\"):
                if not body:
                    raise PatchError("stray no-newline marker")
                tag, text, _ = body[-1]
                body[-1] = (tag, text, False)
            elif line[:1] in (" ", "-", "+"):
                body.append((line[0], line[1:], True))
            else:
                raise PatchError("unexpected diff line: %r" % line)
            i += 1
        for tag, text, newline in body:
            full = text + ("\n" if newline else "")
            if tag in (" ", "-"):
                if pos >= len(src) or src[pos] != full:
                    raise PatchError("context does not match")
                pos += 1
            if tag in (" ", "+"):
                out.append(full)
    out.extend(src[pos:])
    return "".join(out)


def host_path(root, path):
    return os.path.join(root, path.lstrip("/"))


def file_diff(root, action):
    """Ansible's diff entry for one file action: before and after contents
    when nixconf's diff applies to the file on the host, else nixconf's
    diff text as it is."""
    path = action.get("path", "")
    text = action["diff"]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = next((n for n, line in enumerate(lines) if line.startswith("--- ")), None)
    prepared = {"prepared": "%s\n%s" % (action.get("summary", path), text)}
    if header is None or header + 1 >= len(lines) or not lines[header + 1].startswith("+++ "):
        return prepared
    notes = " ".join(lines[:header])
    old_label = lines[header][4:]
    new_label = lines[header + 1][4:]
    try:
        if old_label == "/dev/null":
            before = ""
        else:
            with open(host_path(root, path), "rb") as f:
                before = f.read().decode("utf-8")
        after = apply_unified(before, lines[header + 2:])
    except (OSError, UnicodeDecodeError, PatchError):
        return prepared
    if new_label == "/dev/null":
        after = ""
    after_header = path
    if notes:
        after_header = "%s %s" % (path, notes)
    return {
        "before_header": path if old_label != "/dev/null" else "%s (absent)" % path,
        "after_header": after_header if new_label != "/dev/null" else "%s (absent)" % path,
        "before": before,
        "after": after,
    }


class Runner(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.root = self.params["root"]
        self._binary = None

    @property
    def binary(self):
        # Looked up when first needed: reverting a root without a receipt
        # needs no nixconf.
        if self._binary is None:
            self._binary = self.find_binary()
        return self._binary

    def find_binary(self):
        binary = self.params["binary"]
        if "/" in binary:
            if os.path.isfile(binary) and os.access(binary, os.X_OK):
                return binary
            self.missing("nixconf binary %s is not an executable file" % binary)
        found = self.module.get_bin_path(binary, required=False, opt_dirs=["/usr/local/bin"])
        if not found:
            self.missing(
                "%s not found on PATH or in /usr/local/bin: install it on the host "
                "(the nixconf.nixconf.install role does) or set binary" % binary
            )
        return found

    def missing(self, message):
        # In check mode, the task that installs nixconf has not run either:
        # nothing can be planned, which is no failure.
        if self.module.check_mode:
            self.module.warn("%s; check mode cannot plan without it" % message)
            self.module.exit_json(changed=False, skipped=True, actions=[], msg=message)
        self.module.fail_json(msg=message)

    def run(self, args):
        cmd = [self.binary] + args
        rc, out, err = self.module.run_command(cmd, environ_update={"LC_ALL": "C"})
        return cmd, rc, out, err

    def fail_command(self, what, cmd, rc, out, err, **extra):
        message = (err.strip() or out.strip() or "no output").replace("\nerror: ", "\n")
        if message.startswith("error: "):
            message = message[len("error: "):]
        self.module.fail_json(
            msg="nixconf %s failed: %s" % (what, message),
            cmd=cmd,
            rc=rc,
            stdout=out,
            stderr=err,
            **extra
        )

    # state=present

    def config_path(self):
        if self.params["config_file"]:
            return self.params["config_file"], None
        path = os.path.join(self.module.tmpdir, "nixconf-config.json")
        try:
            text = json.dumps(self.params["config"], indent=2, sort_keys=True, default=to_native)
        except (TypeError, ValueError) as e:
            self.module.fail_json(msg="config cannot be written as JSON: %s" % to_native(e))
        with open(path, "w") as f:
            f.write(text + "\n")
        return path, path

    def common_args(self, config):
        args = ["--config", config, "--root", self.root]
        if self.params["generation"] is not None:
            args += ["--generation", self.params["generation"]]
        return args

    def refused(self, cmd, rc, out, err, data, inline):
        errors = data.get("errors") or [data["error"]]
        cleaned = []
        for e in errors:
            message = e.get("message", "")
            if inline:
                # Positions in the generated JSON file mean nothing to the
                # playbook's author: the option path says where.
                message = re.sub(r"^%s:\d+:\d+: " % re.escape(inline), "", message)
            cleaned.append({"option": e.get("option", ""), "message": message})
        shown = "; ".join(
            "`%s`: %s" % (e["option"], e["message"]) if e["option"] else e["message"]
            for e in cleaned
        )
        self.module.fail_json(
            msg="nixconf refused the configuration: %s" % shown,
            option=cleaned[0]["option"],
            errors=cleaned,
            cmd=cmd,
            rc=rc,
            stderr=err,
        )

    def present(self):
        config, inline = self.config_path()
        cmd, rc, out, err = self.run(["plan"] + self.common_args(config) + ["--json"])
        try:
            data = json.loads(out)
        except ValueError:
            self.fail_command("plan", cmd, rc, out, err)
        if not isinstance(data, dict):
            self.fail_command("plan", cmd, rc, out, err)
        version = data.get("version")
        if version != PLAN_JSON_VERSION:
            self.module.fail_json(
                msg="%s prints plan JSON version %s; this module reads version %d: "
                "use the nixconf.nixconf collection that comes with that nixconf"
                % (self.binary, version, PLAN_JSON_VERSION),
                cmd=cmd,
            )
        if "error" in data:
            self.refused(cmd, rc, out, err, data, inline)
        # A plan apply would refuse exits 1 with the plan itself: its
        # blocked and conflicting actions are judged below (conflicts are
        # fine with force).
        if rc != 0 and "actions" not in data:
            self.fail_command("plan", cmd, rc, out, err)
        for warning in data.get("warnings", []):
            self.module.warn(warning)

        actions = data.get("actions", [])
        todo = [a for a in actions if a.get("status") != "done"]
        problems = [
            a["summary"]
            for a in todo
            if a.get("status") == "blocked"
            or (a.get("status") == "conflict" and not self.params["force"])
        ]
        if problems:
            self.module.fail_json(
                msg="nixconf would refuse to apply (nothing was changed): %s" % "; ".join(problems),
                problems=problems,
                plan=data,
            )
        up_to_date = bool(data.get("up_to_date"))
        result = dict(
            changed=not up_to_date,
            up_to_date=up_to_date,
            actions=[a["summary"] for a in todo],
            plan=data,
        )
        if self.module._diff:
            result["diff"] = self.diff(todo)
        if up_to_date or self.module.check_mode:
            self.module.exit_json(**result)

        args = ["apply"] + self.common_args(config) + ["--yes"]
        if self.params["force"]:
            args.append("--force")
        if self.params["restart_daemon"]:
            args.append("--restart-daemon")
        cmd, rc, out, err = self.run(args)
        if rc != 0:
            self.fail_command("apply", cmd, rc, out, err, plan=data)
        result["report"] = out.splitlines()
        self.module.exit_json(**result)

    def diff(self, todo):
        entries = []
        others = [a["summary"] for a in todo if not a.get("diff")]
        if others:
            entries.append({"prepared": "".join(s + "\n" for s in others)})
        for a in todo:
            if a.get("diff"):
                entries.append(file_diff(self.root, a))
        return entries

    # state=absent

    def absent(self):
        receipt = host_path(self.root, RECEIPT)
        if not os.path.lexists(receipt):
            self.module.exit_json(
                changed=False,
                actions=[],
                msg="nothing to revert: no receipt at %s" % receipt,
            )
        result = dict(changed=True, actions=["revert everything nixconf applied to %s" % self.root])
        if self.module._diff:
            result["diff"] = [{"prepared": "revert %s (every file, directory, symlink and build user it records)\n" % receipt}]
        if self.module.check_mode:
            self.module.exit_json(**result)
        args = ["revert", "--root", self.root]
        if self.params["force"]:
            args.append("--force")
        cmd, rc, out, err = self.run(args)
        if rc != 0:
            self.fail_command("revert", cmd, rc, out, err)
        result["report"] = out.splitlines()
        result["actions"] = [line[len("done: "):] for line in out.splitlines() if line.startswith("done: ")]
        self.module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type="dict"),
            config_file=dict(type="path"),
            root=dict(type="path", default="/"),
            generation=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            force=dict(type="bool", default=False),
            restart_daemon=dict(type="bool", default=False),
            binary=dict(type="str", default="nixconf"),
        ),
        mutually_exclusive=[("config", "config_file")],
        required_if=[("state", "present", ("config", "config_file"), True)],
        supports_check_mode=True,
    )
    runner = Runner(module)
    if module.params["state"] == "absent":
        runner.absent()
    else:
        runner.present()


if __name__ == "__main__":
    main()
