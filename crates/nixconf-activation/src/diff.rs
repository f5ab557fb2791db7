//! A unified diff of two texts, for the plan's description of a file change.
//!
//! Lines are compared after trimming the common head and tail (a changed
//! config file usually differs in a few lines), then by a longest common
//! subsequence table on what is left. Past a size where the table would be
//! expensive, the middle is shown as replaced wholesale: still a correct
//! diff, only not a minimal one.

/// Past this many table cells the middle is shown as replaced wholesale.
const MAX_TABLE_CELLS: usize = 4_000_000;
/// Unchanged lines shown around each change, as `diff -u` does.
const CONTEXT: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Equal,
    Delete,
    Insert,
}

/// One line of a text, with whether it ended in a newline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Line<'a> {
    text: &'a str,
    newline: bool,
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find('\n') {
            Some(i) => {
                out.push(Line {
                    text: &rest[..i],
                    newline: true,
                });
                rest = &rest[i + 1..];
            }
            None => {
                out.push(Line {
                    text: rest,
                    newline: false,
                });
                rest = "";
            }
        }
    }
    out
}

/// The edit script turning `a` into `b`, one op per line.
fn edit_script(a: &[Line<'_>], b: &[Line<'_>]) -> Vec<Op> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops = vec![Op::Equal; head];
    if (ma.len() + 1).saturating_mul(mb.len() + 1) > MAX_TABLE_CELLS {
        ops.resize(head + ma.len(), Op::Delete);
        ops.resize(head + ma.len() + mb.len(), Op::Insert);
    } else {
        // lcs[i][j]: length of the longest common subsequence of ma[i..]
        // and mb[j..], stored row-major.
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            let op = if i == ma.len() {
                Op::Insert
            } else if j == mb.len() {
                Op::Delete
            } else if ma[i] == mb[j] {
                Op::Equal
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                // On a tie deletions come first, as `diff` prints them.
                Op::Delete
            } else {
                Op::Insert
            };
            ops.push(op);
            if op != Op::Insert {
                i += 1;
            }
            if op != Op::Delete {
                j += 1;
            }
        }
    }
    ops.resize(ops.len() + tail, Op::Equal);
    ops
}

/// The `start,count` of a hunk header, as GNU diff writes it: a range of
/// zero lines is named by the line before it.
fn range(start: usize, count: usize) -> String {
    match count {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{count}", start + 1),
    }
}

fn push_line(out: &mut String, sign: char, line: Line<'_>) {
    out.push(sign);
    out.push_str(line.text);
    out.push('\n');
    if !line.newline {
        out.push_str("\\ No newline at end of file\n");
    }
}

/// A unified diff from `old` to `new` with the given header labels, or the
/// empty string when the texts are equal.
pub(crate) fn unified_diff(old_label: &str, new_label: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let (a, b) = (split_lines(old), split_lines(new));
    let ops = edit_script(&a, &b);
    let mut out = format!("--- {old_label}\n+++ {new_label}\n");
    // Positions in a and b of each op.
    let mut pos = Vec::with_capacity(ops.len());
    let (mut i, mut j) = (0, 0);
    for op in &ops {
        pos.push((i, j));
        match op {
            Op::Equal => {
                i += 1;
                j += 1;
            }
            Op::Delete => i += 1,
            Op::Insert => j += 1,
        }
    }
    let changes: Vec<usize> = (0..ops.len()).filter(|&k| ops[k] != Op::Equal).collect();
    let mut c = 0;
    while c < changes.len() {
        let first = changes[c];
        let mut last = first;
        // Extend the hunk while the next change is close enough that their
        // contexts touch.
        while c + 1 < changes.len() && changes[c + 1] - last <= 2 * CONTEXT + 1 {
            c += 1;
            last = changes[c];
        }
        c += 1;
        let lo = first.saturating_sub(CONTEXT);
        let hi = (last + CONTEXT + 1).min(ops.len());
        let (a0, b0) = pos[lo];
        let count_a = ops[lo..hi].iter().filter(|o| **o != Op::Insert).count();
        let count_b = ops[lo..hi].iter().filter(|o| **o != Op::Delete).count();
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(a0, count_a),
            range(b0, count_b)
        ));
        for k in lo..hi {
            let (x, y) = pos[k];
            match ops[k] {
                Op::Equal => push_line(&mut out, ' ', a[x]),
                Op::Delete => push_line(&mut out, '-', a[x]),
                Op::Insert => push_line(&mut out, '+', b[y]),
            }
        }
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
