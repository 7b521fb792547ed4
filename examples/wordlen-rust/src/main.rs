//! wordlen: groups the words of every document by length.
//!
//! An ordinary Rust `std` program. Run as a Pappus WASI function
//! (`docs/wasi.md`), it reads every file of the input set `Docs` (the directory
//! `/Docs`), splits the text into words with the `unicode-segmentation` crate,
//! and writes one file per word length to the output set `ByLength`:
//! `/ByLength/<n>.txt` holds `count word` lines, most frequent first, and its key
//! (written to `/.keys/ByLength/<n>.txt`) is `n`, so a `keyed` consumer gets one
//! shard per length.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::Path;

use unicode_segmentation::UnicodeSegmentation;

fn main() -> io::Result<()> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut documents = 0;
    for entry in fs::read_dir("/Docs")? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        documents += 1;
        let text = fs::read_to_string(&path)?;
        for word in text.unicode_words() {
            *counts.entry(word.to_lowercase()).or_default() += 1;
        }
    }

    // Word lengths in characters, each with its words sorted by count, then text.
    let mut by_length: BTreeMap<usize, Vec<(u64, String)>> = BTreeMap::new();
    for (word, count) in counts {
        by_length
            .entry(word.chars().count())
            .or_default()
            .push((count, word));
    }
    let keys = Path::new("/.keys/ByLength");
    for (length, mut words) in by_length {
        words.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let lines: String = words
            .iter()
            .map(|(count, word)| format!("{count} {word}\n"))
            .collect();
        let name = format!("{length}.txt");
        fs::write(Path::new("/ByLength").join(&name), lines)?;
        fs::write(keys.join(&name), length.to_string())?;
    }
    eprintln!("wordlen: {documents} documents");
    Ok(())
}
