//! The reversible encoding between item names and file paths (`docs/wasi.md`).
//!
//! An item name becomes a relative path under its set's directory. A name whose
//! `/`-separated segments are all usable file names (non-empty, not `.` or `..`)
//! keeps its slashes, so item `a/b.txt` is the file `a/b.txt`; any other name is one
//! file with its slashes escaped. Escapes are `%XX` (two hex digits) for `%`, `/`
//! and NUL, plus `%2E` for the dots of a name that is exactly `.` or `..`; the empty
//! name is the file `%`. [`decode`] inverts [`encode`] and accepts any file name a
//! guest creates (a `%` not followed by two hex digits stays as it is).

/// The path segments (relative to the set's directory) of item `name`.
pub(crate) fn encode(name: &str) -> Vec<String> {
    let splittable = !name.is_empty() && name.split('/').all(plain_segment);
    if splittable {
        name.split('/').map(|s| escape(s, false)).collect()
    } else {
        vec![escape(name, true)]
    }
}

/// The item name of the file at `segments` (relative to its set's directory).
pub(crate) fn decode(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| unescape(s))
        .collect::<Vec<_>>()
        .join("/")
}

/// Encodes a name as a single segment (set names: slashes always escaped).
pub(crate) fn encode_segment(name: &str) -> String {
    escape(name, true)
}

fn plain_segment(segment: &str) -> bool {
    !segment.is_empty() && segment != "." && segment != ".."
}

fn escape(segment: &str, slashes: bool) -> String {
    match segment {
        "" => return "%".to_owned(),
        "." => return "%2E".to_owned(),
        ".." => return "%2E%2E".to_owned(),
        _ => {}
    }
    let mut out = String::with_capacity(segment.len());
    for c in segment.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\0' => out.push_str("%00"),
            '/' if slashes => out.push_str("%2F"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(segment: &str) -> String {
    if segment == "%" {
        return String::new();
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|b| b.is_ascii());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    // Only ASCII bytes are ever unescaped into valid UTF-8 input: still valid.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(name: &str) -> String {
        let segments = encode(name);
        let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
        decode(&refs)
    }

    #[test]
    fn names_survive_encoding() {
        for name in [
            "readme.txt",
            "a/b.txt",
            "",
            ".",
            "..",
            "a//b",
            "/abs",
            "trail/",
            "50%",
            "%2F",
            "nul\0byte",
            "a/../b",
            "ünïcödé/名前",
        ] {
            assert_eq!(round_trip(name), name, "{name:?} -> {:?}", encode(name));
        }
    }

    #[test]
    fn plain_names_are_unchanged_and_odd_ones_are_one_file() {
        assert_eq!(encode("a/b.txt"), ["a", "b.txt"]);
        assert_eq!(encode("a//b"), ["a%2F%2Fb"]);
        assert_eq!(encode(""), ["%"]);
        assert_eq!(encode(".."), ["%2E%2E"]);
        assert_eq!(decode(&["100%"]), "100%");
    }
}
