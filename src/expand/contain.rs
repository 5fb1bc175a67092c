//! Panics of third-party decoders, contained to the item they were decoding.
//!
//! ferret's own parsers return errors on bad input; the `parquet` and `arrow-ipc` crates
//! mostly do too, but some of their decoders assert on what a hostile or damaged file
//! controls (the `parquet` fuzz target found `assertion failed: size <= src.len()` in the bit
//! reader). [`contained`] runs such a decoder under [`std::panic::catch_unwind`], so that its
//! panic becomes an error for that one column chunk or record batch (a per-item warning) and
//! the scan goes on with everything found before kept.
//!
//! A process-wide panic hook still runs before the unwind is caught: the CLI's hook (and the
//! fuzz harness's) asks [`is_contained`] first and stays silent for a contained panic, so
//! neither the default hook's message nor "internal error" reaches the scan's output. The
//! panic's message is carried into the warning only when it is a `&'static str` (text in the
//! binary, never scanned data).

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Whether the current thread is inside [`contained`]: a panic hook that sees `true` should
/// return without printing or exiting (the panic becomes a warning).
pub fn is_contained() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// A decoder's panic, contained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked {
    /// The panic's message when it is static text, `None` otherwise (a formatted message
    /// could hold the data being decoded).
    pub message: Option<&'static str>,
}

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.message {
            Some(m) => write!(f, "the decoder failed on malformed data ({m})"),
            None => f.write_str("the decoder failed on malformed data"),
        }
    }
}

/// Runs `f`; a panic inside it is returned as [`Panicked`] instead of unwinding further. `f`
/// should own or only read what it touches: after a panic, whatever it was changing is dropped
/// or used as the caller sees fit (the caller asserts unwind safety by calling this).
pub fn contained<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    struct Enter;
    impl Drop for Enter {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    let guard = Enter;
    let out = panic::catch_unwind(AssertUnwindSafe(f));
    drop(guard);
    out.map_err(|payload| Panicked {
        message: static_message(payload.as_ref()),
    })
}

fn static_message(payload: &(dyn Any + Send)) -> Option<&'static str> {
    payload.downcast_ref::<&'static str>().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_returned_and_the_flag_is_reset() {
        assert!(!is_contained());
        let r: Result<(), _> = contained(|| {
            assert!(is_contained());
            panic!("static text");
        });
        assert_eq!(
            r,
            Err(Panicked {
                message: Some("static text")
            })
        );
        assert!(!is_contained());
        let secret = String::from("formatted");
        let r: Result<(), _> = contained(|| panic!("{secret}"));
        assert_eq!(r, Err(Panicked { message: None }));
        assert_eq!(contained(|| 7), Ok(7));
        assert!(!is_contained());
    }
}
