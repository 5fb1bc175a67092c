//! Builders for binary fixtures, made in memory by code (never checked in): tar, tar.gz, zip,
//! gzip, bzip2, xz, zstd, safetensors, npy.

#![allow(dead_code)]

use std::io::Write;

/// A tar archive of `(path, bytes)` members. Paths are written as given (raw header bytes), so
/// `../x` and `/etc/x` can be made.
pub fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        {
            let name = &mut h.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
        }
        h.set_cksum();
        b.append(&h, *bytes).expect("tar append");
    }
    b.into_inner().expect("tar finish")
}

/// A tar with one symlink member pointing `to`, plus the given files.
pub fn tar_with_symlink(link: &str, to: &str, members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, link, to).expect("link");
    for (path, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, *bytes).expect("append");
    }
    b.into_inner().expect("tar finish")
}

/// gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip finish")
}

/// A zip of `(path, bytes)` members, deflated or stored.
pub fn zip(members: &[(&str, &[u8])], stored: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    for (path, bytes) in members {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(bytes.len() > u32::MAX as usize / 2);
        w.start_file(*path, opts).expect("zip entry");
        w.write_all(bytes).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A safetensors file with `metadata` in `__metadata__` and `payload` bytes of tensor data.
pub fn safetensors(metadata: &[(&str, &str)], payload: usize) -> Vec<u8> {
    let meta: serde_json::Map<String, serde_json::Value> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    let header = serde_json::json!({
        "__metadata__": meta,
        "weight": {"dtype": "F32", "shape": [payload / 4], "data_offsets": [0, payload]},
    })
    .to_string();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + payload, 0x41);
    out
}

/// zstd of `bytes`.
pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("zstd")
}

/// bzip2 of `bytes`.
pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(bytes).expect("bzip2");
    e.finish().expect("bzip2 finish")
}

/// xz of `bytes`.
pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))
        .expect("xz writer");
    w.write_all(bytes).expect("xz");
    w.finish().expect("xz finish")
}

