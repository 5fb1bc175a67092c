//! Docker `save` and OCI image tarballs: manifests, indexes, configs and layers from arbitrary
//! bytes. The input is split on `\n@@\n`: the first part is `manifest.json` (even first byte)
//! or `index.json` beside an `oci-layout` (odd); part `i` is stored as `i` and as
//! `blobs/sha256/i`, so a manifest can point at it. A part that starts with `TAR:` becomes a
//! tar holding the rest as `app/.env` (a layer), and `WH:` a layer whose `.wh.` whiteout
//! deletes it.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        if b.append_data(&mut h, path, *body).is_err() {
            return Vec::new();
        }
    }
    b.into_inner().unwrap_or_default()
}

fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        parts.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    parts.push(rest);
    parts
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let parts = split(rest, b"\n@@\n");
    let mut owned: Vec<(String, Vec<u8>)> = Vec::new();
    if pick & 1 == 0 {
        owned.push(("manifest.json".into(), parts[0].to_vec()));
    } else {
        owned.push(("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()));
        owned.push(("index.json".into(), parts[0].to_vec()));
    }
    for (i, part) in parts.iter().enumerate().skip(1).take(8) {
        let body = if let Some(text) = part.strip_prefix(b"TAR:") {
            tar_of(&[("app/.env", text)])
        } else if part.starts_with(b"WH:") {
            tar_of(&[("app/.wh..env", b"")])
        } else {
            part.to_vec()
        };
        owned.push((i.to_string(), body.clone()));
        owned.push((format!("blobs/sha256/{i}"), body));
    }
    let entries: Vec<(&str, &[u8])> = owned.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let image = tar_of(&entries);
    if !image.is_empty() {
        common::expand(&image, "fuzz-image.tar");
    }
});
