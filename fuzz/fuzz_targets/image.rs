//! Docker `save` and OCI image tarballs: manifests, indexes, configs and layers from arbitrary
//! bytes. The input is split on `\n@@\n`: the first part is `manifest.json` (even first byte)
//! or `index.json` beside an `oci-layout` (odd); part `i` is stored as `i` and as
//! `blobs/sha256/i`, so a manifest can point at it. A part that starts with `TAR:` becomes a
//! tar holding the rest as `app/.env` (a layer), and `WH:` a layer whose `.wh.` whiteout
//! deletes it.
#![no_main]

#[path = "harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::image(data));
