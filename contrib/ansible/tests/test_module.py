#!/usr/bin/env python3
"""Unit tests of the nixconf module's diff handling: nixconf's unified diffs
turned back into before and after contents for Ansible's diff mode.

usage: test_module.py MODULE_FILE (run by run.sh)."""

import importlib.util
import os
import sys
import tempfile
import unittest

MODULE = None


def load(path):
    spec = importlib.util.spec_from_file_location("nixconf_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ApplyUnified(unittest.TestCase):
    def patch(self, before, diff):
        lines = diff.split("\n")
        if lines[-1] == "":
            lines.pop()
        return MODULE.apply_unified(before, lines)

    def test_new_file(self):
        self.assertEqual(self.patch("", "@@ -0,0 +1,2 @@\n+a = 1\n+b = 2\n"), "a = 1\nb = 2\n")

    def test_new_file_without_final_newline(self):
        self.assertEqual(
            self.patch("", "@@ -0,0 +1 @@\n+{}\n\\ No newline at end of file\n"), "{}"
        )

    def test_two_hunks(self):
        before = "".join("l%d\n" % i for i in range(1, 21))
        diff = (
            "@@ -1,4 +1,4 @@\n-l1\n+L1\n l2\n l3\n l4\n"
            "@@ -17,4 +17,5 @@\n l17\n l18\n l19\n l20\n+l21\n"
        )
        after = before.replace("l1\n", "L1\n", 1) + "l21\n"
        self.assertEqual(self.patch(before, diff), after)

    def test_removed_last_line_without_newline(self):
        self.assertEqual(
            self.patch("a\nb", "@@ -1,2 +1 @@\n a\n-b\n\\ No newline at end of file\n"), "a\n"
        )

    def test_context_mismatch_is_refused(self):
        with self.assertRaises(MODULE.PatchError):
            self.patch("a\nx\n", "@@ -1,2 +1,2 @@\n a\n-b\n+c\n")

    def test_garbage_is_refused(self):
        with self.assertRaises(MODULE.PatchError):
            self.patch("a\n", "not a hunk\n")


class FileDiff(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        os.makedirs(os.path.join(self.root, "etc/nix"))
        self.path = os.path.join(self.root, "etc/nix/nix.conf")

    def tearDown(self):
        for d, _, files in os.walk(self.root, topdown=False):
            for f in files:
                os.remove(os.path.join(d, f))
            os.rmdir(d)

    def diff(self, text, summary="update file /etc/nix/nix.conf (mode 0644)"):
        action = {"path": "/etc/nix/nix.conf", "summary": summary, "diff": text}
        return MODULE.file_diff(self.root, action)

    def test_changed_file(self):
        with open(self.path, "w") as f:
            f.write("a = 1\nb = 2\n")
        d = self.diff("--- /etc/nix/nix.conf\n+++ /etc/nix/nix.conf\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n")
        self.assertEqual(
            d,
            {
                "before_header": "/etc/nix/nix.conf",
                "after_header": "/etc/nix/nix.conf",
                "before": "a = 1\nb = 2\n",
                "after": "a = 1\nb = 3\n",
            },
        )

    def test_mode_and_contents(self):
        with open(self.path, "w") as f:
            f.write("a = 1\n")
        d = self.diff("mode 0600 -> 0644\n--- /etc/nix/nix.conf\n+++ /etc/nix/nix.conf\n@@ -1 +1 @@\n-a = 1\n+a = 2\n")
        self.assertEqual(d["after_header"], "/etc/nix/nix.conf mode 0600 -> 0644")
        self.assertEqual((d["before"], d["after"]), ("a = 1\n", "a = 2\n"))

    def test_mode_only_is_shown_as_nixconf_prints_it(self):
        d = self.diff("mode 0600 -> 0644\n")
        self.assertEqual(d, {"prepared": "update file /etc/nix/nix.conf (mode 0644)\nmode 0600 -> 0644\n"})

    def test_removed_file(self):
        with open(self.path, "w") as f:
            f.write("a = 1\n")
        d = self.diff("--- /etc/nix/nix.conf\n+++ /dev/null\n@@ -1 +0,0 @@\n-a = 1\n")
        self.assertEqual(d["after_header"], "/etc/nix/nix.conf (absent)")
        self.assertEqual((d["before"], d["after"]), ("a = 1\n", ""))

    def test_file_changed_since_the_plan_falls_back_to_the_text(self):
        with open(self.path, "w") as f:
            f.write("something else\n")
        text = "--- /etc/nix/nix.conf\n+++ /etc/nix/nix.conf\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
        self.assertEqual(self.diff(text), {"prepared": "update file /etc/nix/nix.conf (mode 0644)\n" + text})

    def test_binary_file_falls_back_to_the_text(self):
        with open(self.path, "wb") as f:
            f.write(b"\xff\xfe\n")
        text = "(binary contents of /etc/nix/nix.conf replaced)\n"
        self.assertEqual(self.diff(text), {"prepared": "update file /etc/nix/nix.conf (mode 0644)\n" + text})


if __name__ == "__main__":
    MODULE = load(sys.argv.pop(1))
    unittest.main(verbosity=1)
