//! Object storage as a source: `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`.
//!
//! One [`ObjectSource`] per scan owns a tokio runtime and one store per bucket (Apache Arrow's
//! `object_store`, which signs requests, retries with backoff and speaks the three clouds'
//! APIs). [`ObjectSource::list`] turns a URL into the objects under it, streamed page by page
//! from the listing (a billion-object bucket is never held in memory), with the walk's
//! `--exclude` and `--max-file-size` applied to keys as they are to paths. [`ObjectSource::scan`]
//! hands one object to the [`Expander`], choosing how its bytes flow:
//!
//! - small objects (below [`ObjectOptions::whole_below`], 8 MiB by default) are fetched with
//!   one GET and expanded like a small file read into memory. These GETs start in the listing
//!   task, up to [`PREFETCH_AHEAD`] at once and [`PREFETCH_BYTES`] in all, so that the
//!   workers find bytes waiting instead of each waiting a round trip per object (a bucket's
//!   latency is milliseconds; a disk's page cache, microseconds);
//! - larger ones are sniffed from a first ranged read (64 KiB). Sequential formats (gzip, zstd,
//!   tar) are read with one streaming GET and expanded as a stream; everything else (zip, whose
//!   directory is at the end; safetensors and `.npy`, whose header is all that is scanned;
//!   plain text, scanned in parallel chunks) becomes [`Data::Remote`], read by ranged GETs
//!   ([`remote::RemoteObject`]), so a 10 GB checkpoint costs its header, not its size.
//!
//! Either way the Expander does the rest exactly as for a file on disk: every format ferret
//! reads on disk reads the same in a bucket. Findings are named `s3://bucket/key › inner`.
//!
//! Credentials come from the provider's usual chain, never from flags (flags end up in shell
//! history and `ps`): for S3, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
//! then the `AWS_PROFILE` profile of `~/.aws/credentials` ([`profile`]), then web identity, the
//! container endpoints and instance metadata; for GCS, `GOOGLE_APPLICATION_CREDENTIALS` or
//! `GOOGLE_SERVICE_ACCOUNT`, then application default credentials and the metadata server; for
//! Azure, `AZURE_STORAGE_ACCOUNT_NAME` with `AZURE_STORAGE_ACCOUNT_KEY`, a SAS, a service
//! principal or managed identity. An S3-compatible store (MinIO, SeaweedFS, Ceph, R2) is reached
//! with `AWS_ENDPOINT_URL` or `--s3-endpoint`; plain `http://` is allowed for loopback
//! endpoints, elsewhere only with `AWS_ALLOW_HTTP=true`.
//!
//! Deadlines come from [`NetLimits`] (`--connect-timeout`, `--read-timeout`: how long a
//! connection may take to open, and stay silent), and a failed request is retried at most
//! [`MAX_RETRIES`] times, none later than the read timeout after the first attempt. Every wait on
//! the network (a listing page, a ranged read, a streaming body) also ends as soon as the
//! scan's stop flag is set (SIGINT, SIGTERM): the request is dropped, not waited out.

pub mod profile;
pub mod remote;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use globset::GlobSet;
use object_store::path::Path;
use object_store::{ClientConfigKey, ObjectMeta, ObjectStore, ObjectStoreExt};
use tokio::runtime::Runtime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::blob::{Data, Origin};
use crate::error::{Error, Result};
use crate::expand::{Expander, Format, sniff};
use crate::source::net::NetLimits;
use crate::source::walk::{self, WalkOptions};
use remote::{MIN_READAHEAD, ObjectRef, RemoteObject};

/// Small objects fetched ahead of the workers, at most this many at once. 16.
pub const PREFETCH_AHEAD: usize = 16;
/// Bytes of small objects fetched ahead and not yet scanned, at most. 64 MiB.
pub const PREFETCH_BYTES: u64 = 64 << 20;

/// Whether a listed object's bytes are wanted ahead of its turn: false for objects another
/// shard owns or that the state file says did not change, which are never downloaded.
pub type Wanted = Arc<dyn Fn(&ObjectItem) -> bool + Send + Sync>;

/// Which cloud a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Amazon S3 and S3-compatible stores (`s3://`, `s3a://`).
    S3,
    /// Google Cloud Storage (`gs://`).
    Gcs,
    /// Azure Blob Storage (`az://`, `azure://`; the account from `AZURE_STORAGE_ACCOUNT_NAME`).
    Azure,
}

impl Provider {
    fn scheme(self) -> &'static str {
        match self {
            Provider::S3 => "s3",
            Provider::Gcs => "gs",
            Provider::Azure => "az",
        }
    }
}

/// A parsed `scheme://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    /// The cloud.
    pub provider: Provider,
    /// The bucket (or Azure container).
    pub bucket: String,
    /// The key prefix, without a leading `/` (may be empty, may end with `/`).
    pub prefix: String,
}

impl ObjectUrl {
    /// Whether `s` is written like an object URL (`s3://`, `gs://`, `az://`…).
    pub fn is_object_url(s: &str) -> bool {
        s.split_once("://")
            .is_some_and(|(scheme, _)| provider(scheme).is_some())
    }

    /// Parses `s3://bucket/prefix` and friends.
    pub fn parse(s: &str) -> std::result::Result<ObjectUrl, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("{s:?} is not an object URL (s3://bucket/prefix)"))?;
        let provider = provider(scheme).ok_or_else(|| {
            format!("unknown object store scheme {scheme:?} (expected s3, gs or az)")
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{s:?} names no bucket"));
        }
        Ok(ObjectUrl {
            provider,
            bucket: bucket.to_string(),
            prefix: prefix.trim_start_matches('/').to_string(),
        })
    }

    /// The URL of the object `key` in this bucket.
    pub fn object(&self, key: &str) -> String {
        format!("{}://{}/{key}", self.provider.scheme(), self.bucket)
    }
}

impl std::fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.object(&self.prefix))
    }
}

fn provider(scheme: &str) -> Option<Provider> {
    match scheme.to_ascii_lowercase().as_str() {
        "s3" | "s3a" => Some(Provider::S3),
        "gs" | "gcs" => Some(Provider::Gcs),
        "az" | "azure" | "abfs" | "abfss" => Some(Provider::Azure),
        _ => None,
    }
}

/// How objects are reached and read.
#[derive(Debug, Clone)]
pub struct ObjectOptions {
    /// An S3-compatible endpoint (`http://127.0.0.1:9000`), overriding `AWS_ENDPOINT_URL`.
    /// Default: none (AWS itself, or the environment's endpoint).
    pub s3_endpoint: Option<String>,
    /// Objects smaller than this are fetched with one GET; larger ones by ranges or as a
    /// stream. Default 8 MiB.
    pub whole_below: u64,
    /// Requests in flight per bucket, at most. Default 64.
    pub max_requests: usize,
}

impl Default for ObjectOptions {
    fn default() -> ObjectOptions {
        ObjectOptions {
            s3_endpoint: None,
            whole_below: 8 << 20,
            max_requests: 64,
        }
    }
}

/// One object to scan.
#[derive(Debug)]
pub struct ObjectItem {
    /// The object's URL (`s3://bucket/key`), as findings name it.
    pub url: String,
    /// The key relative to the URL's prefix (what `--exclude` and `--shard` look at).
    pub relative: String,
    /// What the listing said (size, ETag, last modified).
    pub meta: ObjectMeta,
    store: Arc<dyn ObjectStore>,
    /// The whole object, when it is small and was fetched ahead (with its share of
    /// [`PREFETCH_BYTES`], given back when the item is dropped).
    prefetched: Option<(std::io::Result<bytes::Bytes>, OwnedSemaphorePermit)>,
}

impl ObjectItem {
    /// What identifies this version of the object: ETag, size and modification time.
    pub fn version(&self) -> String {
        format!(
            "etag={};size={};mtime={}",
            self.meta.e_tag.as_deref().unwrap_or("-"),
            self.meta.size,
            self.meta
                .last_modified
                .timestamp_nanos_opt()
                .unwrap_or_else(|| self.meta.last_modified.timestamp())
        )
    }
}

/// What listing a URL yields.
#[derive(Debug)]
pub enum Listed {
    /// An object to scan.
    Object(ObjectItem),
    /// An object not scanned on purpose (over `--max-file-size`).
    Skipped {
        /// The object's URL.
        url: String,
        /// The key relative to the prefix.
        relative: String,
        /// Why.
        reason: String,
    },
    /// A listing or connection failure.
    Error {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// Object stores for one scan: a runtime, a store per bucket, counters.
#[derive(Debug)]
pub struct ObjectSource {
    runtime: Runtime,
    opts: ObjectOptions,
    limits: NetLimits,
    /// The scan's stop flag: set, every network wait ends.
    stop: Arc<AtomicBool>,
    stores: Mutex<HashMap<(Provider, String), Arc<dyn ObjectStore>>>,
    fetched: Arc<AtomicU64>,
}

impl ObjectSource {
    /// A source with its own runtime (two I/O threads: requests are waits, not work), the
    /// deadlines of `limits`, whose network waits end when `stop` is set.
    pub fn new(
        opts: ObjectOptions,
        limits: NetLimits,
        stop: Arc<AtomicBool>,
    ) -> Result<ObjectSource> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ferret-io")
            .enable_all()
            .build()
            .map_err(|e| Error::Threads(e.to_string()))?;
        Ok(ObjectSource {
            runtime,
            opts,
            limits,
            stop,
            stores: Mutex::new(HashMap::new()),
            fetched: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Bytes downloaded so far.
    pub fn fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    /// The store for a URL's bucket, built on first use.
    pub fn store(&self, url: &ObjectUrl) -> Result<Arc<dyn ObjectStore>> {
        let key = (url.provider, url.bucket.clone());
        let mut stores = self.stores.lock().map_err(|_| Error::Object {
            url: url.to_string(),
            message: "store cache poisoned".into(),
        })?;
        if let Some(s) = stores.get(&key) {
            return Ok(Arc::clone(s));
        }
        let store = build_store(url, &self.opts, &self.limits).map_err(|e| Error::Object {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        stores.insert(key, Arc::clone(&store));
        Ok(store)
    }

    /// The objects under `url`, as the listing streams them. A URL that names one object
    /// (`s3://b/model.safetensors`) yields that object; otherwise the prefix is listed as a
    /// folder. Excluded keys are left out, large ones skipped, as in a walk. Small objects
    /// that are `wanted` are fetched ahead.
    pub fn list(
        &self,
        url: &str,
        walk_opts: &WalkOptions,
        wanted: Wanted,
    ) -> Result<Box<dyn Iterator<Item = Listed> + Send>> {
        let parsed = ObjectUrl::parse(url).map_err(|message| Error::Object {
            url: url.to_string(),
            message,
        })?;
        let excludes = walk::build_globs(&walk_opts.excludes)?;
        let max = walk_opts.max_file_size;
        let store = match self.store(&parsed) {
            Ok(s) => s,
            Err(e) => {
                return Ok(Box::new(std::iter::once(Listed::Error {
                    url: url.to_string(),
                    message: e.to_string(),
                })));
            }
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Listed>(1024);
        let task_store = Arc::clone(&store);
        let u = parsed.clone();
        let prefetch = Prefetch {
            budget: Arc::new(Semaphore::new((PREFETCH_BYTES >> 10) as usize)),
            below: self.opts.whole_below,
            fetched: Arc::clone(&self.fetched),
            wanted,
        };
        let stop = Arc::clone(&self.stop);
        let listing = async move {
            // A URL that names one object: that object, like a file named on the command line.
            if !u.prefix.is_empty() && !u.prefix.ends_with('/') {
                match task_store.head(&Path::from(u.prefix.as_str())).await {
                    Ok(meta) => {
                        let name = u.prefix.rsplit('/').next().unwrap_or("").to_string();
                        let _ = tx
                            .send(listed(&u, &task_store, meta, name, None, max))
                            .await;
                        return;
                    }
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => {
                        let _ = tx
                            .send(Listed::Error {
                                url: u.to_string(),
                                message: remote::describe(&e),
                            })
                            .await;
                        return;
                    }
                }
            }
            let prefix = u.prefix.trim_end_matches('/');
            let prefix_path = (!prefix.is_empty()).then(|| Path::from(prefix));
            let stream = task_store
                .list(prefix_path.as_ref())
                .map(|item| match item {
                    Ok(meta) => {
                        let key = meta.location.as_ref();
                        let rel = key
                            .strip_prefix(prefix)
                            .unwrap_or(key)
                            .trim_start_matches('/')
                            .to_string();
                        listed(&u, &task_store, meta, rel, Some(&excludes), max)
                    }
                    Err(e) => Listed::Error {
                        url: u.to_string(),
                        message: format!("listing failed: {}", remote::describe(&e)),
                    },
                })
                // Excluded keys are dropped silently, as excluded paths are.
                .filter(|l| {
                    let excluded = matches!(l, Listed::Skipped { reason, .. } if reason.is_empty());
                    std::future::ready(!excluded)
                })
                // Budget first, in listing order (so the head of the line always holds its
                // share), then the GETs run concurrently and come out in order.
                .then(|l| prefetch.reserve(l))
                .map(|(l, permit)| prefetch.fetch(l, permit))
                .buffered(PREFETCH_AHEAD);
            futures_util::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                let stop = matches!(event, Listed::Error { .. });
                if tx.send(event).await.is_err() || stop {
                    return;
                }
            }
        };
        // A stopped scan drops the listing (and its prefetches): the iterator ends.
        self.runtime.spawn(async move {
            remote::unless_stopped(&stop, listing).await;
        });
        Ok(Box::new(std::iter::from_fn(move || rx.blocking_recv())))
    }

    /// Reads one object and hands it to the expander.
    pub fn scan(&self, expander: &Expander<'_>, item: &ObjectItem) {
        let origin = Origin::object(item.url.clone());
        let object = ObjectRef {
            store: Arc::clone(&item.store),
            path: item.meta.location.clone(),
            e_tag: item.meta.e_tag.clone(),
            handle: self.runtime.handle().clone(),
            fetched: Arc::clone(&self.fetched),
            stop: Arc::clone(&self.stop),
        };
        let size = item.meta.size;
        if size == 0 {
            return;
        }
        let first = if size < self.opts.whole_below {
            size
        } else {
            MIN_READAHEAD
        };
        let head = match &item.prefetched {
            Some((Ok(bytes), _)) => Ok(bytes.clone()),
            Some((Err(e), _)) => Err(std::io::Error::new(e.kind(), e.to_string())),
            None => object.get_range(0..first.min(size)),
        };
        let head = match head {
            Ok(h) => h,
            Err(e) => return expander.sink.error(&origin, e.to_string()),
        };
        if size < self.opts.whole_below {
            return expander.input(Arc::new(Data::Owned(head.to_vec())), origin);
        }
        match sniff(&head, &item.url) {
            Format::Gzip | Format::Zstd | Format::Tar => {
                let rest = object.stream_from(head.len() as u64, size);
                let mut reader = std::io::Read::chain(std::io::Cursor::new(head), rest);
                expander.input_stream(&mut reader, origin);
            }
            _ => {
                let remote = RemoteObject::new(object, size, head);
                expander.input(Arc::new(Data::Remote(Box::new(remote))), origin);
            }
        }
    }
}

/// An object from a listing, filtered like a walked file. A `Skipped` with an empty reason is
/// an excluded key (not reported, as an excluded path is not).
fn listed(
    url: &ObjectUrl,
    store: &Arc<dyn ObjectStore>,
    meta: ObjectMeta,
    relative: String,
    excludes: Option<&GlobSet>,
    max: Option<u64>,
) -> Listed {
    let object_url = url.object(meta.location.as_ref());
    if let Some(ex) = excludes {
        // As in a walk: every folder on the way and the key itself are matched by their path
        // relative to the prefix and by their own name.
        let mut excluded = false;
        let mut start = 0;
        for (i, _) in relative
            .match_indices('/')
            .chain(std::iter::once((relative.len(), "")))
        {
            if ex.is_match(&relative[..i]) || ex.is_match(&relative[start..i]) {
                excluded = true;
                break;
            }
            start = i + 1;
        }
        if excluded {
            return Listed::Skipped {
                url: object_url,
                relative,
                reason: String::new(),
            };
        }
    }
    if let Some(max) = max
        && meta.size > max
    {
        return Listed::Skipped {
            url: object_url,
            relative,
            reason: format!(
                "{} bytes is over the --max-file-size limit of {max} bytes",
                meta.size
            ),
        };
    }
    Listed::Object(ObjectItem {
        url: object_url,
        relative,
        meta,
        store: Arc::clone(store),
        prefetched: None,
    })
}

/// Fetching small objects ahead of the workers, within a byte budget.
struct Prefetch {
    budget: Arc<Semaphore>,
    below: u64,
    fetched: Arc<AtomicU64>,
    wanted: Wanted,
}

impl Prefetch {
    fn wanted(&self, l: &Listed) -> Option<u32> {
        match l {
            Listed::Object(item)
                if item.meta.size > 0 && item.meta.size < self.below && (self.wanted)(item) =>
            {
                // Permits are KiB; an object never needs more than the whole budget.
                let kib = item.meta.size.div_ceil(1024).min(PREFETCH_BYTES >> 10);
                u32::try_from(kib).ok()
            }
            _ => None,
        }
    }

    /// Waits for the object's share of the budget (nothing for large objects and warnings).
    fn reserve(
        &self,
        l: Listed,
    ) -> impl std::future::Future<Output = (Listed, Option<OwnedSemaphorePermit>)> + use<> {
        let wanted = self.wanted(&l);
        let budget = Arc::clone(&self.budget);
        async move {
            let permit = match wanted {
                Some(n) => budget.acquire_many_owned(n).await.ok(),
                None => None,
            };
            (l, permit)
        }
    }

    /// Fetches a small object whole; anything else passes through.
    fn fetch(
        &self,
        l: Listed,
        permit: Option<OwnedSemaphorePermit>,
    ) -> impl std::future::Future<Output = Listed> + use<> {
        let fetched = Arc::clone(&self.fetched);
        async move {
            let (mut item, permit) = match (l, permit) {
                (Listed::Object(item), Some(permit)) => (item, permit),
                (l, _) => return l,
            };
            let opts = object_store::GetOptions {
                if_match: item.meta.e_tag.clone(),
                ..object_store::GetOptions::default()
            };
            let got = match item.store.get_opts(&item.meta.location, opts).await {
                Ok(r) => r.bytes().await,
                Err(e) => Err(e),
            };
            if let Ok(b) = &got {
                fetched.fetch_add(b.len() as u64, Ordering::Relaxed);
            }
            item.prefetched = Some((got.map_err(remote::to_io), permit));
            Listed::Object(item)
        }
    }
}

/// Retries of a failed request, at most (object_store's default is 10 within 3 minutes).
pub const MAX_RETRIES: usize = 3;

/// Timeouts for every store: connecting within the connect timeout; a streaming GET of a large
/// object may take long (12 hours) but must keep moving (the read timeout, between reads).
fn client_settings(limits: &NetLimits) -> [(ClientConfigKey, String); 3] {
    let ms = |d: std::time::Duration| format!("{}ms", d.as_millis().max(1));
    [
        (ClientConfigKey::ConnectTimeout, ms(limits.connect_timeout)),
        (ClientConfigKey::Timeout, "12h".to_string()),
        (ClientConfigKey::ReadTimeout, ms(limits.read_timeout)),
    ]
}

/// Bounded retries: [`MAX_RETRIES`], none started later than the read timeout after the first
/// attempt (so a silent server costs one read timeout, a failing one a few quick retries).
fn retry_config(limits: &NetLimits) -> object_store::RetryConfig {
    object_store::RetryConfig {
        max_retries: MAX_RETRIES,
        retry_timeout: limits.read_timeout,
        ..object_store::RetryConfig::default()
    }
}

fn is_loopback(endpoint: &str) -> bool {
    let rest = endpoint
        .strip_prefix("http://")
        .unwrap_or_default()
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    let host = rest.rsplit_once(':').map_or(rest, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            rest
        }
    });
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn build_store(
    url: &ObjectUrl,
    opts: &ObjectOptions,
    limits: &NetLimits,
) -> std::result::Result<Arc<dyn ObjectStore>, object_store::Error> {
    use object_store::limit::LimitStore;
    let store: Arc<dyn ObjectStore> = match url.provider {
        Provider::S3 => {
            use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
            let mut b = AmazonS3Builder::from_env().with_bucket_name(&url.bucket);
            for (k, v) in client_settings(limits) {
                b = b.with_config(AmazonS3ConfigKey::Client(k), v);
            }
            b = b.with_retry(retry_config(limits));
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                let p = profile::from_env();
                if let (Some(id), Some(secret)) = (p.access_key_id, p.secret_access_key) {
                    b = b.with_access_key_id(id).with_secret_access_key(secret);
                    if let Some(token) = p.session_token {
                        b = b.with_token(token);
                    }
                }
                if let Some(region) = p.region
                    && std::env::var_os("AWS_REGION").is_none()
                    && std::env::var_os("AWS_DEFAULT_REGION").is_none()
                {
                    b = b.with_region(region);
                }
            }
            let endpoint = opts
                .s3_endpoint
                .clone()
                .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
                .or_else(|| std::env::var("AWS_ENDPOINT").ok());
            if let Some(ep) = endpoint {
                if is_loopback(&ep) {
                    b = b.with_allow_http(true);
                }
                b = b.with_endpoint(ep);
            }
            Arc::new(LimitStore::new(b.build()?, opts.max_requests))
        }
        Provider::Gcs => {
            use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
            let mut b = GoogleCloudStorageBuilder::from_env().with_bucket_name(&url.bucket);
            for (k, v) in client_settings(limits) {
                b = b.with_config(GoogleConfigKey::Client(k), v);
            }
            b = b.with_retry(retry_config(limits));
            Arc::new(LimitStore::new(b.build()?, opts.max_requests))
        }
        Provider::Azure => {
            use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
            let mut b = MicrosoftAzureBuilder::from_env().with_container_name(&url.bucket);
            for (k, v) in client_settings(limits) {
                b = b.with_config(AzureConfigKey::Client(k), v);
            }
            b = b.with_retry(retry_config(limits));
            Arc::new(LimitStore::new(b.build()?, opts.max_requests))
        }
    };
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_object_urls() {
        let u = ObjectUrl::parse("s3://artifacts/nightly/run-7/").unwrap();
        assert_eq!(u.provider, Provider::S3);
        assert_eq!(u.bucket, "artifacts");
        assert_eq!(u.prefix, "nightly/run-7/");
        assert_eq!(u.object("a/b.tar"), "s3://artifacts/a/b.tar");
        assert_eq!(
            ObjectUrl::parse("gs://b").unwrap(),
            ObjectUrl {
                provider: Provider::Gcs,
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            ObjectUrl::parse("azure://c/x").unwrap().provider,
            Provider::Azure
        );
        assert!(ObjectUrl::parse("s3:///key").is_err());
        assert!(ObjectUrl::parse("ftp://x/y").is_err());
        assert!(ObjectUrl::is_object_url("s3://b/k"));
        assert!(ObjectUrl::is_object_url("AZ://c"));
        assert!(!ObjectUrl::is_object_url("./s3:/b"));
        assert!(!ObjectUrl::is_object_url("notes.txt"));
    }

    #[test]
    fn only_loopback_endpoints_get_plain_http() {
        assert!(is_loopback("http://127.0.0.1:8333"));
        assert!(is_loopback("http://localhost:9000/"));
        assert!(is_loopback("http://[::1]:9000"));
        assert!(!is_loopback("http://10.0.0.5:9000"));
        assert!(!is_loopback("http://127.0.0.1.evil.example:80"));
        assert!(!is_loopback("https://127.0.0.1:8333"));
    }

    #[test]
    fn stores_build_without_network() {
        // Building a store contacts nothing; each provider is compiled in.
        let src = ObjectSource::new(
            ObjectOptions {
                s3_endpoint: Some("http://127.0.0.1:1".into()),
                ..ObjectOptions::default()
            },
            NetLimits::default(),
            Arc::default(),
        )
        .unwrap();
        for url in ["s3://bucket/p", "gs://bucket/p"] {
            let u = ObjectUrl::parse(url).unwrap();
            src.store(&u).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
    }
}
