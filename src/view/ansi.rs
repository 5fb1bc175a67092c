//! ANSI escape codes ignored: terminal logs scanned as the text a person sees.
//!
//! Coloured logs put codes right against the values they colour: `HF_TOKEN=\x1b[1mhf_…\x1b[0m`.
//! A rule that wants a word boundary before the token sees `m` there and misses it, so text
//! that holds an ESC byte is scanned with its escape sequences removed. What is removed: CSI
//! sequences (`ESC [` parameters, intermediates, a final byte: colours, cursor moves, erases)
//! and two- and three-byte escapes (`ESC 7`, `ESC ( B`). String sequences (`ESC ]` OSC, such as
//! hyperlinks, and `ESC P` DCS) are left as they are: their payload is not displayed but may
//! hold a URL with a credential, and their bytes are scanned as written. A sequence cut off by
//! an unexpected byte, or longer than [`MAX_SEQUENCE`], is kept as text.
//!
//! [`Stripper`] works on a stream, block by block, with its state carried between blocks;
//! [`OffsetMap`] turns offsets in the stripped text back into offsets in the original bytes,
//! so a finding still points at its bytes. Lines are the same in both (no sequence holds a
//! newline); columns count the characters a person sees.

/// The longest escape sequence removed; longer ones are kept as text.
pub const MAX_SEQUENCE: usize = 64;

const ESC: u8 = 0x1b;

/// Whether `bytes` holds an ESC byte (the only case where stripping changes anything).
pub fn has_escape(bytes: &[u8]) -> bool {
    memchr::memchr(ESC, bytes).is_some()
}

/// Whether `bytes` look like coloured text: an ESC byte, and no NUL in the first 64 KiB.
/// Binary data (tensors, compressed blocks) holds ESC bytes by chance, one in 256; copying and
/// stripping it would only double the memory a scan of it takes, and no terminal shows it.
pub fn is_coloured_text(bytes: &[u8]) -> bool {
    has_escape(bytes) && memchr::memchr(0, &bytes[..bytes.len().min(64 << 10)]).is_none()
}

/// Text with its escape sequences removed, and the way back to the original offsets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stripped {
    /// The text a person sees.
    pub text: Vec<u8>,
    /// Stripped offsets to original offsets.
    pub map: OffsetMap,
}

/// Removes the escape sequences of `bytes`, or `None` when it holds no ESC.
pub fn strip(bytes: &[u8]) -> Option<Stripped> {
    if !has_escape(bytes) {
        return None;
    }
    let mut s = Stripped::default();
    let mut stripper = Stripper::default();
    stripper.feed(bytes, &mut s.text, &mut s.map);
    stripper.finish(&mut s.text);
    Some(s)
}

/// Where bytes were removed: offsets in the stripped text to offsets in the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetMap {
    /// `(stripped offset, bytes removed before it in total)`, increasing in both.
    points: Vec<(u64, u64)>,
}

impl OffsetMap {
    /// The original offset of stripped offset `pos`.
    pub fn original(&self, pos: u64) -> u64 {
        let i = self.points.partition_point(|p| p.0 <= pos);
        match i.checked_sub(1) {
            Some(i) => pos + self.points[i].1,
            None => pos,
        }
    }

    /// Forgets what is needed only for offsets before `pos` (a stream that moved on).
    pub fn forget_before(&mut self, pos: u64) {
        let i = self.points.partition_point(|p| p.0 <= pos);
        if i > 1 {
            self.points.drain(..i - 1);
        }
    }

    /// How many removal points are kept.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    fn removed(&mut self, at: u64, n: u64) {
        let total = self.points.last().map_or(0, |p| p.1) + n;
        match self.points.last_mut() {
            Some(last) if last.0 == at => last.1 = total,
            _ => self.points.push((at, total)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Ground,
    /// After ESC.
    Escape,
    /// After `ESC` and intermediate bytes (`ESC ( B`).
    Intermediate,
    /// Inside `ESC [`.
    Csi,
}

/// Removes escape sequences from a stream fed block by block.
#[derive(Debug, Default)]
pub struct Stripper {
    state: State,
    /// The bytes of the sequence in progress (kept as text if it turns out not to be one).
    pending: Vec<u8>,
    /// Bytes written to the output so far.
    written: u64,
}

impl Stripper {
    /// Appends the stripped form of `input` to `out`, recording removals in `map`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, map: &mut OffsetMap) {
        let mut i = 0;
        while i < input.len() {
            if self.state == State::Ground {
                // Copy the run up to the next ESC in one go.
                let run = memchr::memchr(ESC, &input[i..]).unwrap_or(input.len() - i);
                out.extend_from_slice(&input[i..i + run]);
                self.written += run as u64;
                i += run;
                if i == input.len() {
                    break;
                }
                self.pending.push(ESC);
                self.state = State::Escape;
                i += 1;
                continue;
            }
            let b = input[i];
            let next = match self.state {
                State::Escape => match b {
                    b'[' => Step::Continue(State::Csi),
                    // String sequences (OSC, DCS, SOS, PM, APC): kept as text.
                    b']' | b'P' | b'X' | b'^' | b'_' => Step::Abort,
                    0x20..=0x2f => Step::Continue(State::Intermediate),
                    0x30..=0x7e => Step::Done,
                    _ => Step::Abort,
                },
                State::Intermediate => match b {
                    0x20..=0x2f => Step::Continue(State::Intermediate),
                    0x30..=0x7e => Step::Done,
                    _ => Step::Abort,
                },
                State::Csi => match b {
                    0x20..=0x3f => Step::Continue(State::Csi),
                    0x40..=0x7e => Step::Done,
                    _ => Step::Abort,
                },
                State::Ground => unreachable!("handled above"),
            };
            match next {
                Step::Continue(s) if self.pending.len() < MAX_SEQUENCE => {
                    self.pending.push(b);
                    self.state = s;
                    i += 1;
                }
                Step::Done => {
                    let n = self.pending.len() as u64 + 1;
                    map.removed(self.written, n);
                    self.pending.clear();
                    self.state = State::Ground;
                    i += 1;
                }
                Step::Continue(_) | Step::Abort => {
                    // Not a sequence: its bytes are text; `b` is looked at again from Ground.
                    self.flush_pending(out);
                }
            }
        }
    }

    /// Ends the stream: a sequence left unfinished is text.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.flush_pending(out);
    }

    fn flush_pending(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.pending);
        self.written += self.pending.len() as u64;
        self.pending.clear();
        self.state = State::Ground;
    }
}

enum Step {
    Continue(State),
    Done,
    Abort,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(s: &[u8]) -> Vec<u8> {
        strip(s).map_or_else(|| s.to_vec(), |s| s.text)
    }

    #[test]
    fn binary_data_is_not_coloured_text() {
        assert!(is_coloured_text(b"\x1b[32mINFO\x1b[0m ok\n"));
        assert!(!is_coloured_text(b"plain\n"));
        // Tensor bytes: ESC by chance, NULs too.
        assert!(!is_coloured_text(b"\x00\x00\x80\x3f\x1b\x5b\x00\x40"));
    }

    #[test]
    fn colours_and_cursor_codes_are_removed() {
        assert_eq!(
            stripped(b"\x1b[1;32mINFO\x1b[0m token=\x1b[1mhf_x\x1b[22m\r\n"),
            b"INFO token=hf_x\r\n"
        );
        assert_eq!(stripped(b"a\x1b(Bb\x1b7c\x1b[2Kd"), b"abcd");
        // OSC hyperlinks and broken sequences stay.
        assert_eq!(
            stripped(b"\x1b]8;;https://u:p@h/\x07x"),
            b"\x1b]8;;https://u:p@h/\x07x"
        );
        assert_eq!(stripped(b"a\x1b[12\nb\x1b"), b"a\x1b[12\nb\x1b");
        assert_eq!(strip(b"plain"), None);
    }

    #[test]
    fn offsets_map_back_to_the_original() {
        let raw = b"\x1b[31mab\x1b[0mcd\x1b[1m";
        let s = strip(raw).unwrap();
        assert_eq!(s.text, b"abcd");
        let orig: Vec<u64> = (0..4).map(|p| s.map.original(p)).collect();
        assert_eq!(orig, [5, 6, 11, 12]);
        for (p, &o) in orig.iter().enumerate() {
            assert_eq!(raw[o as usize], s.text[p]);
        }
    }

    #[test]
    fn a_sequence_cut_between_blocks_is_still_removed() {
        let raw = b"x=\x1b[1;31mghp_abc\x1b[0m\n";
        for cut in 0..raw.len() {
            let mut out = Vec::new();
            let mut map = OffsetMap::default();
            let mut st = Stripper::default();
            st.feed(&raw[..cut], &mut out, &mut map);
            st.feed(&raw[cut..], &mut out, &mut map);
            st.finish(&mut out);
            assert_eq!(out, b"x=ghp_abc\n", "cut at {cut}");
            assert_eq!(map.original(2), 9, "cut at {cut}");
        }
    }
}
