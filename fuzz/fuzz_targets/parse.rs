//! No input makes the nix.conf parser or evaluator panic, and the
//! document always renders back to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nixconf_format::{show_with, Document, MemSource, Network, ShowOptions};

fuzz_target!(|data: &[u8]| {
    let doc = Document::parse(data);
    assert_eq!(doc.render(), data);
    let mut files = MemSource::new();
    files.insert("/c/nix.conf", data);
    for version in ["2.8.0", "2.16.0", "2.20.0", "2.35.0"] {
        let options = ShowOptions {
            version: version.parse().expect("known version"),
            network: Network::Offline,
        };
        let _ = show_with(&files, "/c".as_ref(), &options);
    }
});
