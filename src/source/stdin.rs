//! Standard input as a source: a reader that gives up when the scan stops.
//!
//! A live stdin (`kubectl logs -f pod | ferret scan -`) may not send another byte for hours.
//! When the scan has to stop meanwhile (its report's reader went away, or SIGINT), a worker
//! blocked in `read` would hold the whole run until the next line arrived. [`Stdin`] waits for
//! input with `poll` in short slices instead and ends the stream (returns 0) once the stop
//! flag is set, so the driver can finish at once. It reads the file descriptor directly, with
//! no buffer of its own, so a `poll` on stdin sees every byte not yet read.

use std::io::{self, Read};
use std::os::fd::AsFd as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// How long one wait for input lasts before the stop flag is looked at again (ms).
const SLICE_MS: i64 = 100;

/// Standard input, ended early when `stop` is set.
pub struct Stdin<'a> {
    stop: &'a AtomicBool,
}

impl<'a> Stdin<'a> {
    /// Standard input that ends when `stop` is set.
    pub fn new(stop: &'a AtomicBool) -> Stdin<'a> {
        Stdin { stop }
    }
}

impl Read for Stdin<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let stdin = io::stdin();
        let fd = stdin.as_fd();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            if ready(fd, SLICE_MS) {
                return match rustix::io::read(fd, &mut *buf) {
                    Ok(n) => Ok(n),
                    Err(e) => Err(io::Error::from(e)),
                };
            }
        }
    }
}

/// A FIFO named on the command line, read like [`Stdin`]: opened without waiting for a
/// writer, read when `poll` says there is input, ended early when `stop` is set.
pub struct Pipe<'a> {
    file: std::fs::File,
    stop: &'a AtomicBool,
}

impl<'a> Pipe<'a> {
    /// Opens the FIFO at `path` (non-blocking: the open does not wait for a writer).
    pub fn open(path: &std::path::Path, stop: &'a AtomicBool) -> io::Result<Pipe<'a>> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        Ok(Pipe { file, stop })
    }
}

impl Read for Pipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            if ready(self.file.as_fd(), SLICE_MS) {
                match (&self.file).read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => return other,
                }
            }
        }
    }
}

/// Whether `fd` has input (or an end, or an error) within `ms` milliseconds. A descriptor that
/// cannot be polled (a regular file) counts as ready.
fn ready(fd: std::os::fd::BorrowedFd<'_>, ms: i64) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let slice = Timespec {
        tv_sec: 0,
        tv_nsec: ms * 1_000_000,
    };
    match poll(&mut fds, Some(&slice)) {
        Ok(n) => n > 0,
        Err(rustix::io::Errno::INTR) => false,
        Err(_) => true,
    }
}
