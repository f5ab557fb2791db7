//! The nix-daemon's environment, as its unit drop-ins set it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `Environment=` lines of the nix-daemon unit's drop-ins.
pub(crate) fn daemon_environment(root: &Path, notes: &mut Vec<String>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let dir = root.join("etc/systemd/system/nix-daemon.service.d");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return env;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("Environment=") else {
                continue;
            };
            for word in systemd_words(rest) {
                if let Some((k, v)) = word.split_once('=') {
                    env.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        notes.push(format!(
            "read the daemon's environment from /{}",
            file.strip_prefix(root).unwrap_or(&file).display()
        ));
    }
    env
}

/// The words of a systemd `Environment=` value: whitespace-separated,
/// double- or single-quoted, with C-style escapes in double quotes.
fn systemd_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return words;
        }
        let mut word = String::new();
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => break,
                '"' | '\'' => {
                    let quote = c;
                    while let Some(c) = chars.next() {
                        match c {
                            c if c == quote => break,
                            '\\' if quote == '"' => match chars.next() {
                                Some('n') => word.push('\n'),
                                Some('t') => word.push('\t'),
                                Some(other) => word.push(other),
                                None => {}
                            },
                            c => word.push(c),
                        }
                    }
                }
                '\\' => {
                    if let Some(next) = chars.next() {
                        word.push(next);
                    }
                }
                c => word.push(c),
            }
        }
        words.push(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_words() {
        assert_eq!(
            systemd_words(r#"A=1 "B=two words" 'C=x\y' D=e\ f"#),
            ["A=1", "B=two words", "C=x\\y", "D=e f"]
        );
    }
}
