//! The JSON form of `nixconf conf show`.

use std::path::Path;

use serde_json::{json, Value};

use crate::error::ConfError;
use crate::eval::{show, ShowOptions};
use crate::schema::NEWEST_MINOR;
use crate::settings::Network;
use crate::version::NixVersion;

/// The newest Nix version the schema describes.
pub fn newest_version() -> NixVersion {
    NixVersion::from_minor(NEWEST_MINOR)
}

/// `{"settings": {...}, "warnings": [...]}` for `conf_dir`, or
/// `{"error": "error: ..."}` (then the `bool` is `false`): the object the
/// conformance corpus records.
pub fn show_json(conf_dir: &Path, version: &NixVersion, network: Network) -> (Value, bool) {
    let options = ShowOptions {
        version: version.clone(),
        network,
    };
    match show(conf_dir, &options) {
        Ok(effective) => {
            let warnings: Vec<String> = effective.warnings.iter().map(|w| as_logged(w)).collect();
            (
                json!({"settings": effective.settings, "warnings": warnings}),
                true,
            )
        }
        Err(e) => (json!({"error": error_text(&e)}), false),
    }
}

fn error_text(e: &ConfError) -> String {
    as_logged(&format!("error: {e}"))
}

/// A message line as Nix's logger writes it to a non-terminal stderr
/// (`filterANSIEscapes`): escape sequences and `\r`/`\a` dropped, tabs
/// expanded to the next multiple of 8 columns, counting each UTF-8
/// character as one column.
pub fn as_logged(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut width = 0usize;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    while chars.next_if(|c| ('\x30'..='\x3f').contains(c)).is_some() {}
                    while chars.next_if(|c| ('\x20'..='\x2f').contains(c)).is_some() {}
                    chars.next_if(|c| ('\x40'..='\x7e').contains(c));
                } else {
                    chars.next_if(|c| ('\x40'..='\x5f').contains(c));
                }
            }
            '\t' => {
                out.push(' ');
                width += 1;
                while width % 8 != 0 {
                    out.push(' ');
                    width += 1;
                }
            }
            '\r' | '\x07' => {}
            c => {
                out.push(c);
                width += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::as_logged;

    #[test]
    fn logged_lines_expand_tabs_and_drop_escapes() {
        assert_eq!(as_logged("ab\tc"), "ab      c");
        assert_eq!(as_logged("\x1b[31;1merror:\x1b[0m x\r\x07y"), "error: xy");
        assert_eq!(as_logged("\u{fc}\tx"), "\u{fc}       x");
    }
}
