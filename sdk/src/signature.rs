//! The `pappus.signature` custom section: a module's input and output set names,
//! embedded at compile time by [`entry!`](crate::entry) so that the host can check
//! a composition's `function` declaration against the module at registration.
//!
//! Encoding (version 1, `docs/abi.md`): one byte `1`, then the input names, then
//! the output names; each list is a `u32` little-endian count followed by that many
//! names, each a `u32` little-endian byte length and the UTF-8 bytes.

/// The section's name.
pub const SECTION: &str = "pappus.signature";
/// The encoding version written as the section's first byte.
pub const VERSION: u8 = 1;

const fn list_len(names: &[&str]) -> usize {
    let mut len = 4;
    let mut i = 0;
    while i < names.len() {
        len += 4 + names[i].len();
        i += 1;
    }
    len
}

/// Length of the encoding of `inputs` and `outputs`.
pub const fn encoded_len(inputs: &[&str], outputs: &[&str]) -> usize {
    1 + list_len(inputs) + list_len(outputs)
}

const fn put_u32<const N: usize>(out: &mut [u8; N], at: usize, value: u32) -> usize {
    let bytes = value.to_le_bytes();
    let mut i = 0;
    while i < 4 {
        out[at + i] = bytes[i];
        i += 1;
    }
    at + 4
}

const fn put_list<const N: usize>(out: &mut [u8; N], mut at: usize, names: &[&str]) -> usize {
    at = put_u32(out, at, names.len() as u32);
    let mut i = 0;
    while i < names.len() {
        let name = names[i].as_bytes();
        at = put_u32(out, at, name.len() as u32);
        let mut j = 0;
        while j < name.len() {
            out[at] = name[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    at
}

/// The section's bytes; `N` must be [`encoded_len`]`(inputs, outputs)` (a
/// compile-time error otherwise, since the macro evaluates it in a `static`).
pub const fn encode<const N: usize>(inputs: &[&str], outputs: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    out[0] = VERSION;
    let at = put_list(&mut out, 1, inputs);
    let at = put_list(&mut out, at, outputs);
    assert!(
        at == N,
        "the signature's length is encoded_len(inputs, outputs)"
    );
    out
}
