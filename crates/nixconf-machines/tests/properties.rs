//! Round-trip laws, for every generation: `parse(render(f)) == f` for
//! generated files, and `render(parse(x))` reads back the same for any
//! text that parses.

use nixconf_format::NixVersion;
use nixconf_machines::{parse, Item, MachineSpec, MachinesFile, SpeedFactor};
use proptest::prelude::*;

const VERSIONS: [&str; 9] = [
    "1.11.16", "2.3.16", "2.8.0", "2.19.0", "2.20.0", "2.23.0", "2.24.9", "2.24.15", "2.29.0",
];

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_./+=-]{1,12}".prop_filter("not the placeholder", |t| t != "-")
}

fn list() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-z0-9_-]{0,8}", 0..4).prop_filter("writable", |v| {
        let joined = v.join(",");
        v.is_empty() || (!joined.is_empty() && joined != "-")
    })
}

fn spec(version: &NixVersion) -> impl Strategy<Value = MachineSpec> {
    let perl = !version.is_at_least("2.0pre");
    let float = version.is_at_least("2.20pre");
    let modern = version.is_at_least("2.4pre");
    let scheme = if perl {
        Just("").boxed()
    } else {
        prop_oneof![Just(""), Just("ssh://"), Just("ssh-ng://")].boxed()
    };
    let speed = if float {
        (0.0f32..1.0e6).prop_map(SpeedFactor::Float).boxed()
    } else {
        any::<u32>().prop_map(SpeedFactor::Int).boxed()
    };
    let host_key = if perl {
        Just(None).boxed()
    } else if modern {
        prop::option::of("[A-Za-z0-9+/]{1,20}={0,2}").boxed()
    } else {
        prop::option::of(token()).boxed()
    };
    let extra = if perl {
        Just(vec![]).boxed()
    } else {
        prop::collection::vec(token(), 0..2).boxed()
    };
    (
        (
            scheme,
            prop::option::of("[a-z]{1,6}@"),
            "[a-z][a-z0-9.-]{0,12}",
        ),
        list(),
        prop::option::of(token()),
        prop::option::of(any::<u32>()),
        prop::option::of(speed),
        list(),
        list(),
        host_key,
        extra,
        0usize..8,
    )
        .prop_map(
            move |(
                (scheme, user, host),
                systems,
                key,
                jobs,
                speed,
                supported,
                mandatory,
                hk,
                extra,
                pad,
            )| {
                let mut s = MachineSpec::new(format!("{scheme}{}{host}", user.unwrap_or_default()));
                s.systems = systems;
                s.ssh_key = key;
                s.max_jobs = jobs;
                s.speed_factor = speed;
                s.supported_features = supported;
                s.mandatory_features = mandatory;
                s.public_host_key = hk;
                s.extra_columns = extra;
                // Some trailing `-` columns, as the module writes them.
                let max = if perl { 7 } else { 8 };
                let needed = s.build().map(|m| m.columns()).unwrap_or(1);
                if s.extra_columns.is_empty() {
                    s.columns = Some(needed.max(pad.min(max)));
                }
                s
            },
        )
}

fn item(version: &NixVersion) -> impl Strategy<Value = Item> {
    let perl = !version.is_at_least("2.0pre");
    let comment = "[ a-zA-Z0-9#@,.-]{0,12}";
    let machine =
        (spec(version), prop::option::of(comment)).prop_map(|(s, comment)| Item::Machine {
            line: 0,
            machine: s.build().expect("generated specs are writable"),
            comment,
        });
    let include = ("[a-z0-9/._-]{1,10}", prop::option::of(comment)).prop_map(|(path, comment)| {
        Item::Include {
            line: 0,
            path,
            comment,
        }
    });
    let others = prop_oneof![
        comment.prop_map(|text| Item::Comment { line: 0, text }),
        Just(Item::Blank { line: 0 }),
    ];
    if perl {
        prop_oneof![3 => machine, 1 => others].boxed()
    } else {
        prop_oneof![3 => machine, 1 => include, 1 => others].boxed()
    }
}

fn file() -> impl Strategy<Value = (NixVersion, MachinesFile)> {
    prop::sample::select(&VERSIONS[..])
        .prop_map(|v| v.parse::<NixVersion>().unwrap())
        .prop_flat_map(|v| {
            let items = prop::collection::vec(item(&v), 0..8);
            (Just(v), items, any::<bool>())
        })
        .prop_map(|(v, mut items, final_newline)| {
            for (i, it) in items.iter_mut().enumerate() {
                set_line(it, i + 1);
            }
            let final_newline = final_newline
                || items.is_empty()
                || matches!(items.last(), Some(Item::Blank { .. }));
            (
                v,
                MachinesFile {
                    items,
                    final_newline,
                },
            )
        })
}

fn set_line(item: &mut Item, n: usize) {
    match item {
        Item::Machine { line, .. }
        | Item::Include { line, .. }
        | Item::Comment { line, .. }
        | Item::Blank { line } => *line = n,
    }
}

/// Items with the spelling the round trip keeps: machines as their
/// specs (Nix 1.x machines read back as Perl machines), no line numbers.
fn comparable(f: &MachinesFile) -> Vec<String> {
    f.items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            set_line(&mut i, 0);
            match &i {
                Item::Machine {
                    machine, comment, ..
                } => format!("{:?} {comment:?}", machine.to_spec()),
                other => format!("{other:?}"),
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_render_is_the_file((version, file) in file()) {
        let text = file.render(&version).unwrap();
        let back = parse(&text, "m", &version).unwrap();
        prop_assert_eq!(back.final_newline, file.final_newline);
        if version.is_at_least("2.0pre") {
            prop_assert_eq!(&back, &file, "{}", text);
        } else {
            prop_assert_eq!(comparable(&back), comparable(&file), "{}", text);
        }
        prop_assert_eq!(back.render(&version).unwrap(), text);
    }

    #[test]
    fn render_of_parse_reads_back_the_same(
        text in "[ \t;#@a1,\n\r=.-]{0,60}",
        v in prop::sample::select(&VERSIONS[..]),
    ) {
        let version: NixVersion = v.parse().unwrap();
        if let Ok(file) = parse(&text, "m", &version) {
            let rendered = file.render(&version).unwrap();
            let again = parse(&rendered, "m", &version).unwrap();
            prop_assert_eq!(comparable(&again), comparable(&file), "{:?} -> {:?}", text, rendered);
        }
    }
}
