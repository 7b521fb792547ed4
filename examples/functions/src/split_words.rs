//! `split_words (text) => (words)`: for each input item, one output item per
//! whitespace-separated word, in order: name = the word, key = the word's length in
//! bytes, data = the word. Whitespace is ASCII whitespace.
#![no_std]

use pappus_example_functions::input;
use pappus_guest::{entry, Error, Inputs, Item, Outputs, Result};

fn split_words(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
    let set = out.set("words");
    for item in input(inputs, "text", 0) {
        for word in item.data.split(|b| b.is_ascii_whitespace()) {
            if word.is_empty() {
                continue;
            }
            let name = core::str::from_utf8(word)
                .map_err(|_| Error::bad_input("split_words: a word is not valid UTF-8"))?;
            // Words are slices of the input region: no copy needed.
            out.push_item(
                set,
                Item {
                    name,
                    key: word.len() as u64,
                    data: word,
                },
            );
        }
    }
    Ok(())
}

entry!(split_words, inputs = ["text"], outputs = ["words"]);
