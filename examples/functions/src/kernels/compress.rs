//! The pure kernel of `compress`: a byte-oriented LZ77 compressor in the style of
//! the LZ4 block format, with a 4096-entry hash table of earlier positions. The
//! guest (`../compress.rs`) and the native build used by the benchmark baselines
//! (`benches/baselines/native.rs`) both include this file. `no_std`, no
//! allocation (callers pass the buffers).
//!
//! Format: a sequence of blocks, each a token byte (high nibble: literal count,
//! low nibble: match length minus 4; 15 means "more length bytes follow", each
//! adding up to 255), the literals, then, except in the last block, the match
//! offset (u16 little-endian, 1..=65535) and the extra match-length bytes.

/// Number of entries of the hash table that [`compress`] needs.
pub const TABLE_LEN: usize = 1 << HASH_BITS;

const HASH_BITS: u32 = 12;
const MIN_MATCH: usize = 4;
const MAX_OFFSET: usize = 65535;

/// An upper bound of the compressed size of `len` input bytes: the size `out`
/// must have for [`compress`].
pub fn max_compressed_len(len: usize) -> usize {
    len + len / 255 + 16
}

fn read32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn read64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// The length of the match between the bytes at `c` and at `i` (`c < i`), whose
/// first [`MIN_MATCH`] bytes are known to be equal: it may run up to the end of
/// `input`. Compares eight bytes at a time while they last; the first differing
/// byte of a word is its lowest set byte of the two words' XOR.
fn match_len(input: &[u8], c: usize, i: usize) -> usize {
    let mut len = MIN_MATCH;
    while i + len + 8 <= input.len() {
        let diff = read64(input, c + len) ^ read64(input, i + len);
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while i + len < input.len() && input[c + len] == input[i + len] {
        len += 1;
    }
    len
}

fn hash(v: u32) -> usize {
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

fn put_len(out: &mut [u8], mut at: usize, mut value: usize) -> usize {
    while value >= 255 {
        out[at] = 255;
        at += 1;
        value -= 255;
    }
    out[at] = value as u8;
    at + 1
}

/// Writes one block: `literals`, then the match `(offset, length)` if any.
///
/// Inlined into [`compress`]'s loop in the wasm32 build, where a call there
/// costs the loop registers under cranelift (docs/performance.md, "Levers").
/// The native build keeps its compiler's choice, which is faster there.
#[cfg_attr(target_arch = "wasm32", inline(always))]
fn block(out: &mut [u8], mut at: usize, literals: &[u8], found: Option<(usize, usize)>) -> usize {
    let lit = literals.len();
    let extra = match found {
        Some((_, len)) => len - MIN_MATCH,
        None => 0,
    };
    out[at] = ((lit.min(15) as u8) << 4) | extra.min(15) as u8;
    at += 1;
    if lit >= 15 {
        at = put_len(out, at, lit - 15);
    }
    out[at..at + lit].copy_from_slice(literals);
    at += lit;
    if let Some((offset, _)) = found {
        out[at..at + 2].copy_from_slice(&(offset as u16).to_le_bytes());
        at += 2;
        if extra >= 15 {
            at = put_len(out, at, extra - 15);
        }
    }
    at
}

/// Compresses `input` into `out` (at least [`max_compressed_len`] bytes) using
/// `table` ([`TABLE_LEN`] entries, any contents) as scratch; returns the number of
/// bytes written.
///
/// Never inlined in the wasm32 build: as a function of its own rather than part
/// of the guest's entry, cranelift compiles its main loop with fewer spills
/// (docs/performance.md, "Levers"). The native build keeps its compiler's choice.
#[cfg_attr(target_arch = "wasm32", inline(never))]
pub fn compress(input: &[u8], table: &mut [u32], out: &mut [u8]) -> usize {
    for slot in table.iter_mut() {
        *slot = 0;
    }
    let mut at = 0;
    let mut anchor = 0;
    let mut i = 0;
    while i + MIN_MATCH <= input.len() {
        let v = read32(input, i);
        let h = hash(v);
        // Positions are stored plus one so that 0 means "empty".
        let candidate = table[h] as usize;
        table[h] = (i + 1) as u32;
        if candidate > 0 {
            let c = candidate - 1;
            if i - c <= MAX_OFFSET && read32(input, c) == v {
                let len = match_len(input, c, i);
                at = block(out, at, &input[anchor..i], Some((i - c, len)));
                i += len;
                anchor = i;
                continue;
            }
        }
        i += 1;
    }
    block(out, at, &input[anchor..], None)
}
