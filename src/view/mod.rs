//! Views: the same bytes the way a human would read them.
//!
//! [`ansi`] removes terminal escape codes from logs. (The decoding views, JSON string escapes,
//! base64 and percent-encoding, live beside it.)

pub mod ansi;
