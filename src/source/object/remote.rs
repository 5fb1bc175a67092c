//! Reading one object: ranged GETs behind [`Data::Remote`](crate::blob::Data::Remote), or one
//! streaming GET behind a [`Read`].
//!
//! The scan's workers are plain threads (rayon); `object_store` is async. The two meet here:
//! a ranged read blocks its worker on the scan's tokio runtime ([`Handle::block_on`]), and a
//! streaming GET runs as a task on the runtime that pushes the body's pieces into a bounded
//! channel, which the worker drains through [`ObjectReader`]. Memory per object is bounded by
//! the range cache ([`CACHE_BYTES`]) or the channel ([`STREAM_QUEUE`] pieces).
//!
//! Every wait on the network ends as soon as the scan's stop flag is set
//! ([`unless_stopped`]): a ranged read returns an error, a streaming body ends with one.
//!
//! Every request carries `If-Match` with the ETag seen in the listing, so an object replaced in
//! the middle of a scan fails loudly (and is rescanned next time) instead of mixing two
//! versions' bytes.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore};
use tokio::runtime::Handle;

use crate::blob::RangeSource;

/// Read-ahead of the first ranged read of an object, and after a jump. Default 64 KiB: enough
/// for a sniff, a zip's end records, a small safetensors header.
pub const MIN_READAHEAD: u64 = 64 << 10;
/// Read-ahead grows (doubling) while reads are sequential, up to this. 8 MiB.
pub const MAX_READAHEAD: u64 = 8 << 20;
/// Fetched ranges kept per object, at most (oldest dropped first). 16 MiB: two default chunks,
/// so that the engine's second pass over a chunk with findings (counting lines up to them)
/// does not download the chunk again.
pub const CACHE_BYTES: u64 = 16 << 20;
/// Reads at least this large are fetched exactly, without read-ahead (the engine's chunks).
/// 1 MiB.
const DIRECT_READ: u64 = 1 << 20;
/// Body pieces buffered between a streaming GET and its reader (each at most a few tens of KiB).
pub const STREAM_QUEUE: usize = 64;

/// What a remote read needs: where the object is and how to reach it.
#[derive(Debug, Clone)]
pub struct ObjectRef {
    /// The store (one per bucket).
    pub store: Arc<dyn ObjectStore>,
    /// The key.
    pub path: Path,
    /// The ETag seen in the listing (sent as `If-Match`), if the store gave one.
    pub e_tag: Option<String>,
    /// The runtime that drives requests.
    pub handle: Handle,
    /// Bytes fetched, for the summary.
    pub fetched: Arc<AtomicU64>,
    /// The scan's stop flag: set, requests in flight are dropped.
    pub stop: Arc<AtomicBool>,
}

/// How often a wait on the network looks at the stop flag.
const STOP_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Runs `work` unless the stop flag is set first (then `None`, and `work` is dropped: its
/// request is abandoned). A stopped scan starts no work.
pub async fn unless_stopped<T>(
    stop: &Arc<AtomicBool>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    if stop.load(Ordering::Relaxed) {
        return None;
    }
    let flag = Arc::clone(stop);
    let stopped = async move {
        while !flag.load(Ordering::Relaxed) {
            tokio::time::sleep(STOP_POLL).await;
        }
    };
    let work = std::pin::pin!(work);
    let stopped = std::pin::pin!(stopped);
    match futures_util::future::select(work, stopped).await {
        futures_util::future::Either::Left((v, _)) => Some(v),
        futures_util::future::Either::Right(_) => None,
    }
}

/// The error of a request dropped because the scan stopped.
fn stopped() -> io::Error {
    io::Error::other("the scan was stopped (signal): the download was abandoned")
}

impl ObjectRef {
    fn options(&self, range: Option<GetRange>) -> GetOptions {
        GetOptions {
            if_match: self.e_tag.clone(),
            range,
            ..GetOptions::default()
        }
    }

    /// Fetches `range` with one GET.
    pub fn get_range(&self, range: Range<u64>) -> io::Result<Bytes> {
        let opts = self.options(Some(GetRange::Bounded(range)));
        let bytes = self
            .handle
            .block_on(unless_stopped(&self.stop, async {
                let r = self.store.get_opts(&self.path, opts).await?;
                r.bytes().await
            }))
            .ok_or_else(stopped)?
            .map_err(to_io)?;
        self.fetched
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }

    /// Starts a streaming GET of the object from `offset` to its end.
    pub fn stream_from(&self, offset: u64, len: u64) -> ObjectReader {
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(STREAM_QUEUE);
        let store = Arc::clone(&self.store);
        let path = self.path.clone();
        let opts = self.options((offset > 0).then_some(GetRange::Offset(offset)));
        let stop = Arc::clone(&self.stop);
        self.handle.spawn(async move {
            let mut body = match unless_stopped(&stop, store.get_opts(&path, opts)).await {
                Some(Ok(r)) => r.into_stream(),
                Some(Err(e)) => {
                    let _ = tx.send(Err(to_io(e))).await;
                    return;
                }
                None => {
                    let _ = tx.send(Err(stopped())).await;
                    return;
                }
            };
            loop {
                let piece = match unless_stopped(&stop, body.next()).await {
                    Some(Some(piece)) => piece.map_err(to_io),
                    Some(None) => return,
                    None => Err(stopped()),
                };
                let last = piece.is_err();
                // The reader went away (the scan stopped, a budget was hit): stop downloading.
                if tx.send(piece).await.is_err() || last {
                    return;
                }
            }
        });
        ObjectReader {
            rx,
            piece: Bytes::new(),
            expected: len.saturating_sub(offset),
            received: 0,
            fetched: Arc::clone(&self.fetched),
            done: false,
            over: false,
        }
    }
}

/// An `object_store` error as an I/O error, with a message that names what went wrong.
pub fn to_io(e: object_store::Error) -> io::Error {
    let kind = match &e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        object_store::Error::Precondition { .. } => {
            return io::Error::other(
                "the object changed while it was being scanned (ETag mismatch); it will be rescanned next time",
            );
        }
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, describe(&e))
}

/// An `object_store` error's message with its innermost cause (`… error sending request:
/// operation timed out`), which its own message leaves out.
pub fn describe(e: &object_store::Error) -> String {
    let mut message = e.to_string();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(c) = cause {
        last = Some(c.to_string());
        cause = c.source();
    }
    if let Some(last) = last
        && !message.contains(&last)
    {
        message.push_str(": ");
        message.push_str(&last);
    }
    message
}

/// The body of a streaming GET, as a `Read`.
#[derive(Debug)]
pub struct ObjectReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    piece: Bytes,
    expected: u64,
    received: u64,
    fetched: Arc<AtomicU64>,
    done: bool,
    /// The body ran past the listed size: an error once the bytes before it are read.
    over: bool,
}

impl Read for ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.piece.is_empty() {
            if self.over {
                self.over = false;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the download runs past the {} bytes the listing gave: stopped there \
                         (the bytes before were scanned)",
                        self.expected
                    ),
                ));
            }
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(mut piece)) => {
                    self.fetched
                        .fetch_add(piece.len() as u64, Ordering::Relaxed);
                    let left = self.expected.saturating_sub(self.received);
                    if piece.len() as u64 > left {
                        piece.truncate(usize::try_from(left).unwrap_or(usize::MAX));
                        self.over = true;
                        self.done = true;
                        // Dropping the receiver stops the download.
                        self.rx.close();
                    }
                    self.received += piece.len() as u64;
                    self.piece = piece;
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                None => {
                    self.done = true;
                    if self.received < self.expected {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!(
                                "the download ended after {} of {} bytes",
                                self.received, self.expected
                            ),
                        ));
                    }
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.piece.len());
        out[..n].copy_from_slice(&self.piece[..n]);
        let _ = self.piece.split_to(n);
        Ok(n)
    }
}

/// An object read by ranged GETs, with a small cache and an adaptive read-ahead.
#[derive(Debug)]
pub struct RemoteObject {
    object: ObjectRef,
    len: u64,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    /// Fetched ranges, oldest first.
    segments: VecDeque<(u64, Bytes)>,
    bytes: u64,
    /// Where the last read ended, to tell sequential reads from jumps.
    last_end: u64,
    readahead: u64,
}

impl Cache {
    /// The cached bytes from `start`, if a segment holds `start`.
    fn from(&self, start: u64) -> Option<Bytes> {
        self.segments.iter().rev().find_map(|(s, b)| {
            let end = s + b.len() as u64;
            (start >= *s && start < end).then(|| b.slice((start - s) as usize..))
        })
    }

    fn insert(&mut self, start: u64, bytes: Bytes) {
        self.bytes += bytes.len() as u64;
        self.segments.push_back((start, bytes));
        while self.bytes > CACHE_BYTES {
            match self.segments.pop_front() {
                Some((_, b)) => self.bytes -= b.len() as u64,
                None => break,
            }
        }
    }
}

impl RemoteObject {
    /// An object of `len` bytes whose first bytes (`head`) were already fetched.
    pub fn new(object: ObjectRef, len: u64, head: Bytes) -> RemoteObject {
        let mut cache = Cache {
            last_end: head.len() as u64,
            readahead: MIN_READAHEAD,
            ..Cache::default()
        };
        if !head.is_empty() {
            cache.insert(0, head);
        }
        RemoteObject {
            object,
            len,
            cache: Mutex::new(cache),
        }
    }
}

impl RangeSource for RemoteObject {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        let (start, end) = (range.start, range.end.min(self.len));
        if start >= end {
            return Ok(());
        }
        // What the cache has, and how far to fetch past the request.
        let (mut pos, readahead) = {
            let mut cache = self.cache.lock().map_err(|_| poisoned())?;
            if let Some(b) = cache.from(start) {
                let n = (b.len() as u64).min(end - start) as usize;
                buf.extend_from_slice(&b[..n]);
            }
            let sequential = start == cache.last_end;
            cache.readahead = if sequential {
                (cache.readahead * 2).min(MAX_READAHEAD)
            } else {
                MIN_READAHEAD
            };
            cache.last_end = end;
            (start + buf.len() as u64, cache.readahead)
        };
        while pos < end {
            // Large reads (engine chunks) are fetched exactly; small ones with read-ahead.
            let fetch_end = if end - pos >= DIRECT_READ {
                end
            } else {
                end.max(pos + readahead).min(self.len)
            };
            let bytes = self.object.get_range(pos..fetch_end)?;
            if bytes.is_empty() {
                // The object is shorter than listed: give what there is.
                break;
            }
            let n = (bytes.len() as u64).min(end - pos) as usize;
            buf.extend_from_slice(&bytes[..n]);
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(pos, bytes.clone());
            }
            pos += n as u64;
        }
        Ok(())
    }
}

fn poisoned() -> io::Error {
    io::Error::other("a reader of this object panicked")
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::{ObjectStoreExt, PutPayload};

    fn object(len: usize) -> (tokio::runtime::Runtime, ObjectRef, Vec<u8>) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let store = Arc::new(InMemory::new());
        let path = Path::from("a/b.bin");
        let put = rt
            .block_on(store.put(&path, PutPayload::from(bytes.clone())))
            .unwrap();
        let r = ObjectRef {
            store,
            path,
            e_tag: put.e_tag,
            handle: rt.handle().clone(),
            fetched: Arc::new(AtomicU64::new(0)),
            stop: Arc::default(),
        };
        (rt, r, bytes)
    }

    #[test]
    fn ranged_reads_return_the_right_bytes_and_fetch_little() {
        let len = 20 << 20;
        let (_rt, r, bytes) = object(len);
        let head = r.get_range(0..MIN_READAHEAD).unwrap();
        let remote = Arc::new(RemoteObject::new(r.clone(), len as u64, head));
        let mut buf = Vec::new();
        // A header past the first read: the cached part plus what is missing.
        remote.read_range(10..100_000, &mut buf).unwrap();
        assert_eq!(buf, bytes[10..100_000]);
        assert!(r.fetched.load(Ordering::Relaxed) < 300_000);
        // Reads past the end are clamped; the end of the object is there.
        remote
            .read_range(len as u64 - 5..len as u64 + 10, &mut buf)
            .unwrap();
        assert_eq!(buf, bytes[len - 5..]);
        // Chunks read from several threads at once, small and large.
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (remote, bytes) = (&remote, &bytes);
                s.spawn(move || {
                    let mut buf = Vec::new();
                    let mut pos = t * 997;
                    while pos < len as u64 {
                        let step = if t % 2 == 0 { 4096 } else { 3 << 20 };
                        let end = (pos + step).min(len as u64);
                        remote.read_range(pos..end, &mut buf).unwrap();
                        assert_eq!(buf, bytes[pos as usize..end as usize], "{pos}..{end}");
                        pos = end + 12_345;
                    }
                });
            }
        });
    }

    #[test]
    fn a_sequential_reader_fetches_each_byte_about_once() {
        let len = 12 << 20;
        let (_rt, r, bytes) = object(len);
        let remote = RemoteObject::new(r.clone(), len as u64, Bytes::new());
        let mut all = Vec::new();
        let mut buf = Vec::new();
        for start in (0..len as u64).step_by(8192) {
            remote.read_range(start..start + 8192, &mut buf).unwrap();
            all.extend_from_slice(&buf);
        }
        assert_eq!(all, bytes);
        let fetched = r.fetched.load(Ordering::Relaxed);
        assert!(fetched <= len as u64 + MAX_READAHEAD, "{fetched}");
    }

    #[test]
    fn a_replaced_object_is_an_error_not_a_mix() {
        let (_rt, mut r, _) = object(1000);
        r.e_tag = Some("\"another-version\"".into());
        let err = r.get_range(0..10).unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
        let mut reader = r.stream_from(0, 1000);
        let err = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
    }

    #[test]
    fn a_body_longer_than_listed_stops_at_the_listed_size() {
        let (_rt, r, bytes) = object(300_000);
        let mut reader = r.stream_from(0, 100_000);
        let mut out = Vec::new();
        let err = reader.read_to_end(&mut out).unwrap_err();
        assert_eq!(out, bytes[..100_000], "the listed bytes are handed on");
        assert!(
            err.to_string().contains("runs past the 100000 bytes"),
            "{err}"
        );
        assert_eq!(
            reader.read(&mut [0u8; 8]).unwrap(),
            0,
            "then it reads as ended"
        );
    }

    #[test]
    fn a_stopped_scan_abandons_its_downloads() {
        let (_rt, r, _) = object(1000);
        r.stop.store(true, Ordering::Relaxed);
        let err = r.get_range(0..10).unwrap_err();
        assert!(err.to_string().contains("stopped"), "{err}");
        let mut out = Vec::new();
        let err = r.stream_from(0, 1000).read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("stopped"), "{err}");
    }

    #[test]
    fn a_streaming_get_reads_the_whole_object_from_an_offset() {
        let (_rt, r, bytes) = object(3 << 20);
        let mut out = Vec::new();
        r.stream_from(1000, bytes.len() as u64)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, bytes[1000..]);
    }
}
