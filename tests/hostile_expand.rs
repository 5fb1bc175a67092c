//! Hostile inputs, round 2 (issue 21): containers whose sizes, references and metadata the input
//! controls. Each input is made by code, a few MB at most, with a witness secret beside it; each
//! test asserts on behaviour (the witness found, the warning naming the budget, the bytes
//! scanned in the summary, the peak memory ferret reports), never on seconds. Timeouts are hang
//! detectors.

use std::io::Write;
use std::time::Duration;

use crate::common::TestDir;
use crate::common::make;
use crate::common::secrets::Gen;
use crate::hostile::scan;

/// A clean file with one known secret, scanned beside each hostile input.
fn witness(t: &TestDir) {
    let token = Gen::new(190).github_pat();
    t.write("witness.env", format!("GITHUB_TOKEN={token}\n"));
}

fn assert_witness(doc: &serde_json::Value) {
    let found = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "witness.env" && f["rule_id"] == "github.pat.classic");
    assert!(found, "the witness secret was lost: {doc:#}");
}

/// Locations of the findings of `rule`.
fn locations(doc: &serde_json::Value, rule: &str) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .map(|f| f["location"].as_str().unwrap().to_string())
        .collect()
}

fn scanned(doc: &serde_json::Value) -> u64 {
    doc["summary"]["scanned_bytes"].as_u64().unwrap()
}

fn peak_mib(doc: &serde_json::Value) -> u64 {
    doc["summary"]["peak_rss_bytes"].as_u64().unwrap() >> 20
}

const MINUTE: Duration = Duration::from_secs(60);
const HF: &str = "huggingface.token";

/// Text of about `n` bytes: lines of filler with `line` in the middle.
fn text_with(line: &str, n: usize) -> Vec<u8> {
    let filler = b"the quick brown fox jumps over the lazy dog 0123456789\n";
    let mut out = Vec::with_capacity(n + line.len());
    while out.len() < n / 2 {
        out.extend_from_slice(filler);
    }
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
    while out.len() < n {
        out.extend_from_slice(filler);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Zip surgery: the central directory rewritten by hand.

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// `(start of the central directory, its records, the end record)` of a zip without a comment.
fn zip_parts(zip: &[u8]) -> (usize, Vec<Vec<u8>>, Vec<u8>) {
    let eocd = zip.len() - 22;
    assert_eq!(u32_at(zip, eocd), 0x0605_4b50, "a zip without a comment");
    let cd = u32_at(zip, eocd + 16) as usize;
    let mut records = Vec::new();
    let mut at = cd;
    while u32_at(zip, at) == 0x0201_4b50 {
        let len = 46 + u16_at(zip, at + 28) + u16_at(zip, at + 30) + u16_at(zip, at + 32);
        records.push(zip[at..at + len].to_vec());
        at += len;
    }
    (cd, records, zip[eocd..].to_vec())
}

/// The zip `head` (local headers and data) followed by `records` as its central directory.
fn zip_with_directory(head: &[u8], records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = head.to_vec();
    let cd = out.len();
    for r in records {
        out.extend_from_slice(r);
    }
    let size = out.len() - cd;
    let n = u16::try_from(records.len()).unwrap();
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&u32::try_from(size).unwrap().to_le_bytes());
    out.extend_from_slice(&u32::try_from(cd).unwrap().to_le_bytes());
    out.extend_from_slice(&[0; 2]);
    out
}

// ---------------------------------------------------------------------------------------------
// Item 7: stored bytes are budgeted, overlapping entries scanned once.

#[test]
fn zip_entries_that_share_one_stored_member_are_scanned_once() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(191).huggingface();
    let member = text_with(&format!("HF_TOKEN={token}"), 1 << 20);
    let zip = make::zip(&[("big00.txt", &member)], true);
    let (cd, records, _) = zip_parts(&zip);
    // 2,000 central records, all pointing at the one local header: 2 GB of reading before.
    let copies: Vec<Vec<u8>> = (0..2000)
        .map(|i| {
            let mut r = records[0].clone();
            r[46..55].copy_from_slice(format!("c{i:04}.txt").as_bytes());
            r
        })
        .collect();
    t.write("shared.zip", zip_with_directory(&zip[..cd], &copies));
    let (r, doc) = scan(&t, &["."], 5 * MINUTE);
    assert_witness(&doc);
    let found = locations(&doc, HF);
    assert_eq!(
        found.len(),
        1,
        "the shared bytes are scanned once: {found:?}"
    );
    assert!(found[0].starts_with("shared.zip › c0000.txt"), "{found:?}");
    assert!(
        scanned(&doc) < 4 << 20,
        "scanned {} bytes for a 1 MiB member",
        scanned(&doc)
    );
    assert!(
        r.stderr
            .contains("shared.zip: 1999 entries overlap the bytes of other entries"),
        "{}",
        r.stderr
    );
    assert_eq!(r.code, 1);
}

#[test]
fn stored_zip_members_count_toward_the_total_budget() {
    let t = TestDir::new();
    witness(&t);
    let filler = text_with("nothing here", 1 << 20);
    let names: Vec<String> = (0..20).map(|i| format!("m{i:02}.txt")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &filler[..])).collect();
    t.write("stored.zip", make::zip(&members, true));
    let (r, doc) = scan(&t, &[".", "--max-total-bytes", "5MiB", "-j", "1"], MINUTE);
    assert_witness(&doc);
    assert!(
        r.stderr
            .contains("stored.zip: decompressed bytes over --max-total-bytes 5242880"),
        "{}",
        r.stderr
    );
    assert!(
        scanned(&doc) < 8 << 20,
        "scanned {} bytes under a 5 MiB budget",
        scanned(&doc)
    );
}

// ---------------------------------------------------------------------------------------------
// Item 8: lying sizes do not buffer whole members.

/// A zip of one deflated member whose headers say it is 100 bytes, deflated into
/// `compressed` bytes (32-bit fields), while it holds `real` bytes.
fn lying_zip(content: &[u8], compressed: u32) -> Vec<u8> {
    let zip = make::zip(&[("small.txt", content)], false);
    let (cd, records, _) = zip_parts(&zip);
    let mut head = zip[..cd].to_vec();
    head[18..22].copy_from_slice(&compressed.to_le_bytes());
    head[22..26].copy_from_slice(&100u32.to_le_bytes());
    let mut r = records[0].clone();
    r[20..24].copy_from_slice(&compressed.to_le_bytes());
    r[24..28].copy_from_slice(&100u32.to_le_bytes());
    zip_with_directory(&head, &[r])
}

/// The same, with zip64 sizes: the 32-bit fields are `0xFFFFFFFF` and the zip64 extra field
/// says `2^62` compressed and 100 bytes uncompressed.
fn lying_zip64(content: &[u8]) -> Vec<u8> {
    let zip = make::zip(&[("small.txt", content)], false);
    let (cd, records, _) = zip_parts(&zip);
    let data = &zip[30 + 9..cd];
    let extra = {
        let mut e = 1u16.to_le_bytes().to_vec();
        e.extend_from_slice(&16u16.to_le_bytes());
        e.extend_from_slice(&100u64.to_le_bytes());
        e.extend_from_slice(&(1u64 << 62).to_le_bytes());
        e
    };
    let mut local = zip[..30].to_vec();
    local[18..26].copy_from_slice(&[0xff; 8]);
    local[28..30].copy_from_slice(&20u16.to_le_bytes());
    local.extend_from_slice(b"small.txt");
    local.extend_from_slice(&extra);
    local.extend_from_slice(data);
    let mut r = records[0][..46].to_vec();
    r[20..28].copy_from_slice(&[0xff; 8]);
    r[30..32].copy_from_slice(&20u16.to_le_bytes());
    r.extend_from_slice(b"small.txt");
    r.extend_from_slice(&extra);
    zip_with_directory(&local, &[r])
}

#[test]
fn zip_members_that_lie_about_their_sizes_are_not_buffered_whole() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(192).huggingface();
    // 300 MB that deflate to about 300 KB: a ratio of 1000, which the declared compressed
    // size hid.
    let mut content = format!("HF_TOKEN={token}\n").into_bytes();
    content.resize(300 << 20, b'\n');
    t.write("lie32.zip", lying_zip(&content, 0xFFFF_FFF0));
    t.write("lie64.zip", lying_zip64(&content));
    drop(content);
    let (r, doc) = scan(&t, &[".", "-j", "2"], 2 * MINUTE);
    assert_witness(&doc);
    let found = locations(&doc, HF);
    for zip in ["lie32.zip", "lie64.zip"] {
        assert!(
            found
                .iter()
                .any(|l| l.starts_with(&format!("{zip} › small.txt"))),
            "{zip}: the secret before the lie: {found:?}"
        );
        assert!(
            r.stderr.contains(&format!(
                "{zip} › small.txt: compression ratio over --max-ratio"
            )),
            "{zip}: {}",
            r.stderr
        );
    }
    assert!(peak_mib(&doc) < 200, "peak RSS {} MiB", peak_mib(&doc));
}

/// A tar header block of `kind` for `size` bytes named `name`.
fn tar_header(name: &str, kind: u8, size: u64) -> [u8; 512] {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_cksum();
    *h.as_bytes()
}

fn pad(out: &mut Vec<u8>) {
    out.resize(out.len().div_ceil(512) * 512, 0);
}

#[test]
fn a_tar_gz_whose_first_member_is_a_huge_pax_header_is_streamed() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(193);
    let (in_header, after) = (g.huggingface(), g.huggingface());
    // A 256 MiB PAX header (a comment record, then filler), then a member with a secret.
    let size: u64 = 256 << 20;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_header("././@PaxHeader", b'x', size))
        .unwrap();
    let record = format!("HF_TOKEN={in_header}\n");
    gz.write_all(record.as_bytes()).unwrap();
    let filler = vec![b'a'; 1 << 20];
    let mut left = size - record.len() as u64;
    while left > 0 {
        let n = left.min(filler.len() as u64) as usize;
        gz.write_all(&filler[..n]).unwrap();
        left -= n as u64;
    }
    let body = format!("HF_TOKEN={after}\n");
    let mut tail = tar_header("after.env", b'0', body.len() as u64).to_vec();
    tail.extend_from_slice(body.as_bytes());
    pad(&mut tail);
    tail.extend_from_slice(&[0; 1024]);
    gz.write_all(&tail).unwrap();
    t.write("pax.tar.gz", gz.finish().unwrap());
    // The ratio budget is lifted: this is about the header being read whole.
    let (r, doc) = scan(&t, &[".", "--max-ratio", "1000000"], 2 * MINUTE);
    assert_witness(&doc);
    let found = locations(&doc, HF);
    assert!(
        found
            .iter()
            .any(|l| l.starts_with("pax.tar.gz › after.env")),
        "the member after the header: {found:?}"
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        r.stderr.contains("PAX header of 268435456 bytes"),
        "{}",
        r.stderr
    );
    assert!(peak_mib(&doc) < 200, "peak RSS {} MiB", peak_mib(&doc));
}

// ---------------------------------------------------------------------------------------------
// Item 9: images, each blob once.

#[test]
fn a_docker_manifest_that_lists_one_layer_many_times_scans_it_once() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(194).huggingface();
    let layer = make::tar(&[(
        "app/.env",
        &text_with(&format!("HF_TOKEN={token}"), 1 << 20),
    )]);
    let config = br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layers: Vec<&str> = vec!["l/layer.tar"; 3000];
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": "c.json", "RepoTags": ["app:1"], "Layers": layers,
    }]))
    .unwrap();
    t.write(
        "img.tar",
        make::tar(&[
            ("l/layer.tar", &layer),
            ("c.json", config),
            ("manifest.json", &manifest),
        ]),
    );
    let (r, doc) = scan(&t, &["."], 5 * MINUTE);
    assert_witness(&doc);
    let found = locations(&doc, HF);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        scanned(&doc) < 8 << 20,
        "scanned {} bytes for a 1 MiB layer",
        scanned(&doc)
    );
    assert!(
        r.stderr.contains("listed 3000 times"),
        "the repeated references are reported: {}",
        r.stderr
    );
}

/// An OCI layout in a tar: `index.json` pointing at `top`, the blobs given as
/// `(digest, document)`, and a real image (manifest, config, one layer with a secret).
fn layout_tar(index_to: &str, docs: &[(String, Vec<u8>)], token: &str) -> Vec<u8> {
    let layer = make::tar(&[("app/.env", format!("HF_TOKEN={token}\n").as_bytes())]);
    let ld = make::sha256(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [ld]},
    }))
    .unwrap();
    let cd = make::sha256(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": layer.len()}],
    }))
    .unwrap();
    let md = make::sha256(&manifest);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": index_to, "size": 1},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": manifest.len()},
        ],
    }))
    .unwrap();
    let mut files = vec![
        (
            "oci-layout".to_string(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        ("index.json".to_string(), index),
        (format!("blobs/sha256/{}", &ld[7..]), layer),
        (format!("blobs/sha256/{}", &cd[7..]), config),
        (format!("blobs/sha256/{}", &md[7..]), manifest),
    ];
    for (d, doc) in docs {
        files.push((format!("blobs/sha256/{}", &d[7..]), doc.clone()));
    }
    make::tar_of(&files)
}

fn index_of(digest: &str, times: usize) -> Vec<u8> {
    let entry = serde_json::json!({
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": 1,
    });
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "manifests": vec![entry; times],
    }))
    .unwrap()
}

#[test]
fn an_oci_index_that_lists_itself_is_a_cycle() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(195).huggingface();
    // A blob that lists itself 200 times (its name is not its digest: nothing checks it).
    let me = format!("sha256:{}", "ab".repeat(32));
    t.write(
        "cycle.tar",
        layout_tar(&me, &[(me.clone(), index_of(&me, 200))], &token),
    );
    let (r, doc) = scan(&t, &["."], 2 * MINUTE);
    assert_witness(&doc);
    let found = locations(&doc, HF);
    assert_eq!(found.len(), 1, "the real image beside the cycle: {found:?}");
    assert!(r.stderr.contains("lists itself"), "{}", r.stderr);
}

#[test]
fn an_oci_index_fan_out_with_real_digests_walks_each_document_once() {
    let t = TestDir::new();
    witness(&t);
    let token = Gen::new(196).huggingface();
    // Three levels of indexes, each listing the next 100 times: a million paths to one empty
    // index at the bottom.
    let bottom =
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": []})).unwrap();
    let mut docs = vec![(make::sha256(&bottom), bottom)];
    for _ in 0..3 {
        let below = docs.last().unwrap().0.clone();
        let doc = index_of(&below, 100);
        docs.push((make::sha256(&doc), doc));
    }
    let top = docs.last().unwrap().0.clone();
    t.write("fanout.tar", layout_tar(&top, &docs, &token));
    let (r, doc) = scan(&t, &["."], 2 * MINUTE);
    assert_witness(&doc);
    let found = locations(&doc, HF);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(r.stderr.contains("listed again"), "{}", r.stderr);
    assert!(peak_mib(&doc) < 200, "peak RSS {} MiB", peak_mib(&doc));
}

// ---------------------------------------------------------------------------------------------
// Item 5: metadata is scanned.

/// A PAX extended header holding `records`, as bytes to put before a member.
fn pax(records: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in records {
        let rest = format!(" {k}={v}\n");
        // The length counts its own digits.
        let mut len = rest.len() + 1;
        while format!("{len}{rest}").len() != len {
            len += 1;
        }
        body.extend_from_slice(format!("{len}{rest}").as_bytes());
    }
    let mut out = tar_header("././@PaxHeader", b'x', body.len() as u64).to_vec();
    out.extend_from_slice(&body);
    pad(&mut out);
    out
}

#[test]
fn secrets_in_archive_and_stream_metadata_are_found() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(197);
    let s: Vec<String> = (0..7).map(|_| g.huggingface()).collect();
    // A tar: a PAX comment and an xattr on one member, a secret as another member's name.
    let mut tar = pax(&[
        ("comment", &format!("HF_TOKEN={}", s[0])),
        ("SCHILY.xattr.user.note", &format!("HF_TOKEN={}", s[1])),
    ]);
    tar.extend_from_slice(&tar_header("x.txt", b'0', 5));
    tar.extend_from_slice(b"hello");
    pad(&mut tar);
    tar.extend_from_slice(&tar_header(&format!("HF_TOKEN={}", s[2]), b'0', 0));
    tar.extend_from_slice(&[0; 1024]);
    t.write("a.tar", &tar);
    t.write("a.tar.gz", make::gzip(&tar));
    // A zip: the archive's comment and an entry's comment.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.set_comment(format!("HF_TOKEN={}", s[3]));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("y.txt", opts).unwrap();
    w.write_all(b"hello").unwrap();
    let mut zip = w.finish().unwrap().into_inner();
    let (cd, mut records, eocd) = zip_parts_with_comment(&zip);
    let comment = format!("HF_TOKEN={}", s[4]);
    records[0][32..34].copy_from_slice(&u16::try_from(comment.len()).unwrap().to_le_bytes());
    records[0].extend_from_slice(comment.as_bytes());
    let mut rebuilt = zip[..cd].to_vec();
    for r in &records {
        rebuilt.extend_from_slice(r);
    }
    let size = u32::try_from(rebuilt.len() - cd).unwrap();
    let mut eocd = eocd;
    eocd[12..16].copy_from_slice(&size.to_le_bytes());
    rebuilt.extend_from_slice(&eocd);
    zip = rebuilt;
    t.write("b.zip", &zip);
    // A gzip: the file name and the comment fields.
    let mut gz = flate2::GzBuilder::new()
        .filename(format!("HF_TOKEN={}", s[5]))
        .comment(format!("HF_TOKEN={}", s[6]))
        .write(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"nothing in the text\n").unwrap();
    t.write("c.log.gz", gz.finish().unwrap());

    let (r, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    assert_eq!(r.code, 1);
    let found = locations(&doc, HF);
    let has = |prefix: &str| found.iter().any(|l| l.starts_with(prefix));
    for tar in ["a.tar", "a.tar.gz"] {
        assert!(
            has(&format!("{tar} › x.txt › tar:pax comment")),
            "{found:#?}"
        );
        assert!(
            has(&format!("{tar} › x.txt › tar:pax SCHILY.xattr.user.note")),
            "{found:#?}"
        );
        assert!(has(&format!("{tar} › tar:member names:2:")), "{found:#?}");
    }
    assert!(has("b.zip › zip:comment"), "{found:#?}");
    assert!(has("b.zip › y.txt › zip:comment"), "{found:#?}");
    assert!(has("c.log.gz › gzip:name"), "{found:#?}");
    assert!(has("c.log.gz › gzip:comment"), "{found:#?}");
    assert_eq!(found.len(), 10, "{found:#?}");
}

/// Like [`zip_parts`], for a zip whose end record carries a comment.
fn zip_parts_with_comment(zip: &[u8]) -> (usize, Vec<Vec<u8>>, Vec<u8>) {
    let eocd = (0..zip.len() - 21)
        .rev()
        .find(|&i| u32_at(zip, i) == 0x0605_4b50)
        .unwrap();
    let cd = u32_at(zip, eocd + 16) as usize;
    let mut records = Vec::new();
    let mut at = cd;
    while u32_at(zip, at) == 0x0201_4b50 {
        let len = 46 + u16_at(zip, at + 28) + u16_at(zip, at + 30) + u16_at(zip, at + 32);
        records.push(zip[at..at + len].to_vec());
        at += len;
    }
    (cd, records, zip[eocd..].to_vec())
}

// ---------------------------------------------------------------------------------------------
// Item 6: valid inputs are read.

#[test]
fn a_gzip_with_a_long_name_and_an_xz_with_a_large_dictionary_are_read() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(198);
    let (a, b) = (g.huggingface(), g.huggingface());
    let mut gz = flate2::GzBuilder::new()
        .filename("n".repeat(70_000))
        .write(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("HF_TOKEN={a}\n").as_bytes()).unwrap();
    t.write("long-name.log.gz", gz.finish().unwrap());
    t.write(
        "big-dict.log.xz",
        xz_with_dictionary(format!("HF_TOKEN={b}\n").as_bytes(), 32),
    );
    let (r, doc) = scan(&t, &["."], MINUTE);
    assert_witness(&doc);
    let found = locations(&doc, HF);
    assert!(
        found.iter().any(|l| l.starts_with("long-name.log.gz")),
        "{found:?} {}",
        r.stderr
    );
    assert!(
        found.iter().any(|l| l.starts_with("big-dict.log.xz")),
        "{found:?} {}",
        r.stderr
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The window grows with the output: a large dictionary with little output fits a small
    // budget. A stream whose window passes the budget alone stops there, with a warning
    // naming the flag, its findings before the stop kept.
    let (r, doc) = scan(
        &t,
        &["big-dict.log.xz", "--max-decoder-memory", "1MiB"],
        MINUTE,
    );
    assert_eq!(locations(&doc, HF).len(), 1, "{}", r.stderr);
    let mut text = format!("HF_TOKEN={b}\n").into_bytes();
    text.resize(4 << 20, b'.');
    t.write("big-out.log.xz", xz_with_dictionary(&text, 32));
    let (r, doc) = scan(
        &t,
        &[
            "big-out.log.xz",
            "--max-decoder-memory",
            "1MiB",
            "--max-ratio",
            "100000",
        ],
        MINUTE,
    );
    assert!(
        r.stderr.contains(
            "big-out.log.xz › (xz): the decoder's window needs more than --max-decoder-memory 1048576"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(locations(&doc, HF).len(), 1, "{}", r.stderr);
}

/// An xz of `bytes` whose block header asks for the dictionary of LZMA2 code `code` (32:
/// 256 MiB), the block header's CRC32 fixed.
fn xz_with_dictionary(bytes: &[u8], code: u8) -> Vec<u8> {
    let mut xz = make::xz(bytes);
    // Stream header: 12 bytes. Block header: size byte, flags, optional sizes, then the
    // filter flags: id 0x21 (LZMA2), properties size 1, the dictionary code.
    let start = 12;
    let len = (usize::from(xz[start]) + 1) * 4;
    let flags = xz[start + 1];
    assert_eq!(flags & 0x03, 0, "one filter");
    let mut at = start + 2;
    // Compressed and uncompressed sizes, when present, are multibyte integers.
    for bit in [0x40, 0x80] {
        if flags & bit != 0 {
            while xz[at] & 0x80 != 0 {
                at += 1;
            }
            at += 1;
        }
    }
    assert_eq!(&xz[at..at + 2], &[0x21, 0x01], "an LZMA2 filter");
    xz[at + 2] = code;
    let crc_at = start + len - 4;
    let mut crc = flate2::Crc::new();
    crc.update(&xz[start..crc_at]);
    xz[crc_at..crc_at + 4].copy_from_slice(&crc.sum().to_le_bytes());
    xz
}

// ---------------------------------------------------------------------------------------------
// Item 11: parsers that expand their input.

/// `n` bytes of JSON arrays nested in one array: `[[],[],…]`.
fn empty_arrays(n: usize) -> String {
    let mut s = String::with_capacity(n + 2);
    s.push('[');
    while s.len() < n {
        s.push_str("[],");
    }
    s.push_str("[[]]]");
    s
}

/// A notebook whose metadata and a safetensors header whose metadata and tensor shapes are
/// megabytes of `[]` (a `Value` tree is 17 times that) are parsed as streams: the strings
/// beside and after the nesting are scanned, and so is JSON kept in a metadata string.
#[test]
fn notebook_and_safetensors_json_of_empty_arrays_is_streamed() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(1101);
    let (cell, meta, hub, nested) = (
        g.huggingface(),
        g.huggingface(),
        g.huggingface(),
        g.huggingface(),
    );
    let bomb = empty_arrays(8 << 20);
    let nb = format!(
        concat!(
            r#"{{"nbformat": 4, "nbformat_minor": 5, "metadata": {{"x": {bomb}, "#,
            r#""papermill": {{"parameters": {{"hf": "{meta}"}}}}}}, "cells": [{{"cell_type": "code", "#,
            r#""metadata": {{"y": {bomb}}}, "outputs": [{{"output_type": "display_data", "#,
            r#""data": {{"application/json": {bomb}}}}}], "source": ["login(token=\"{cell}\")\n"]}}]}}"#
        ),
        bomb = bomb,
        meta = meta,
        cell = cell
    );
    t.write("bomb.ipynb", nb);
    // The nested JSON escapes its underscore (`\u005f`), as some writers do.
    let inner = serde_json::json!({"token": nested.replacen('_', "\\u005f", 1)}).to_string();
    let header = format!(
        concat!(
            r#"{{"__metadata__": {{"x": {bomb}, "hub_token": "{hub}", "cfg": {cfg}}}, "#,
            r#""w": {{"dtype": "F32", "shape": {bomb}, "data_offsets": [0, 4]}}}}"#
        ),
        bomb = bomb,
        hub = hub,
        cfg = serde_json::to_string(&inner).unwrap()
    );
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(header.as_bytes());
    st.extend_from_slice(&[0; 4]);
    t.write("bomb.safetensors", st);
    let (r, doc) = scan(&t, &["."], 5 * MINUTE);
    assert_witness(&doc);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("scanned as bytes"), "{}", r.stderr);
    let mut found = locations(&doc, HF);
    found.sort();
    assert_eq!(
        found,
        [
            "bomb.ipynb › cells[0].source:1:14",
            // `{ "x": [], "papermill": { "parameters": { "hf": "…`, indented.
            "bomb.ipynb › ipynb:metadata:5:14",
            "bomb.safetensors › safetensors:__metadata__.cfg:1:11",
            "bomb.safetensors › safetensors:__metadata__.hub_token:1:1",
        ],
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Item 12: the decoders of all threads share one memory budget.

/// Four xz streams with a 256 MiB dictionary and 24 MiB of output each, at `-j 4`, under a
/// 64 MiB budget that holds one window at a time (a decoder counts its window as up to twice
/// its output, 52 MiB at the end): the decoders take turns, none is refused, every secret is
/// found.
#[test]
fn xz_decoders_share_one_memory_budget_across_threads() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(1201);
    let tokens: Vec<String> = (0..4).map(|_| g.huggingface()).collect();
    for (i, token) in tokens.iter().enumerate() {
        let mut text = vec![b'.'; 24 << 20];
        let line = format!("\nHF_TOKEN={token}\n");
        let at = text.len() - line.len();
        text[at..].copy_from_slice(line.as_bytes());
        t.write(&format!("big{i}.log.xz"), xz_with_dictionary(&text, 32));
    }
    let (r, doc) = scan(
        &t,
        // (Dots compress a thousandfold: the ratio budget is lifted.)
        &[
            ".",
            "-j",
            "4",
            "--max-decoder-memory",
            "64MiB",
            "--max-ratio",
            "100000",
        ],
        5 * MINUTE,
    );
    assert_witness(&doc);
    assert!(!r.stderr.contains("--max-decoder-memory"), "{}", r.stderr);
    let mut found = locations(&doc, HF);
    found.sort();
    assert_eq!(
        found,
        (0..4)
            .map(|i| format!("big{i}.log.xz › (xz):2:10"))
            .collect::<Vec<_>>(),
        "{}",
        r.stderr
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// A zstd stream of `bytes` written as `zstd --long=<window_log>` writes it: long-distance
/// matching, the window declared in the frame header (no content size: streamed).
fn zstd_long(bytes: &[u8], window_log: u32) -> Vec<u8> {
    let mut e = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    e.long_distance_matching(true).unwrap();
    e.window_log(window_log).unwrap();
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Item 6/12 for zstd: a frame's window (here 256 MiB, more than the reference decoder's
/// default limit of 128 MiB) comes out of the shared `--max-decoder-memory` budget. Four such
/// streams at `-j 4` under a budget that holds two windows are all read (the decoders take
/// turns); under a budget smaller than one window each is refused with a warning naming the
/// flag, and the rest of the scan goes on.
#[test]
fn zstd_windows_come_out_of_the_shared_decoder_memory_budget() {
    let t = TestDir::new();
    witness(&t);
    let mut g = Gen::new(1202);
    let tokens: Vec<String> = (0..4).map(|_| g.huggingface()).collect();
    for (i, token) in tokens.iter().enumerate() {
        let mut text = vec![b'.'; 8 << 20];
        let line = format!("\nHF_TOKEN={token}\n");
        let at = text.len() - line.len();
        text[at..].copy_from_slice(line.as_bytes());
        t.write(&format!("long{i}.log.zst"), zstd_long(&text, 28));
    }
    let (r, doc) = scan(
        &t,
        &[
            ".",
            "-j",
            "4",
            "--max-decoder-memory",
            "600MiB",
            "--max-ratio",
            "100000",
        ],
        5 * MINUTE,
    );
    assert_witness(&doc);
    assert!(!r.stderr.contains("--max-decoder-memory"), "{}", r.stderr);
    let mut found = locations(&doc, HF);
    found.sort();
    assert_eq!(
        found,
        (0..4)
            .map(|i| format!("long{i}.log.zst › (zstd):2:10"))
            .collect::<Vec<_>>(),
        "{}",
        r.stderr
    );
    assert_eq!(r.code, 1, "{}", r.stderr);

    let (r, doc) = scan(
        &t,
        &[
            ".",
            "-j",
            "2",
            "--max-decoder-memory",
            "64MiB",
            "--max-ratio",
            "100000",
        ],
        MINUTE,
    );
    assert_witness(&doc);
    assert!(locations(&doc, HF).is_empty(), "{}", r.stderr);
    for i in 0..4 {
        assert!(
            r.stderr.contains(&format!(
                "long{i}.log.zst: the decoder's window needs more than --max-decoder-memory 67108864"
            )),
            "{}",
            r.stderr
        );
    }
    assert_eq!(r.code, 1, "{}", r.stderr);
}
