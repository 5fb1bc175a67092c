//! Python pickles: every string and bytes constant, named by its key path, never executed.
//!
//! Training code saves more than weights. A PyTorch Lightning checkpoint pickles the
//! `hyper_parameters` it was given (`wandb_api_key`, `hub_token`), `torch.save(args)` pickles
//! an `argparse.Namespace` with `--hub_token` in it, and scikit-learn pipelines saved with
//! joblib keep their configuration. A pickle is a program for a small stack machine, and
//! unpickling it runs arbitrary code, so ferret never unpickles: `walk` reads the opcodes
//! (protocols 0 to 5) and models only the stack, the memo and the containers, enough to know
//! which dictionary key, attribute or list position each string ends up at. No callable is
//! looked up, nothing is imported or called.
//!
//! Every string and bytes constant is then scanned through [`Texts`], written as
//! `hyper_parameters.wandb_api_key = "…"` so that rules that want a name before a value see it;
//! findings carry a [`Segment::Pickle`] with the key path, and lines and columns count inside
//! the string. Keys are scanned as strings of their own (`path.(key)`), and a string with no
//! known place has an empty path.
//!
//! Formats: a plain pickle (`.pkl`, `.pickle`, `.joblib`, `data.pkl` in a PyTorch zip
//! checkpoint, whose raw tensor storages the zip expansion skips), and PyTorch's legacy
//! format: five pickles in a row (magic number, protocol, system info, the object, the storage
//! keys) and then raw storages, which are skipped. Pickles are recognised by their `PROTO`
//! opcode (`\x80` and a protocol of 2 to 5), protocol 0 and 1 pickles by their name.
//!
//! Bounds: at most [`MAX_NODES`] strings and containers, [`MAX_MEMO`] memo entries and
//! [`MAX_MARKS`] open marks are modelled, protocol-0 text lines are read up to
//! [`MAX_LINE`] bytes, and key paths are at most [`MAX_PATH_DEPTH`] steps deep (cycles built
//! through the memo end there). The walk is a loop over opcodes with no recursion, so deep
//! nesting costs memory for the stack, not native stack frames. What the walk cannot follow
//! (a damaged pickle, joblib's raw array bytes, an over-budget pickle) is scanned as raw bytes
//! from where the walk stopped, so nothing is left unscanned.

use std::collections::HashMap;
use std::io::{self, BufReader};
use std::sync::Arc;

use super::Expander;
use super::cursor::Cursor;
use super::texts::Texts;
use crate::blob::reader::DataReader;
use crate::blob::{Data, Origin, Segment};

/// Strings, bytes and containers modelled per pickle, at most.
pub const MAX_NODES: usize = 2_000_000;
/// Memo entries kept, at most.
pub const MAX_MEMO: usize = 2_000_000;
/// Open marks, at most.
pub const MAX_MARKS: usize = 1_000_000;
/// Longest protocol-0 text line (`S'…'`, `V…`, `GLOBAL` names).
pub const MAX_LINE: usize = 16 << 20;
/// Steps of a key path, at most.
pub const MAX_PATH_DEPTH: usize = 48;
/// Strings longer than this are scanned in place (a slice of the file) instead of copied.
const IN_PLACE: u64 = 1 << 20;

/// The first pickle of a legacy (non-zip) PyTorch file: protocol 2, then the magic number
/// `0x1950a86a20f9469cfc6c` as a `LONG1`.
const TORCH_LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

/// Whether `head` starts a pickle: a `PROTO` opcode with protocol 2 to 5 followed by a known
/// opcode, or (for protocol 0 and 1, which have no header) a pickle-like name and a first
/// opcode that can start one.
pub fn is_pickle(head: &[u8], name: &str) -> bool {
    if head.len() >= 3 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return is_opcode(head[2]);
    }
    is_pickle_name(name) && head.first().is_some_and(|&b| starts_pickle(b))
}

/// Whether a name says pickle: `.pkl`, `.pickle`, `.joblib`, or a PyTorch `.pt`, `.pth`, `.ckpt`.
pub fn is_pickle_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Opcodes a protocol 0 or 1 pickle may start with.
fn starts_pickle(b: u8) -> bool {
    matches!(
        b,
        b'(' | b'}'
            | b']'
            | b')'
            | b'c'
            | b'I'
            | b'L'
            | b'F'
            | b'S'
            | b'V'
            | b'N'
            | b'X'
            | b'U'
            | b'T'
            | b'J'
            | b'K'
            | b'M'
            | b'G'
            | b'B'
            | b'C'
            | b'P'
    )
}

fn is_opcode(b: u8) -> bool {
    matches!(b, 0x80..=0x98) || b"(.0123FIJKLMNPQRSTUVXabcdeghijlopqrstu}])GBC".contains(&b)
}

/// Scans a pickle (or a legacy PyTorch file) held in `data`.
pub fn pickle_blob(ex: &Expander<'_>, data: Arc<Data>, origin: Origin) {
    let legacy = {
        let mut head = Vec::new();
        data.range(0..TORCH_LEGACY_MAGIC.len() as u64, &mut head)
            .is_ok_and(|h| h == TORCH_LEGACY_MAGIC)
    };
    let mut reader = Reader::new(Arc::clone(&data));
    let mut walker = Walker::default();
    let mut pickles = 0;
    let outcome = loop {
        match walker.walk(&mut reader) {
            Ok(()) => pickles += 1,
            Err(e) => break Some(e),
        }
        // Legacy PyTorch: the fifth pickle lists the storages, raw tensor bytes follow.
        if legacy && pickles == 5 {
            break None;
        }
        match reader.peek() {
            Ok(None) => break None,
            Ok(Some(0x80)) => {}
            Ok(Some(_)) if legacy => break None,
            Ok(Some(_)) => {
                break Some(WalkError {
                    at: reader.pos(),
                    message: "bytes after the end of the pickle".into(),
                    expected: true,
                });
            }
            Err(e) => {
                break Some(WalkError {
                    at: reader.pos(),
                    message: e.to_string(),
                    expected: false,
                });
            }
        }
    };
    let named = is_pickle_name(origin.name());
    if outcome.is_some() && !named && pickles == 0 {
        // Recognised by two bytes only and not a pickle after all: plain bytes.
        return ex.leaf(&data, &origin);
    }
    emit(ex, &walker, &data, &origin);
    if let Some(e) = outcome {
        let expected = e.expected || walker.joblib_arrays;
        if !expected {
            ex.sink.error(
                &origin,
                format!(
                    "pickle not fully read ({} at byte {}): the rest scanned as bytes",
                    e.message, e.at
                ),
            );
        }
        // Scanned whole for the positions, but only what follows the walk is reported: the
        // strings before it were reported with their key paths.
        ex.leaf_after(&data, &origin, e.at);
    }
}

/// Sends every string and bytes constant to the scanner, with its key path.
fn emit(ex: &Expander<'_>, walker: &Walker, data: &Arc<Data>, origin: &Origin) {
    let mut texts = Texts::new(ex);
    let mut buf = Vec::new();
    for (id, node) in walker.nodes.iter().enumerate() {
        let Kind::Text(text) = &node.kind else {
            continue;
        };
        if node.skip {
            continue;
        }
        let path = walker.path(id as u32, data);
        let child = origin.child(Segment::Pickle { path: path.clone() });
        if let Text::Range(start, end) = text
            && end - start > IN_PLACE
        {
            ex.leaf(&data.slice(*start..*end), &child);
            continue;
        }
        let bytes: &[u8] = match text {
            Text::Owned(b) => b,
            Text::Range(start, end) => match data.range(*start..*end, &mut buf) {
                Ok(b) => b,
                Err(_) => continue,
            },
        };
        if bytes.is_empty() {
            continue;
        }
        if path.is_empty() {
            texts.push(child, b"", bytes, b"");
        } else {
            let label = format!("{path} = \"");
            texts.push(child, label.as_bytes(), bytes, b"\"");
        }
    }
    texts.finish();
}

/// Where the walk stopped and why.
#[derive(Debug)]
struct WalkError {
    at: u64,
    message: String,
    /// Expected for the format (no warning): trailing bytes after a joblib pickle.
    expected: bool,
}

/// A string constant: bytes of the file, or decoded text (protocol 0).
#[derive(Debug)]
enum Text {
    Range(u64, u64),
    Owned(Box<[u8]>),
}

#[derive(Debug)]
enum Kind {
    /// A string or bytes constant.
    Text(Text),
    /// A dict, list, tuple, set or object; `first` is its first item's node, if any.
    Container { len: u32, first: u32 },
    /// A class or function reference; `codecs` for `_codecs.encode`, which protocols 0 to 2
    /// use to rebuild `bytes` from a string.
    Global { codecs: bool },
}

/// How a parent reaches a node.
#[derive(Debug, Clone, Copy)]
enum Key {
    /// A dictionary value under a string key (the key's node).
    Name(u32),
    /// A dictionary value under an integer key.
    Int(i64),
    /// A dictionary value under another kind of key.
    Unknown,
    /// A list, tuple or argument position.
    Index(u32),
    /// This node is a key of the parent dictionary.
    OfDict,
    /// Part of the parent itself (an object's state, a call's arguments).
    Transparent,
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    parent: u32,
    key: Key,
    /// Not scanned (a module or class name of `STACK_GLOBAL`).
    skip: bool,
}

const NO_PARENT: u32 = u32::MAX;

/// One stack slot.
#[derive(Debug, Clone, Copy)]
enum Item {
    Node(u32),
    Int(i64),
    /// None, booleans, floats, big integers, persistent ids, out-of-band buffers.
    Other,
}

/// The stack machine, modelled without executing anything.
#[derive(Debug, Default)]
struct Walker {
    nodes: Vec<Node>,
    stack: Vec<Item>,
    marks: Vec<usize>,
    memo: HashMap<u64, Item>,
    /// A joblib `NumpyArrayWrapper` was seen: raw array bytes follow its state.
    joblib_arrays: bool,
}

fn err(at: u64, message: impl Into<String>) -> WalkError {
    WalkError {
        at,
        message: message.into(),
        expected: false,
    }
}

impl Walker {
    /// Walks one pickle, up to and including its `STOP`.
    fn walk(&mut self, r: &mut Reader) -> Result<(), WalkError> {
        self.stack.clear();
        self.marks.clear();
        loop {
            let at = r.pos();
            let op = match r.byte() {
                Ok(b) => b,
                Err(_) => return Err(err(at, "truncated pickle (no STOP)")),
            };
            let io = |e: io::Error| err(at, format!("truncated pickle ({e})"));
            match op {
                b'.' => return Ok(()),
                0x80 => {
                    r.byte().map_err(io)?;
                }
                0x95 => {
                    r.skip(8).map_err(io)?;
                }
                b'(' => {
                    if self.marks.len() >= MAX_MARKS {
                        return Err(err(at, "too many open marks"));
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    if self.marks.last() == Some(&self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop(at)?;
                    }
                }
                b'1' => {
                    self.pop_mark(at)?;
                }
                b'2' => {
                    let top = self.top(at)?;
                    self.stack.push(top);
                }
                // Scalars.
                b'N' | 0x88 | 0x89 => self.stack.push(Item::Other),
                b'J' => {
                    let b = r.array::<4>().map_err(io)?;
                    self.stack.push(Item::Int(i64::from(i32::from_le_bytes(b))));
                }
                b'K' => {
                    let b = r.byte().map_err(io)?;
                    self.stack.push(Item::Int(i64::from(b)));
                }
                b'M' => {
                    let b = r.array::<2>().map_err(io)?;
                    self.stack.push(Item::Int(i64::from(u16::from_le_bytes(b))));
                }
                b'G' => {
                    r.skip(8).map_err(io)?;
                    self.stack.push(Item::Other);
                }
                0x8a => {
                    let n = r.byte().map_err(io)?;
                    let bytes = r.bytes(u64::from(n)).map_err(io)?;
                    self.stack.push(long_item(&bytes));
                }
                0x8b => {
                    let n = u32::from_le_bytes(r.array::<4>().map_err(io)?);
                    r.skip(u64::from(n)).map_err(io)?;
                    self.stack.push(Item::Other);
                }
                b'I' | b'L' => {
                    let line = r.line(MAX_LINE).map_err(io)?;
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim().trim_end_matches('L');
                    self.stack
                        .push(text.parse::<i64>().map_or(Item::Other, Item::Int));
                }
                b'F' => {
                    r.line(MAX_LINE).map_err(io)?;
                    self.stack.push(Item::Other);
                }
                // Strings and bytes.
                b'X' | b'T' | b'B' => {
                    let n = u32::from_le_bytes(r.array::<4>().map_err(io)?);
                    self.text_in_place(r, u64::from(n), at)?;
                }
                b'U' | b'C' | 0x8c => {
                    let n = r.byte().map_err(io)?;
                    self.text_in_place(r, u64::from(n), at)?;
                }
                0x8d | 0x8e | 0x96 => {
                    let n = u64::from_le_bytes(r.array::<8>().map_err(io)?);
                    self.text_in_place(r, n, at)?;
                }
                b'S' => {
                    let line = r.line(MAX_LINE).map_err(io)?;
                    let text = decode_repr(&line);
                    self.push_node(Kind::Text(Text::Owned(text.into())), at)?;
                }
                b'V' => {
                    let line = r.line(MAX_LINE).map_err(io)?;
                    let text = decode_raw_unicode_escape(&line);
                    self.push_node(Kind::Text(Text::Owned(text.into())), at)?;
                }
                // Containers.
                b')' | b']' | b'}' | 0x8f => {
                    self.push_node(
                        Kind::Container {
                            len: 0,
                            first: NO_PARENT,
                        },
                        at,
                    )?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < n {
                        return Err(err(at, "stack underflow"));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.sequence(items, at)?;
                }
                b't' | b'l' | 0x91 => {
                    let items = self.pop_mark(at)?;
                    self.sequence(items, at)?;
                }
                b'd' => {
                    let items = self.pop_mark(at)?;
                    let dict = self.push_node(
                        Kind::Container {
                            len: 0,
                            first: NO_PARENT,
                        },
                        at,
                    )?;
                    self.set_items(Item::Node(dict), &items);
                }
                b'a' => {
                    let v = self.pop(at)?;
                    let list = self.top(at)?;
                    self.append(list, &[v]);
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark(at)?;
                    let list = self.top(at)?;
                    self.append(list, &items);
                }
                b's' => {
                    let v = self.pop(at)?;
                    let k = self.pop(at)?;
                    let dict = self.top(at)?;
                    self.set_items(dict, &[k, v]);
                }
                b'u' => {
                    let items = self.pop_mark(at)?;
                    let dict = self.top(at)?;
                    self.set_items(dict, &items);
                }
                // Objects: nothing is called; the arguments and state become part of a node.
                b'c' | b'i' => {
                    let module = r.line(MAX_LINE).map_err(io)?;
                    let name = r.line(MAX_LINE).map_err(io)?;
                    let codecs = self.note_global(&module, &name);
                    if op == b'c' {
                        self.push_node(Kind::Global { codecs }, at)?;
                    } else {
                        let args = self.pop_mark(at)?;
                        self.object(&args, at)?;
                    }
                }
                0x93 => {
                    let name = self.pop(at)?;
                    let module = self.pop(at)?;
                    let (m, n) = (self.text_of(module), self.text_of(name));
                    let mut codecs = false;
                    if let (Some(m), Some(n)) = (m, n) {
                        let (m, n) = (r.read_text(&m), r.read_text(&n));
                        codecs = self.note_global(&m, &n);
                    }
                    for item in [module, name] {
                        if let Item::Node(id) = item {
                            self.nodes[id as usize].skip = true;
                        }
                    }
                    self.push_node(Kind::Global { codecs }, at)?;
                }
                b'R' | 0x81 => {
                    let args = self.pop(at)?;
                    let callable = self.pop(at)?;
                    if let Some(bytes) = self.codecs_encode(callable, args) {
                        // `bytes` in protocols 0 to 2: the string is the value itself.
                        self.stack.push(bytes);
                    } else {
                        self.object(&[args], at)?;
                    }
                }
                0x92 => {
                    let kwargs = self.pop(at)?;
                    let args = self.pop(at)?;
                    let _cls = self.pop(at)?;
                    self.object(&[args, kwargs], at)?;
                }
                b'o' => {
                    let items = self.pop_mark(at)?;
                    self.object(items.get(1..).unwrap_or_default(), at)?;
                }
                b'b' => {
                    let state = self.pop(at)?;
                    let obj = self.top(at)?;
                    if let Item::Node(o) = obj {
                        self.attach(state, o, Key::Transparent);
                    }
                }
                b'P' => {
                    // A persistent id is a text line the unpickler hands to its loader: any
                    // text can be in it, so it is scanned as a string in its place.
                    let line = r.line(MAX_LINE).map_err(io)?;
                    self.push_node(Kind::Text(Text::Owned(line.into())), at)?;
                }
                b'Q' => {
                    let pid = self.pop(at)?;
                    let node = self.push_node(
                        Kind::Container {
                            len: 0,
                            first: NO_PARENT,
                        },
                        at,
                    )?;
                    self.attach(pid, node, Key::Transparent);
                }
                0x82 => {
                    r.skip(1).map_err(io)?;
                    self.stack.push(Item::Other);
                }
                0x83 => {
                    r.skip(2).map_err(io)?;
                    self.stack.push(Item::Other);
                }
                0x84 => {
                    r.skip(4).map_err(io)?;
                    self.stack.push(Item::Other);
                }
                0x97 => self.stack.push(Item::Other),
                0x98 => {}
                // The memo.
                b'p' => {
                    let line = r.line(MAX_LINE).map_err(io)?;
                    let i = parse_index(&line).ok_or_else(|| err(at, "bad PUT index"))?;
                    self.put(i, at)?;
                }
                b'q' => {
                    let i = r.byte().map_err(io)?;
                    self.put(u64::from(i), at)?;
                }
                b'r' => {
                    let i = u32::from_le_bytes(r.array::<4>().map_err(io)?);
                    self.put(u64::from(i), at)?;
                }
                0x94 => {
                    let i = self.memo.len() as u64;
                    self.put(i, at)?;
                }
                b'g' => {
                    let line = r.line(MAX_LINE).map_err(io)?;
                    let i = parse_index(&line).ok_or_else(|| err(at, "bad GET index"))?;
                    self.get(i, at)?;
                }
                b'h' => {
                    let i = r.byte().map_err(io)?;
                    self.get(u64::from(i), at)?;
                }
                b'j' => {
                    let i = u32::from_le_bytes(r.array::<4>().map_err(io)?);
                    self.get(u64::from(i), at)?;
                }
                other => return Err(err(at, format!("unknown opcode 0x{other:02x}"))),
            }
        }
    }

    fn push_node(&mut self, kind: Kind, at: u64) -> Result<u32, WalkError> {
        if self.nodes.len() >= MAX_NODES {
            return Err(err(at, format!("more than {MAX_NODES} objects")));
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            kind,
            parent: NO_PARENT,
            key: Key::Transparent,
            skip: false,
        });
        self.stack.push(Item::Node(id));
        Ok(id)
    }

    fn text_in_place(&mut self, r: &mut Reader, n: u64, at: u64) -> Result<(), WalkError> {
        let start = r.pos();
        if n > r.len().saturating_sub(start) {
            return Err(err(at, format!("truncated pickle (a {n}-byte string)")));
        }
        r.skip(n)
            .map_err(|e| err(at, format!("truncated pickle ({e})")))?;
        self.push_node(Kind::Text(Text::Range(start, start + n)), at)?;
        Ok(())
    }

    fn pop(&mut self, at: u64) -> Result<Item, WalkError> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return Err(err(at, "stack underflow (into a mark)"));
        }
        self.stack.pop().ok_or_else(|| err(at, "stack underflow"))
    }

    fn top(&self, at: u64) -> Result<Item, WalkError> {
        self.stack
            .last()
            .copied()
            .ok_or_else(|| err(at, "stack underflow"))
    }

    fn pop_mark(&mut self, at: u64) -> Result<Vec<Item>, WalkError> {
        let m = self.marks.pop().ok_or_else(|| err(at, "no mark"))?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    fn put(&mut self, i: u64, at: u64) -> Result<(), WalkError> {
        let top = self.top(at)?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&i) {
            return Err(err(at, format!("more than {MAX_MEMO} memo entries")));
        }
        self.memo.insert(i, top);
        Ok(())
    }

    fn get(&mut self, i: u64, at: u64) -> Result<(), WalkError> {
        let item = *self
            .memo
            .get(&i)
            .ok_or_else(|| err(at, format!("memo entry {i} was never stored")))?;
        self.stack.push(item);
        Ok(())
    }

    fn sequence(&mut self, items: Vec<Item>, at: u64) -> Result<(), WalkError> {
        let node = self.push_node(
            Kind::Container {
                len: 0,
                first: NO_PARENT,
            },
            at,
        )?;
        self.append(Item::Node(node), &items);
        Ok(())
    }

    /// A new object whose arguments (or state) are `parts`.
    fn object(&mut self, parts: &[Item], at: u64) -> Result<(), WalkError> {
        let node = self.push_node(
            Kind::Container {
                len: 0,
                first: NO_PARENT,
            },
            at,
        )?;
        for &p in parts {
            self.attach(p, node, Key::Transparent);
        }
        Ok(())
    }

    /// For `_codecs.encode(text, 'latin1')`: the text's item, detached from the arguments.
    fn codecs_encode(&mut self, callable: Item, args: Item) -> Option<Item> {
        let (Item::Node(c), Item::Node(a)) = (callable, args) else {
            return None;
        };
        if !matches!(self.nodes[c as usize].kind, Kind::Global { codecs: true }) {
            return None;
        }
        let Kind::Container { first, .. } = self.nodes[a as usize].kind else {
            return None;
        };
        let text = self.nodes.get_mut(first as usize)?;
        if !matches!(text.kind, Kind::Text(_)) || text.parent != a {
            return None;
        }
        text.parent = NO_PARENT;
        text.key = Key::Transparent;
        Some(Item::Node(first))
    }

    fn append(&mut self, list: Item, items: &[Item]) {
        let Item::Node(list) = list else { return };
        for &item in items {
            let index = match &mut self.nodes[list as usize].kind {
                Kind::Container { len, first } => {
                    if *len == 0
                        && let Item::Node(id) = item
                    {
                        *first = id;
                    }
                    *len = len.saturating_add(1);
                    *len - 1
                }
                _ => 0,
            };
            self.attach(item, list, Key::Index(index));
        }
    }

    fn set_items(&mut self, dict: Item, items: &[Item]) {
        let Item::Node(dict) = dict else { return };
        for pair in items.chunks_exact(2) {
            let key = match pair[0] {
                Item::Node(k) if matches!(self.nodes[k as usize].kind, Kind::Text(_)) => {
                    Key::Name(k)
                }
                Item::Int(i) => Key::Int(i),
                _ => Key::Unknown,
            };
            self.attach(pair[0], dict, Key::OfDict);
            self.attach(pair[1], dict, key);
        }
    }

    /// Gives `child` its place, unless it already has one (a memoized object reused).
    fn attach(&mut self, child: Item, parent: u32, key: Key) {
        let Item::Node(c) = child else { return };
        if c == parent {
            return;
        }
        let node = &mut self.nodes[c as usize];
        if node.parent == NO_PARENT {
            node.parent = parent;
            node.key = key;
        }
    }

    fn text_of(&self, item: Item) -> Option<Text> {
        let Item::Node(id) = item else { return None };
        match &self.nodes[id as usize].kind {
            Kind::Text(Text::Range(s, e)) => Some(Text::Range(*s, *e)),
            Kind::Text(Text::Owned(b)) => Some(Text::Owned(b.clone())),
            _ => None,
        }
    }

    /// Notes what a class or function reference means for the walk; true for
    /// `_codecs.encode`.
    fn note_global(&mut self, module: &[u8], name: &[u8]) -> bool {
        let module = trim_newline(module);
        let name = trim_newline(name);
        if module.starts_with(b"joblib") && name == b"NumpyArrayWrapper" {
            self.joblib_arrays = true;
        }
        module == b"_codecs" && name == b"encode"
    }

    /// The key path of node `id`: `hyper_parameters.wandb_api_key`, `callbacks[2].dirpath`.
    fn path(&self, id: u32, data: &Data) -> String {
        let mut steps = Vec::new();
        let mut cur = id;
        let mut truncated = false;
        loop {
            let node = &self.nodes[cur as usize];
            if node.parent == NO_PARENT {
                break;
            }
            if steps.len() >= MAX_PATH_DEPTH {
                truncated = true;
                break;
            }
            steps.push(node.key);
            cur = node.parent;
        }
        let mut path = String::new();
        if truncated {
            path.push('…');
        }
        let mut buf = Vec::new();
        for key in steps.iter().rev() {
            match *key {
                Key::Name(k) => {
                    let text = match &self.nodes[k as usize].kind {
                        Kind::Text(Text::Range(s, e)) => data
                            .range(*s..(*e).min(s + 256), &mut buf)
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_default(),
                        Kind::Text(Text::Owned(b)) => String::from_utf8_lossy(b).into_owned(),
                        _ => String::new(),
                    };
                    push_name(&mut path, &text);
                }
                Key::Int(i) => path.push_str(&format!("[{i}]")),
                Key::Unknown => path.push_str("[?]"),
                Key::Index(i) => path.push_str(&format!("[{i}]")),
                Key::OfDict => push_name(&mut path, "(key)"),
                Key::Transparent => {}
            }
        }
        path
    }
}

/// Appends a dictionary key to a path: `.name` for plain names, `["…"]` otherwise.
pub(crate) fn push_name(path: &mut String, name: &str) {
    let name: String = name.chars().take(64).collect();
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '(' | ')'));
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&name);
    } else {
        path.push_str(&format!("[{name:?}]"));
    }
}

/// A `LONG1` integer (little-endian two's complement).
fn long_item(bytes: &[u8]) -> Item {
    if bytes.len() > 8 {
        return Item::Other;
    }
    if bytes.is_empty() {
        return Item::Int(0);
    }
    let negative = bytes[bytes.len() - 1] & 0x80 != 0;
    let mut b = [if negative { 0xff } else { 0 }; 8];
    b[..bytes.len()].copy_from_slice(bytes);
    Item::Int(i64::from_le_bytes(b))
}

fn parse_index(line: &[u8]) -> Option<u64> {
    std::str::from_utf8(line).ok()?.trim().parse().ok()
}

/// A protocol-0 `STRING` argument: a Python 2 `repr` (`'it\'s'`, `"a\nb"`, `'\x00'`).
fn decode_repr(line: &[u8]) -> Vec<u8> {
    let line = trim_newline(line);
    let inner = match line {
        [q @ (b'\'' | b'"'), rest @ .., last] if last == q => rest,
        other => other,
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c != b'\\' || i + 1 == inner.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = inner[i + 1];
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut k = 0;
                while k < 2 && i < inner.len() && (b'0'..=b'7').contains(&inner[i]) {
                    v = v * 8 + u32::from(inner[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            b'x' => match inner.get(i..i + 2).and_then(hex) {
                Some(v) => {
                    out.push(v as u8);
                    i += 2;
                }
                None => out.extend_from_slice(b"\\x"),
            },
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            other => out.extend_from_slice(&[b'\\', other]),
        }
    }
    out
}

/// A protocol-0 `UNICODE` argument: raw-unicode-escape (`\uXXXX`, `\UXXXXXXXX`, other bytes
/// are Latin-1 characters).
fn decode_raw_unicode_escape(line: &[u8]) -> Vec<u8> {
    let line = trim_newline(line);
    let mut s = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if c == b'\\' && i + 1 < line.len() && matches!(line[i + 1], b'u' | b'U') {
            let n = if line[i + 1] == b'u' { 4 } else { 8 };
            if let Some(ch) = line
                .get(i + 2..i + 2 + n)
                .and_then(hex)
                .and_then(char::from_u32)
            {
                s.push(ch);
                i += 2 + n;
                continue;
            }
        }
        s.push(char::from(c));
        i += 1;
    }
    s.into_bytes()
}

fn hex(digits: &[u8]) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A buffered reader over data that knows its position (the shared bounded cursor), and the
/// data itself, for texts that are read back by range.
struct Reader {
    cursor: Cursor<BufReader<DataReader>>,
    data: Arc<Data>,
}

impl std::ops::Deref for Reader {
    type Target = Cursor<BufReader<DataReader>>;
    fn deref(&self) -> &Self::Target {
        &self.cursor
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.cursor
    }
}

impl Reader {
    fn new(data: Arc<Data>) -> Reader {
        Reader {
            cursor: Cursor::new(
                BufReader::with_capacity(64 * 1024, DataReader::new(Arc::clone(&data))),
                data.len(),
            ),
            data,
        }
    }

    fn read_text(&self, t: &Text) -> Vec<u8> {
        match t {
            Text::Owned(b) => b.to_vec(),
            Text::Range(s, e) => {
                let mut buf = Vec::new();
                self.data
                    .range(*s..(*e).min(s + 256), &mut buf)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default()
            }
        }
    }
}

/// The storages of a PyTorch zip checkpoint: `<prefix>/data/<n>` next to `<prefix>/data.pkl`.
pub fn is_torch_storage(name: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| {
        name.strip_prefix(p.as_str())
            .and_then(|rest| rest.strip_prefix("data/"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The `<prefix>/` of every `<prefix>/data.pkl` among a zip's member names.
pub fn torch_prefixes<'n>(names: impl Iterator<Item = &'n str>) -> Vec<String> {
    names
        .filter_map(|n| n.strip_suffix("data.pkl"))
        .filter(|p| p.is_empty() || p.ends_with('/'))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings of a pickle with their paths, walked without a scanner.
    fn strings(bytes: &[u8]) -> Vec<(String, String)> {
        let data = Arc::new(Data::Owned(bytes.to_vec()));
        let mut w = Walker::default();
        let mut r = Reader::new(Arc::clone(&data));
        w.walk(&mut r).expect("walks");
        w.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.skip)
            .filter_map(|(i, n)| match &n.kind {
                Kind::Text(t) => Some((
                    w.path(i as u32, &data),
                    String::from_utf8_lossy(&r.read_text(t)).into_owned(),
                )),
                _ => None,
            })
            .collect()
    }

    fn s(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn protocol_2_nested_dicts_have_key_paths() {
        // pickle.dumps({'hyper_parameters': {'lr': 0.1, 'wandb_api_key': 'k1'}, 'epoch': 3},
        //              protocol=2)
        let p = b"\x80\x02}q\x00(X\x10\x00\x00\x00hyper_parametersq\x01}q\x02(X\x02\x00\x00\x00lrq\x03G?\xb9\x99\x99\x99\x99\x99\x9aX\x0d\x00\x00\x00wandb_api_keyq\x04X\x02\x00\x00\x00k1q\x05uX\x05\x00\x00\x00epochq\x06K\x03u.";
        assert_eq!(
            strings(p),
            vec![
                s("(key)", "hyper_parameters"),
                s("hyper_parameters.(key)", "lr"),
                s("hyper_parameters.(key)", "wandb_api_key"),
                s("hyper_parameters.wandb_api_key", "k1"),
                s("(key)", "epoch"),
            ]
        );
    }

    #[test]
    fn protocol_0_strings_are_decoded() {
        // pickle.dumps({'a': ['x\ny', u'caf\xe9']}, protocol=0)
        let p = b"(dp0\nVa\np1\n(lp2\nS'x\\ny'\np3\naVcaf\xe9\np4\nas.";
        assert_eq!(
            strings(p),
            vec![s("(key)", "a"), s("a[0]", "x\ny"), s("a[1]", "café")]
        );
    }

    #[test]
    fn objects_memo_and_stack_global() {
        // Protocol 4: Namespace(hub_token='t') via STACK_GLOBAL, NEWOBJ, BUILD; and a list
        // holding the same string twice through the memo.
        let mut p = b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        p.extend_from_slice(b"]\x94(\x8c\x08argparse\x94\x8c\x09Namespace\x94\x93\x94)\x81\x94}\x94\x8c\x09hub_token\x94\x8c\x01t\x94sb\x8c\x01t\x94h\x07e.");
        let got = strings(&p);
        assert!(got.contains(&s("[0].hub_token", "t")), "{got:?}");
        assert!(got.contains(&s("[1]", "t")), "{got:?}");
        assert!(!got.iter().any(|(_, v)| v == "argparse"), "{got:?}");
    }

    #[test]
    fn hostile_pickles_end_with_an_error_not_a_panic() {
        for p in [
            &b"\x80\x02"[..],
            b"\x80\x02h\x05.",
            b"\x80\x02X\xff\xff\xff\xffab.",
            b"\x80\x02s.",
            b"\x80\x020000.",
            b"\x80\x02\xff.",
            b"\x80\x05\x8d\xff\xff\xff\xff\xff\xff\xff\xff.",
        ] {
            let data = Arc::new(Data::Owned(p.to_vec()));
            let mut w = Walker::default();
            assert!(w.walk(&mut Reader::new(data)).is_err(), "{p:?}");
        }
        // Deep nesting: a million marks and lists cost memory, not stack frames.
        let mut deep = b"\x80\x02".to_vec();
        deep.extend(std::iter::repeat_n(b"(", 200_000).flatten());
        deep.extend(std::iter::repeat_n(b"l", 200_000).flatten());
        deep.push(b'.');
        let data = Arc::new(Data::Owned(deep));
        let mut w = Walker::default();
        w.walk(&mut Reader::new(Arc::clone(&data))).expect("walks");
        assert!(w.path(0, &data).len() < 400);
    }

    #[test]
    fn torch_storages_are_recognised() {
        let names = [
            "model/data.pkl",
            "model/data/0",
            "model/version",
            "x/data/1",
        ];
        let prefixes = torch_prefixes(names.iter().copied());
        assert_eq!(prefixes, ["model/"]);
        assert!(is_torch_storage("model/data/0", &prefixes));
        assert!(is_torch_storage("model/data/123", &prefixes));
        assert!(!is_torch_storage("model/data.pkl", &prefixes));
        assert!(!is_torch_storage("x/data/1", &prefixes));
        assert!(!is_torch_storage("model/data/notes.txt", &prefixes));
    }

    #[test]
    fn sniffing() {
        assert!(is_pickle(b"\x80\x02}q\x00", "anything"));
        assert!(is_pickle(b"(dp0\n", "model.pkl"));
        assert!(!is_pickle(b"(dp0\n", "notes.txt"));
        assert!(!is_pickle(b"\x80\x07}", "x"));
        assert!(!is_pickle(b"hello", "x.pkl"));
    }
}
