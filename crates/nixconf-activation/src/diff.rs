//! A unified diff of two texts, for the plan's description of a file change.
//!
//! The edit script is [`similar`]'s (Myers' algorithm on lines, as it
//! finds it, with a deadline past which the middle is shown as replaced
//! wholesale: still a correct diff, only not a minimal one). Where several
//! alignments are equally short, it may match other lines than GNU `diff`
//! does; the diff is as short and as correct.
//!
//! The hunks are written here, as `diff -u` writes them: `--- old` and
//! `+++ new` headers, `@@ -a,b +c,d @@` ranges (a range of zero lines named
//! by the line before it), three lines of context, hunks whose contexts
//! touch merged, removed lines before added ones in each change, and
//! `\ No newline at end of file` after a last line without one.

use similar::algorithms::{diff_deadline, Capture};
use similar::{group_diff_ops, Algorithm, DiffOp};

/// Unchanged lines shown around each change, as `diff -u` does.
const CONTEXT: usize = 3;

/// Past this, the middle of two large, very different texts is shown as
/// replaced wholesale.
const DEADLINE: std::time::Duration = std::time::Duration::from_millis(500);

/// The `start,count` of a hunk header, as GNU diff writes it: a range of
/// zero lines is named by the line before it.
fn range(start: usize, count: usize) -> String {
    match count {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{count}", start + 1),
    }
}

/// One line of the diff: `sign`, the line, and the marker of a last line
/// without a newline.
fn push_line(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    match line.strip_suffix('\n') {
        Some(text) => {
            out.push_str(text);
            out.push('\n');
        }
        None => {
            out.push_str(line);
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// A unified diff from `old` to `new` with the given header labels, or the
/// empty string when the texts are equal.
pub(crate) fn unified_diff(old_label: &str, new_label: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    // The plain edit script, as the algorithm finds it (similar's
    // `TextDiff` also moves changes around to compact them).
    let mut capture = Capture::new();
    let deadline = std::time::Instant::now() + DEADLINE;
    if let Err(never) = diff_deadline(
        Algorithm::Myers,
        &mut capture,
        &a,
        0..a.len(),
        &b,
        0..b.len(),
        Some(deadline),
    ) {
        match never {}
    }
    let ops: Vec<DiffOp> = capture.ops().to_vec();
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    for group in group_diff_ops(ops, CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (a0, b0) = (first.old_range().start, first.new_range().start);
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(a0, last.old_range().end - a0),
            range(b0, last.new_range().end - b0)
        ));
        // Each change's removed lines, then its added ones.
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        let flush = |out: &mut String, removed: &mut Vec<&str>, added: &mut Vec<&str>| {
            for line in removed.drain(..) {
                push_line(out, '-', line);
            }
            for line in added.drain(..) {
                push_line(out, '+', line);
            }
        };
        for op in &group {
            match op {
                DiffOp::Equal { .. } => {
                    flush(&mut out, &mut removed, &mut added);
                    for line in &a[op.old_range()] {
                        push_line(&mut out, ' ', line);
                    }
                }
                _ => {
                    removed.extend(&a[op.old_range()]);
                    added.extend(&b[op.new_range()]);
                }
            }
        }
        flush(&mut out, &mut removed, &mut added);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified_diff("a", "b", "x\n", "x\n"), "");
    }

    #[test]
    fn new_file_is_all_additions() {
        assert_eq!(
            unified_diff("/dev/null", "/etc/nix/nix.conf", "", "a = 1\nb = 2\n"),
            "--- /dev/null\n+++ /etc/nix/nix.conf\n@@ -0,0 +1,2 @@\n+a = 1\n+b = 2\n"
        );
    }

    #[test]
    fn one_changed_line_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified_diff("a", "b", old, new),
            "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn distant_changes_make_two_hunks() {
        let old: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let new: String = (1..=20)
            .map(|n| match n {
                2 => "two\n".to_owned(),
                19 => "nineteen\n".to_owned(),
                _ => format!("{n}\n"),
            })
            .collect();
        let d = unified_diff("a", "b", &old, &new);
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n"), "{d}");
        assert!(
            d.contains("@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20\n"),
            "{d}"
        );
    }

    #[test]
    fn missing_final_newline_is_marked() {
        assert_eq!(
            unified_diff("a", "b", "x\ny", "x\ny\n"),
            "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n"
        );
    }

    #[test]
    fn removing_everything() {
        assert_eq!(
            unified_diff("a", "/dev/null", "x\n", ""),
            "--- a\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
        );
    }

    #[test]
    fn matches_gnu_diff_on_an_interleaved_change() {
        // Checked against `diff -u` (GNU diffutils).
        let old = "a\nb\nc\nd\n";
        let new = "a\nx\nc\ny\n";
        assert_eq!(
            unified_diff("o", "n", old, new),
            "--- o\n+++ n\n@@ -1,4 +1,4 @@\n a\n-b\n+x\n c\n-d\n+y\n"
        );
    }

    /// Apply a diff made by `unified_diff` to `old`: the law the diff must
    /// satisfy is that this gives back `new`.
    fn patch(old: &str, diff: &str) -> String {
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut next = 0; // index of the next old line not yet copied
        let mut last_sign = ' ';
        for line in diff.lines().skip(2) {
            if let Some(header) = line.strip_prefix("@@ -") {
                let range = header.split(' ').next().unwrap();
                let mut parts = range.split(',');
                let start: usize = parts.next().unwrap().parse().unwrap();
                let count: usize = parts.next().map_or(1, |c| c.parse().unwrap());
                let first = if count == 0 { start } else { start - 1 };
                out.extend(old_lines[next..first].iter().copied());
                next = first;
                continue;
            }
            if line == "\\ No newline at end of file" {
                if last_sign != '-' {
                    out.pop();
                }
                continue;
            }
            let (sign, text) = line.split_at(1);
            last_sign = sign.chars().next().unwrap();
            match sign {
                " " => {
                    out.push_str(text);
                    out.push('\n');
                    next += 1;
                }
                "-" => next += 1,
                "+" => {
                    out.push_str(text);
                    out.push('\n');
                }
                _ => panic!("unexpected diff line {line:?}"),
            }
        }
        out.extend(old_lines[next..].iter().copied());
        out
    }

    #[test]
    fn large_unrelated_texts_still_give_a_correct_diff() {
        let old: String = (0..20_000).map(|n| format!("old {n}\n")).collect();
        let new: String = (0..20_000).map(|n| format!("new {}\n", n * 7)).collect();
        let started = std::time::Instant::now();
        let diff = unified_diff("a", "b", &old, &new);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert_eq!(patch(&old, &diff), new);
    }

    proptest::proptest! {
        #[test]
        fn patching_old_with_the_diff_gives_new(
            old in proptest::collection::vec("[abc]{0,2}", 0..30),
            new in proptest::collection::vec("[abc]{0,2}", 0..30),
            old_nl in proptest::bool::ANY,
            new_nl in proptest::bool::ANY,
        ) {
            let join = |lines: &[String], nl: bool| {
                let mut t = lines.join("\n");
                if nl && !lines.is_empty() {
                    t.push('\n');
                }
                t
            };
            let (old, new) = (join(&old, old_nl), join(&new, new_nl));
            let diff = unified_diff("a", "b", &old, &new);
            if old == new {
                proptest::prop_assert_eq!(diff, "");
            } else {
                proptest::prop_assert_eq!(patch(&old, &diff), new, "diff:\n{}", diff);
            }
        }
    }
}
