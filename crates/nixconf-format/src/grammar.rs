//! Nix's nix.conf line grammar, stated with nom, one function per rule.
//!
//! This is the readable statement of the grammar that [`crate::Document`]
//! parses with. The evaluator's hot path (`lex.rs`) is a hand-tuned
//! equivalent; property tests check the two agree on every input.
//!
//! A file is split into lines on `\n` and each line is cut at its first
//! `#` before this grammar applies to what is left (the line's *code*).

use nom::branch::alt;
use nom::bytes::complete::{take_while, take_while1};
use nom::combinator::{eof, map, rest, verify};
use nom::sequence::{terminated, tuple};
use nom::IResult;

use crate::lex::is_ws;

/// A line's code, classified, with byte offsets into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// `ws*`
    Blank,
    /// `include PATH` / `!include PATH`.
    Include {
        ignore_missing: bool,
        path: (usize, usize),
    },
    /// `NAME = VALUE` (`value` from the first to the end of the last
    /// value token; empty when there is none).
    Setting {
        name: (usize, usize),
        value: (usize, usize),
    },
    /// Anything else: Nix's syntax error.
    Invalid,
}

type Res<'a, T> = IResult<&'a [u8], T>;

// ws = ' ' | '\t' | '\r' | '\n'
fn ws0(i: &[u8]) -> Res<'_, &[u8]> {
    take_while(is_ws)(i)
}

// ws1 = ws+
fn ws1(i: &[u8]) -> Res<'_, &[u8]> {
    take_while1(is_ws)(i)
}

// token = (any byte but ws)+
fn token(i: &[u8]) -> Res<'_, &[u8]> {
    take_while1(|b| !is_ws(b))(i)
}

// keyword = "include" | "!include", as a whole token
fn include_keyword(i: &[u8]) -> Res<'_, bool> {
    verify(map(token, |t: &[u8]| (t == b"!include", t)), |(_, t)| {
        *t == b"include" || *t == b"!include"
    })(i)
    .map(|(r, (ignore_missing, _))| (r, ignore_missing))
}

// include = keyword ws+ token ws* EOF
fn include(i: &[u8]) -> Res<'_, (bool, &[u8])> {
    map(
        tuple((include_keyword, ws1, terminated(token, tuple((ws0, eof))))),
        |(ignore_missing, _, path)| (ignore_missing, path),
    )(i)
}

// equals = "=" as a whole token
fn equals(i: &[u8]) -> Res<'_, &[u8]> {
    verify(token, |t: &[u8]| t == b"=")(i)
}

// setting = token ws+ equals (ws+ rest)?
//   where the name token is not a keyword (a keyword line is an include
//   line or invalid, never a setting)
fn setting(i: &[u8]) -> Res<'_, (&[u8], &[u8])> {
    let (after, name) = verify(token, |t: &[u8]| t != b"include" && t != b"!include")(i)?;
    let (after, _) = tuple((ws1, equals))(after)?;
    let (after, _) = ws0(after)?;
    let (after, value) = rest(after)?;
    Ok((after, (name, value)))
}

// line = ws* (EOF | include | setting)
fn line(i: &[u8]) -> Res<'_, Option<LineParts<'_>>> {
    let (i, _) = ws0(i)?;
    alt((
        map(eof, |_| None),
        map(include, |(ignore, path)| {
            Some(LineParts::Include(ignore, path))
        }),
        map(setting, |(name, value)| {
            Some(LineParts::Setting(name, value))
        }),
    ))(i)
}

enum LineParts<'a> {
    Include(bool, &'a [u8]),
    Setting(&'a [u8], &'a [u8]),
}

fn offset(base: &[u8], part: &[u8]) -> (usize, usize) {
    let start = part.as_ptr() as usize - base.as_ptr() as usize;
    (start, start + part.len())
}

/// Classify a line's code (the bytes before `#`, without `\n`).
pub(crate) fn parse_line(code: &[u8]) -> Syntax {
    match line(code) {
        Ok((_, None)) => Syntax::Blank,
        Ok((_, Some(LineParts::Include(ignore_missing, path)))) => Syntax::Include {
            ignore_missing,
            path: offset(code, path),
        },
        Ok((_, Some(LineParts::Setting(name, value)))) => {
            let trimmed = value.len() - value.iter().rev().take_while(|&&b| is_ws(b)).count();
            let (start, _) = offset(code, value);
            Syntax::Setting {
                name: offset(code, name),
                value: (start, start + trimmed),
            }
        }
        Err(_) => Syntax::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::{shape, Shape};
    use proptest::prelude::*;

    /// The nom grammar and the hand-tuned hot path classify a line alike.
    fn agree(code: &[u8]) -> Result<(), TestCaseError> {
        let fast = shape(code);
        let slow = parse_line(code);
        match (fast, slow) {
            (Shape::Blank, Syntax::Blank) | (Shape::Invalid { .. }, Syntax::Invalid) => {}
            (
                Shape::Include {
                    ignore_missing: a,
                    path: p,
                },
                Syntax::Include {
                    ignore_missing: b,
                    path: q,
                },
            ) => prop_assert_eq!((a, p), (b, q)),
            (Shape::Setting { name, value, .. }, Syntax::Setting { name: n, value: v }) => {
                prop_assert_eq!((name, value), (n, v))
            }
            (f, s) => prop_assert!(false, "{:?}: lex {:?}, nom {:?}", code, f, s),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn nom_grammar_agrees_with_fast_path(
            pieces in proptest::collection::vec(prop_oneof![
                Just(&b" "[..]), Just(&b"\t"[..]), Just(&b"\r"[..]), Just(&b"\n"[..]),
                Just(&b"="[..]), Just(&b"=="[..]), Just(&b"include"[..]), Just(&b"!include"[..]),
                Just(&b"a"[..]), Just(&b"x.conf"[..]), Just(&b"\x0c"[..]), Just(&b"\xff"[..]),
            ], 0..10)
        ) {
            agree(&pieces.concat())?;
        }

        #[test]
        fn nom_grammar_agrees_on_any_bytes(code in proptest::collection::vec(any::<u8>(), 0..40)) {
            agree(&code)?;
        }
    }

    #[test]
    fn examples() {
        assert_eq!(parse_line(b""), Syntax::Blank);
        assert_eq!(parse_line(b"include"), Syntax::Invalid);
        assert_eq!(parse_line(b"include = x"), Syntax::Invalid);
        assert_eq!(
            parse_line(b" a = b  c "),
            Syntax::Setting {
                name: (1, 2),
                value: (5, 9)
            }
        );
        assert_eq!(
            parse_line(b"a ="),
            Syntax::Setting {
                name: (0, 1),
                value: (3, 3)
            }
        );
    }
}
