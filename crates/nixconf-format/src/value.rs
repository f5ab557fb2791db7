//! Values as the NixOS module writes them into nix.conf.
//!
//! The 2023 module (`nix.settings`) turns each value into text with its
//! `mkValueString` and each key with `escape [ "=" ]`; this module does the
//! same, so that a rendered nix.conf matches NixOS byte for byte.

use std::fmt::Write as _;

/// A nix.conf value as the NixOS option tree holds it: a config atom
/// (null, bool, int, float, string) or a list of them.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfValue {
    /// `null`: renders as the empty string.
    Null,
    /// A boolean: `true` or `false`.
    Bool(bool),
    /// An integer, as Nix's 64-bit signed integers.
    Int(i64),
    /// A float: rendered as Nix's `toString` does (`%f`, six decimals).
    Float(f64),
    /// A string (or a path, or a package's store path), verbatim.
    Str(String),
    /// A list, rendered with Nix's `toString` of each element, joined by
    /// single spaces.
    List(Vec<ConfValue>),
}

impl ConfValue {
    /// The text the module's `mkValueString` gives for this value.
    ///
    /// ```
    /// use nixconf_format::ConfValue;
    /// assert_eq!(ConfValue::Bool(true).render(), "true");
    /// assert_eq!(ConfValue::Float(1.5).render(), "1.500000");
    /// let l = ConfValue::List(vec![ConfValue::Str("a".into()), ConfValue::Bool(true),
    ///     ConfValue::Bool(false), ConfValue::Null, ConfValue::Int(3)]);
    /// // `toString` of a list: true is "1", false and null are "".
    /// assert_eq!(l.render(), "a 1   3");
    /// ```
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    /// Append [`ConfValue::render`]'s text to `out`.
    pub fn render_into(&self, out: &mut String) {
        match self {
            ConfValue::Null => {}
            ConfValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            ConfValue::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.to_string_into(out);
                }
            }
            other => other.to_string_into(out),
        }
    }

    /// Nix's `builtins.toString` of the value: unlike `mkValueString`,
    /// `true` is `1` and `false` is the empty string.
    fn to_string_into(&self, out: &mut String) {
        match self {
            ConfValue::Null => {}
            ConfValue::Bool(b) => {
                if *b {
                    out.push('1');
                }
            }
            ConfValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            ConfValue::Float(f) => out.push_str(&float_to_string(*f)),
            ConfValue::Str(s) => out.push_str(s),
            ConfValue::List(_) => self.render_into(out),
        }
    }
}

/// Nix's `toString` of a float: C's `%f` (`std::to_string`), six decimals.
pub fn float_to_string(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    format!("{f:.6}")
}

/// A key as the module writes it: every `=` escaped as `\=`.
pub fn render_key(key: &str) -> String {
    key.replace('=', "\\=")
}

/// One `key = value` line as the module writes it (no newline).
///
/// ```
/// use nixconf_format::{render_setting, ConfValue};
/// assert_eq!(render_setting("cores", &ConfValue::Int(0)), "cores = 0");
/// assert_eq!(render_setting("builders", &ConfValue::Null), "builders = ");
/// ```
pub fn render_setting(key: &str, value: &ConfValue) -> String {
    let mut out = render_key(key);
    out.push_str(" = ");
    value.render_into(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_render_like_nix_to_string() {
        assert_eq!(float_to_string(2.0), "2.000000");
        assert_eq!(float_to_string(-0.5), "-0.500000");
        assert_eq!(float_to_string(1e-7), "0.000000");
        assert_eq!(float_to_string(123456789.125), "123456789.125000");
    }

    #[test]
    fn nested_lists_flatten_with_spaces() {
        let v = ConfValue::List(vec![
            ConfValue::List(vec![ConfValue::Str("a".into()), ConfValue::Str("b".into())]),
            ConfValue::Str(String::new()),
            ConfValue::Float(0.25),
        ]);
        assert_eq!(v.render(), "a b  0.250000");
    }

    #[test]
    fn keys_escape_equals() {
        assert_eq!(
            render_setting("a=b", &ConfValue::Str("c".into())),
            "a\\=b = c"
        );
    }
}
