//! Each generation's reading of machines files: splitting, columns,
//! normalisation and Nix's own error texts.

use nixconf_format::NixVersion;
use nixconf_machines::{parse, EntryErrorKind, Error, Item, SpeedFactor};

fn v(s: &str) -> NixVersion {
    s.parse().unwrap()
}

/// The one error of parsing `text` with `version`, as displayed.
fn error(text: &str, version: &str) -> String {
    match parse(text, "m", &v(version)) {
        Ok(f) => panic!("{text:?} parsed with {version}: {f:?}"),
        Err(Error::Entry(e)) => e.to_string().lines().next().unwrap().to_owned(),
        Err(other) => panic!("not one entry error: {other}"),
    }
}

fn uris(text: &str, version: &str) -> Vec<String> {
    let ver = v(version);
    parse(text, "m", &ver)
        .unwrap()
        .machines()
        .map(|m| m.nix_view(&ver, "x86_64-linux").store_uri)
        .collect()
}

#[test]
fn old_splitting_ends_comments_at_semicolons() {
    assert_eq!(uris("a x # c; d y\n", "2.8.0"), ["ssh://a", "ssh://d"]);
    assert_eq!(uris("a x # c; d y\n", "2.28.2"), ["ssh://a"]);
    assert_eq!(uris("a x # c; d y\n", "2.24.15"), ["ssh://a"]);
    assert_eq!(uris("a x # c; d y\n", "2.25.0"), ["ssh://a", "ssh://d"]);
}

#[test]
fn old_splitting_refuses_whitespace_only_entries() {
    assert_eq!(
        error("a x ; ; b x\n", "2.8.0"),
        "m:1:6: bad machine specification: store URL was not found at the first column of a row: ' '"
    );
    assert_eq!(
        error("ssh://b x\n   # indented comment\n", "2.8.0"),
        "m:2:1: bad machine specification: store URL was not found at the first column of a row: '   '"
    );
    assert_eq!(
        error("\t\n", "2.3.16"),
        "m:1:1: bad machine specification '\t'"
    );
    // The fixed splitting skips them.
    let f = parse(
        "a x ; ; b x\n   # indented comment\n\t\n",
        "m",
        &v("2.29.0"),
    )
    .unwrap();
    assert_eq!(f.machines().count(), 2);
}

#[test]
fn at_references_only_at_the_start_of_a_piece_before_the_fix() {
    assert_eq!(uris("a x; @/file\n", "2.8.0"), ["ssh://a", "@/file"]);
    let f = parse("a x; @ /file\n", "m", &v("2.29.0")).unwrap();
    assert!(matches!(&f.items[1], Item::Include { path, .. } if path == "/file"));
}

#[test]
fn column_errors_carry_nix_texts_per_version() {
    assert_eq!(
        error("h x - eight\n", "2.8.0"),
        "m:1:1: bad machine specification: failed to convert column #3 in a row: 'h x - eight' to 'unsigned int'"
    );
    assert_eq!(error("h x - eight\n", "2.3.16"), "m:1:1: stoull");
    assert_eq!(
        error("h x - 1 1.5\n", "2.19.0"),
        "m:1:1: bad machine specification: failed to convert column #4 in a row: 'h x - 1 1.5' to 'unsigned int'"
    );
    assert_eq!(
        error("h x - 1 fast\n", "2.20.0"),
        "m:1:1: bad machine specification: failed to convert column #4 in a row: 'h x - 1 fast' to 'float'"
    );
    assert_eq!(error("- - 8 -3\n", "2.24.9"), "m:1:1: bad machine specification: store URL was not found at the first column of a row: '- - 8 -3'");
    assert_eq!(
        error("h - 8 1 -3\n", "2.24.9"),
        "m:1:1: speed factor must be >= 0"
    );
    assert_eq!(
        error("h x - 1 1 - - ab_c\n", "2.8.0"),
        "m:1:1: bad machine specification: a column #7 in a row: 'h x - 1 1 - - ab_c' is not valid base64 string: error: invalid character in Base64 string: ''"
    );
    assert_eq!(
        error("h x - 1 1 - - ab_c\n", "2.24.7"),
        "m:1:1: bad machine specification: a column #7 in a row: 'h x - 1 1 - - ab_c' is not valid base64 string: error: invalid character in Base64 string: '' in 'ab_c'"
    );
    assert_eq!(
        error("h x - 1 1 - - ab_c\n", "2.25.0"),
        "m:1:1: while parsing machine specification at a column #7 in a row: 'h x - 1 1 - - ab_c': invalid character in Base64 string: ''"
    );
    assert_eq!(
        error("ssh://a|b x\n", "2.23.0"),
        "m:1:1: Cannot parse Nix store 'ssh://a|b'"
    );
    assert!(parse("ssh://a|b x\n", "m", &v("2.22.0")).is_ok());
}

#[test]
fn the_entry_quoted_is_the_piece_before_the_fix_and_trimmed_after() {
    assert_eq!(
        error("  h x - bad # c\n", "2.8.0"),
        "m:1:1: bad machine specification: failed to convert column #3 in a row: '  h x - bad ' to 'unsigned int'"
    );
    assert_eq!(
        error("  h x - bad # c\n", "2.29.0"),
        "m:1:3: bad machine specification: failed to convert column #3 in a row: 'h x - bad' to 'unsigned int'"
    );
}

#[test]
fn every_bad_entry_is_reported() {
    let e = parse("a x - x\nb y\nc z - 1 x\n", "m", &v("2.8.0")).unwrap_err();
    let lines: Vec<usize> = e
        .as_list()
        .iter()
        .map(|e| match e {
            Error::Entry(e) => e.location.line,
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(lines, [1, 3]);
}

#[test]
fn numbers_per_generation() {
    let f = parse("h x - +3 0\n", "m", &v("2.8.0")).unwrap();
    let m = f.machines().next().unwrap();
    assert_eq!(m.max_jobs(), Some(3));
    assert_eq!(m.speed_factor(), Some(SpeedFactor::Int(0)));
    assert_eq!(m.nix_view(&v("2.8.0"), "x").speed_factor, 1.0);
    let f = parse("h x - 8x -1\n", "m", &v("2.3.16")).unwrap();
    let m = f.machines().next().unwrap();
    assert_eq!(m.max_jobs(), Some(8));
    assert_eq!(m.speed_factor(), Some(SpeedFactor::Int(u32::MAX)));
    let f = parse("h x - 1 2.5\n", "m", &v("2.20.0")).unwrap();
    assert_eq!(
        f.machines().next().unwrap().speed_factor(),
        Some(SpeedFactor::Float(2.5))
    );
    assert!(matches!(
        parse("h x - -1\n", "m", &v("2.8.0")).unwrap_err(),
        Error::Entry(e) if e.kind == EntryErrorKind::NotUnsigned
    ));
}

#[test]
fn systems_are_a_list_before_2_20_and_a_set_after() {
    let text = "h b,a,,b\n";
    let f = parse(text, "m", &v("2.19.0")).unwrap();
    let m = f.machines().next().unwrap();
    assert_eq!(m.systems(), ["b", "a", "", "b"]);
    assert_eq!(m.nix_view(&v("2.19.0"), "x").systems, ["b", "a", "b"]);
    assert_eq!(m.nix_view(&v("2.20.0"), "x").systems, ["a", "b"]);
    let f = parse("h -\n", "m", &v("2.19.0")).unwrap();
    assert_eq!(
        f.machines()
            .next()
            .unwrap()
            .nix_view(&v("2.19.0"), "riscv64-linux")
            .systems,
        ["riscv64-linux"]
    );
}

#[test]
fn extra_columns_are_ignored_and_kept() {
    let text = "local?root=/x - - +4 - - - Zm9= extra more\n";
    let f = parse(text, "m", &v("2.8.0")).unwrap();
    let m = f.machines().next().unwrap();
    assert_eq!(m.extra_columns(), ["extra", "more"]);
    assert_eq!(m.public_host_key(), Some("Zm9="));
    assert_eq!(
        f.render(&v("2.8.0")).unwrap(),
        "local?root=/x - - 4 - - - Zm9= extra more\n".replace(" 4 ", " +4 ")
    );
}

#[test]
fn perl_reads_single_separators_and_keeps_empty_fields() {
    let text =
        "nix@scratchy i686-linux /k 8 1  \nnix@itchy i686-linux,x86_64-linux /k 2 2 kvm bench\n";
    let ver = v("1.11.16");
    let f = parse(text, "m", &ver).unwrap();
    assert_eq!(f.render(&ver).unwrap(), text);
    let ms: Vec<_> = f.machines().map(|m| m.nix_view(&ver, "x")).collect();
    assert_eq!(ms[0].store_uri, "nix@scratchy");
    assert_eq!(ms[0].max_jobs, 8);
    assert!(ms[0].supported_features.is_empty());
    assert_eq!(
        ms[1].supported_features.iter().collect::<Vec<_>>(),
        ["bench", "kvm"]
    );
    // The same machines for Nix 2: `-` for the empty columns.
    assert_eq!(
        f.render(&v("2.3.16")).unwrap(),
        "nix@scratchy i686-linux /k 8 1 - -\nnix@itchy i686-linux,x86_64-linux /k 2 2 kvm bench\n"
    );
}

#[test]
fn blank_comment_crlf_bom_and_no_final_newline() {
    let ver = v("2.24.9");
    for text in [
        "",
        "\n",
        "# only\n",
        "ssh://a x - 1 1 - - -",
        "a x\n\n# c\n",
    ] {
        assert_eq!(
            parse(text, "m", &ver).unwrap().render(&ver).unwrap(),
            text,
            "{text:?}"
        );
    }
    // CRLF: the CR is whitespace to Nix, and stays in comments.
    let f = parse("a x\r\n# c\r\n", "m", &ver).unwrap();
    assert_eq!(f.machines().next().unwrap().systems(), ["x"]);
    assert_eq!(f.render(&ver).unwrap(), "a x\n# c\r\n");
    // A BOM is part of the first store URI: not a URL to Nix 2.23+.
    assert_eq!(
        error("\u{feff}ssh://a x\n", "2.24.9"),
        "m:1:1: Cannot parse Nix store '\u{feff}ssh://a'"
    );
    assert_eq!(uris("\u{feff}ssh://a x\n", "2.8.0"), ["\u{feff}ssh://a"]);
}

#[test]
fn rendering_refuses_what_would_read_back_differently() {
    let ver = v("2.8.0");
    let mut f = parse("a x\n", "m", &ver).unwrap();
    if let Item::Machine { comment, .. } = &mut f.items[0] {
        *comment = Some(" c; d y".into());
    }
    assert!(f.render(&ver).is_err());
    assert_eq!(f.render(&v("2.29.0")).unwrap(), "a x # c; d y\n");
}

#[test]
fn canonical_and_spaced_out_lines_read_the_same() {
    let ver = v("2.24.9");
    let a = parse("ssh://a x86_64-linux - 2 1 kvm - -\n", "m", &ver).unwrap();
    let b = parse(" ssh://a  x86_64-linux\t-\r2 1   kvm - -  \n", "m", &ver).unwrap();
    assert_eq!(
        a.machines().collect::<Vec<_>>(),
        b.machines().collect::<Vec<_>>()
    );
    let m = a.machines().next().unwrap();
    assert_eq!(
        (m.columns(), m.column(7), m.column(8)),
        (8, Some("-"), None)
    );
}

#[test]
fn an_empty_reference_is_a_missing_file_not_the_working_directory() {
    let ver = v("2.8.0");
    let f = parse("@\nssh://a x86_64-linux\n", "m", &ver).unwrap();
    let e = nixconf_machines::expand(&f, "m", &ver, std::path::Path::new("/")).unwrap();
    assert_eq!(e.machines.len(), 1);
    assert_eq!(e.missing[0].path, "");
}

#[test]
fn a_line_of_separators_keeps_its_comment_and_its_place() {
    let ver = v("2.29.0");
    let f = parse("a x\n ; # note\n;;\n", "m", &ver).unwrap();
    assert_eq!(f.render(&ver).unwrap(), "a x\n# note\n\n");
    let ver = v("2.8.0");
    let f = parse("a x\n;;\n", "m", &ver).unwrap();
    assert_eq!(f.render(&ver).unwrap(), "a x\n\n");
}
