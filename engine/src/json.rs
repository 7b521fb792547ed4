//! The JSON form of sets, shared by `pappus run`, the daemon and embedders.
//!
//! ```json
//! {"SET": [{"name": "a", "key": 3, "data": "text"}, {"data_base64": "AAEC"}], "OTHER": []}
//! ```
//!
//! An item's bytes are given as `data` (UTF-8 text) or `data_base64` (standard
//! base64, padded); a missing `key` means 0, a missing `name` means `""` and
//! missing bytes mean an empty item. Unknown fields are refused so that typos
//! do not pass silently. [`render_sets`] writes `data` when the bytes are valid
//! UTF-8 and `data_base64` otherwise, and sorts items by (key, name, data) so
//! that output is deterministic. See `docs/json.md`.

use std::fmt::Write as _;

use base64::Engine as _;
use serde::Deserialize;

use crate::{Bytes, Error, Item, Result, Sets};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonItem {
    #[serde(default)]
    name: String,
    #[serde(default)]
    key: u64,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    data_base64: Option<String>,
}

/// Parses sets from their JSON form.
///
/// # Errors
/// [`Error::InvalidInput`] for malformed JSON, a value that is not an array of
/// items, an item with both `data` and `data_base64`, or invalid base64.
pub fn parse_sets(text: &[u8]) -> Result<Sets> {
    let raw: std::collections::BTreeMap<String, Vec<JsonItem>> = serde_json::from_slice(text)
        .map_err(|e| Error::invalid_input(format!("inputs are not valid set JSON: {e}")))?;
    let mut sets = Sets::new();
    for (set, items) in raw {
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let data = match (item.data, item.data_base64) {
                (Some(_), Some(_)) => {
                    return Err(Error::invalid_input(format!(
                        "set `{set}` item {index} has both `data` and `data_base64`"
                    )))
                }
                (Some(text), None) => Bytes::from(text.into_bytes()),
                (None, Some(b64)) => Bytes::from(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.as_bytes())
                        .map_err(|e| {
                            Error::invalid_input(format!(
                                "set `{set}` item {index} has invalid `data_base64`: {e}"
                            ))
                        })?,
                ),
                (None, None) => Bytes::new(),
            };
            out.push(Item::new(item.name, item.key, data));
        }
        sets.insert(set, out);
    }
    Ok(sets)
}

/// Renders sets in their JSON form: sets by name, items sorted by
/// (key, name, data), one item per line, ending with a newline.
pub fn render_sets(sets: &Sets) -> String {
    let mut out = String::from("{");
    let mut first_set = true;
    for (name, items) in sets {
        if !first_set {
            out.push(',');
        }
        first_set = false;
        out.push_str("\n  ");
        out.push_str(&json_string(name));
        out.push_str(": [");
        let mut sorted: Vec<&Item> = items.iter().collect();
        sorted.sort_by(|a, b| (a.key, &a.name, &a.data).cmp(&(b.key, &b.name, &b.data)));
        for (i, item) in sorted.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n    ");
            render_item(&mut out, item);
        }
        if !sorted.is_empty() {
            out.push_str("\n  ");
        }
        out.push(']');
    }
    if !sets.is_empty() {
        out.push('\n');
    }
    out.push_str("}\n");
    out
}

fn render_item(out: &mut String, item: &Item) {
    let _ = write!(
        out,
        "{{\"name\": {}, \"key\": {}, ",
        json_string(&item.name),
        item.key
    );
    match std::str::from_utf8(&item.data) {
        Ok(text) => {
            let _ = write!(out, "\"data\": {}}}", json_string(text));
        }
        Err(_) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&item.data);
            let _ = write!(out, "\"data_base64\": \"{b64}\"}}");
        }
    }
}

fn json_string(s: &str) -> String {
    // Serialising a &str cannot fail.
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn round_trip_and_defaults() {
        let sets = parse_sets(
            br#"{"A": [{"name": "x", "key": 3, "data": "hi"}, {"data_base64": "AP8="}, {}], "B": []}"#,
        )
        .unwrap();
        assert_eq!(sets["A"][0], Item::new("x", 3, "hi"));
        assert_eq!(sets["A"][1], Item::new("", 0, vec![0u8, 255]));
        assert_eq!(sets["A"][2], Item::new("", 0, ""));
        assert!(sets["B"].is_empty());
        let text = render_sets(&sets);
        assert_eq!(
            text,
            "{\n  \"A\": [\n    {\"name\": \"\", \"key\": 0, \"data\": \"\"},\n    \
             {\"name\": \"\", \"key\": 0, \"data_base64\": \"AP8=\"},\n    \
             {\"name\": \"x\", \"key\": 3, \"data\": \"hi\"}\n  ],\n  \"B\": []\n}\n"
        );
        let mut sorted = sets.clone();
        for items in sorted.values_mut() {
            items.sort_by(|a, b| (a.key, &a.name, &a.data).cmp(&(b.key, &b.name, &b.data)));
        }
        assert_eq!(parse_sets(text.as_bytes()).unwrap(), sorted);
    }

    #[test]
    fn empty_and_escapes() {
        assert_eq!(render_sets(&Sets::new()), "{}\n");
        let mut sets = Sets::new();
        sets.insert("s\"".into(), vec![Item::new("a\nb", 1, "q\"")]);
        let text = render_sets(&sets);
        assert_eq!(parse_sets(text.as_bytes()).unwrap(), sets);
    }

    #[test]
    fn refusals() {
        for bad in [
            &br#"{"A": [{"data": "x", "data_base64": "eA=="}]}"#[..],
            br#"{"A": [{"data_base64": "!!"}]}"#,
            br#"{"A": [{"key": -1}]}"#,
            br#"{"A": [{"nmae": "x"}]}"#,
            br#"{"A": {}}"#,
            br#"[]"#,
            b"not json",
        ] {
            let err = parse_sets(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                "invalid_input",
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
