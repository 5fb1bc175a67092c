//! When a secret reached a place, where that can be read: a commit date, an image layer's
//! position, a log line's timestamp.
//!
//! The blast radius reports the earliest and latest place a secret was seen. Three clocks can
//! say when, and they are read in this order:
//!
//! 1. a **log line's timestamp**, from the finding's line context, when the place is a log line
//!    (an ISO-8601 date-time such as `2024-05-01T12:00:03Z` or `2024-05-01 12:00:03,120`; in
//!    JSON-lines logs the `"ts"` field may come after the secret, so the text after it is read
//!    too). Dates in code and configs are not read: a `created = 2020-01-01` is not when a key
//!    leaked.
//! 2. a **date carried by a segment** of the origin: a commit's date, an image layer's
//!    `created` time (fields `date`, `time`, `timestamp`, `created`, `committed`, …, as RFC 3339
//!    text or Unix seconds), innermost segment first;
//! 3. a **layer's position** in its image (fields `index`, `position`, `order` of a segment
//!    whose kind mentions a layer), 0 being the base layer.
//!
//! Times are comparable with times, layer positions with layer positions; the radius picks its
//! earliest and latest among times when there are any, else among layer positions.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::artifact::segment_kind;

/// When a place was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Seen {
    /// An instant.
    Time {
        /// RFC 3339, UTC (`2024-05-01T12:00:03Z`).
        at: String,
        /// Seconds since the Unix epoch.
        unix: i64,
        /// What said so: `log`, or the kind of the segment that carried the date (`commit`).
        from: String,
    },
    /// The position of an image layer, 0 = the base layer.
    Layer {
        /// The position.
        index: u64,
    },
}

impl Seen {
    /// An instant `unix` seconds after the epoch, read from `from`.
    pub fn time(unix: i64, from: impl Into<String>) -> Seen {
        Seen::Time {
            at: rfc3339(unix),
            unix,
            from: from.into(),
        }
    }

    /// Orders two sightings on the same clock; `None` across clocks.
    pub fn compare(&self, other: &Seen) -> Option<Ordering> {
        match (self, other) {
            (Seen::Time { unix: a, .. }, Seen::Time { unix: b, .. }) => Some(a.cmp(b)),
            (Seen::Layer { index: a }, Seen::Layer { index: b }) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Whether this is an instant (as opposed to a layer position).
    pub fn is_time(&self) -> bool {
        matches!(self, Seen::Time { .. })
    }

    /// A number that sorts sightings on the same clock (seconds, or the layer position).
    pub fn sort_value(&self) -> i64 {
        match self {
            Seen::Time { unix, .. } => *unix,
            Seen::Layer { index } => i64::try_from(*index).unwrap_or(i64::MAX),
        }
    }

    /// When a place was seen, from its serialized origin and its line context (`before` and
    /// `after` the secret). `is_log` says whether the place is a log line.
    pub fn read(segments: &[Value], before: &str, after: &str, is_log: bool) -> Option<Seen> {
        if is_log && let Some(unix) = find_timestamp(before).or_else(|| find_timestamp(after)) {
            return Some(Seen::time(unix, "log"));
        }
        for s in segments.iter().rev() {
            for field in DATE_FIELDS {
                if let Some(unix) = s.get(field).and_then(date_value) {
                    let kind = segment_kind(s);
                    return Some(Seen::time(
                        unix,
                        if kind.is_empty() { "origin" } else { &kind },
                    ));
                }
            }
        }
        for s in segments.iter().rev() {
            if segment_kind(s).contains("layer") {
                for field in ["index", "position", "order"] {
                    if let Some(index) = s.get(field).and_then(Value::as_u64) {
                        return Some(Seen::Layer { index });
                    }
                }
            }
        }
        None
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::Time { at, from, .. } => write!(f, "{at} ({from})"),
            Seen::Layer { index } => write!(f, "layer {index}"),
        }
    }
}

/// Segment fields that may hold a date.
const DATE_FIELDS: [&str; 9] = [
    "date",
    "time",
    "timestamp",
    "created",
    "created_at",
    "committed",
    "committed_at",
    "commit_date",
    "author_date",
];

/// A date field's value: RFC 3339 text or Unix seconds.
fn date_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_datetime(s.trim()).map(|(unix, _)| unix),
        _ => None,
    }
}

/// The first ISO-8601 date-time in `text`, in Unix seconds.
pub fn find_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 19 <= b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && let Some((unix, _)) = parse_datetime(&text[i..])
        {
            return Some(unix);
        }
        i += 1;
    }
    None
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.frac|,frac][Z|±HH:MM|±HHMM]` at the start of `s`; returns
/// Unix seconds and the length read. Without a zone the time is taken as UTC.
pub fn parse_datetime(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, options: &[u8]| b.get(at).is_some_and(|c| options.contains(c));
    let year = num(0, 4)?;
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"T t") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (month, day) = (num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut end = 19;
    if sep(end, b".,") && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    let mut offset = 0;
    if sep(end, b"Zz") {
        end += 1;
    } else if sep(end, b"+-") {
        let sign = if b[end] == b'-' { -1 } else { 1 };
        let h = num(end + 1, 2);
        let (m, len) = if sep(end + 3, b":") {
            (num(end + 4, 2), 6)
        } else {
            (num(end + 3, 2), 5)
        };
        if let (Some(h), Some(m)) = (h, m)
            && h <= 23
            && m <= 59
        {
            offset = sign * (h * 3600 + m * 60);
            end += len;
        }
    }
    let days = days_from_civil(year, month, day);
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset,
        end,
    ))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2024-05-01T12:00:03Z` for Unix seconds.
pub fn rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_iso_dates_with_zones_and_fractions() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some((0, 20)));
        assert_eq!(
            parse_datetime("2024-05-01T12:00:03Z rest").map(|x| x.0),
            Some(1_714_564_803)
        );
        assert_eq!(
            parse_datetime("2024-05-01 14:00:03,120+02:00").map(|x| x.0),
            Some(1_714_564_803)
        );
        assert_eq!(
            parse_datetime("2024-05-01T07:00:03.5-0500").map(|x| x.0),
            Some(1_714_564_803)
        );
        assert_eq!(parse_datetime("2024-02-30T00:00:00Z"), None);
        assert_eq!(parse_datetime("2024-05-01"), None);
        assert_eq!(parse_datetime("2024-13-01T00:00:00"), None);
        for unix in [0, 951_782_400, 1_714_564_803, 4_102_444_800, -86_400] {
            let text = rfc3339(unix);
            assert_eq!(parse_datetime(&text).map(|x| x.0), Some(unix), "{text}");
        }
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn finds_a_timestamp_in_a_log_line() {
        assert_eq!(
            find_timestamp("[2024-05-01T12:00:03Z] INFO cloning https://x:"),
            Some(1_714_564_803)
        );
        assert_eq!(
            find_timestamp("\", \"ts\": \"2024-05-01 12:00:03\"}"),
            Some(1_714_564_803)
        );
        assert_eq!(find_timestamp("id 12024-05-01T12:00:03Z"), None);
        assert_eq!(find_timestamp("no time here"), None);
    }

    #[test]
    fn reads_log_then_segment_date_then_layer() {
        let file = json!([{"kind": "file", "path": "train.log"}]);
        let seg = file.as_array().unwrap();
        let log = Seen::read(seg, "2024-05-01T12:00:03Z token=", "", true);
        assert_eq!(log, Some(Seen::time(1_714_564_803, "log")));
        // Dates in code are not when a key leaked.
        assert_eq!(
            Seen::read(seg, "2024-05-01T12:00:03Z token=", "", false),
            None
        );
        let commit = json!([
            {"kind": "commit", "id": "ab12", "date": "2024-04-30T09:00:00+00:00"},
            {"kind": "file", "path": "app.env"}
        ]);
        assert_eq!(
            Seen::read(commit.as_array().unwrap(), "", "", false),
            Some(Seen::time(1_714_467_600, "commit"))
        );
        let epoch = json!([{"kind": "commit", "timestamp": 1_714_467_600}]);
        assert_eq!(
            Seen::read(epoch.as_array().unwrap(), "", "", false),
            Some(Seen::time(1_714_467_600, "commit"))
        );
        let layer = json!([
            {"kind": "file", "path": "img.tar"},
            {"kind": "layer", "digest": "sha256:ab", "index": 3},
            {"kind": "entry", "path": "app/.env"}
        ]);
        let seen = Seen::read(layer.as_array().unwrap(), "", "", false);
        assert_eq!(seen, Some(Seen::Layer { index: 3 }));
        let a = Seen::Layer { index: 1 };
        assert_eq!(a.compare(&Seen::Layer { index: 3 }), Some(Ordering::Less));
        assert_eq!(a.compare(&Seen::time(0, "log")), None);
        assert_eq!(
            serde_json::to_value(Seen::time(0, "log")).unwrap(),
            json!({"by": "time", "at": "1970-01-01T00:00:00Z", "unix": 0, "from": "log"})
        );
    }
}
