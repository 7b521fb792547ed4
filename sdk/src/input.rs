//! Reading the input region the host placed (zero-copy).

use core::fmt;

use crate::{Error, Result, ABI_MAGIC, ABI_VERSION, STATUS_BAD_INPUT};

/// Reads a little-endian `u32` at guest address `addr`.
fn u32_at(addr: u32) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(bytes_at(addr, 4));
    u32::from_le_bytes(b)
}

fn u64_at(addr: u32) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(bytes_at(addr, 8));
    u64::from_le_bytes(b)
}

/// The `len` bytes at guest address `addr`, which the host placed and which live
/// for the whole call.
fn bytes_at(addr: u32, len: u32) -> &'static [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: in wasm32 a guest address is a pointer into linear memory. The host
    // wrote these addresses and lengths (ABI v1) inside the input region, which is
    // never freed or reused during the call and which this crate never mutates.
    // An address outside memory traps rather than reading anything else.
    unsafe { core::slice::from_raw_parts(addr as usize as *const u8, len as usize) }
}

fn str_at(addr: u32, len: u32) -> &'static str {
    // The host only writes names that were Rust `String`s, so they are UTF-8; still,
    // do not trust it blindly.
    core::str::from_utf8(bytes_at(addr, len)).unwrap_or("")
}

/// The input sets of one call.
#[derive(Clone, Copy, Debug)]
pub struct Inputs {
    region: u32,
    set_count: u32,
    sets: u32,
}

impl Inputs {
    /// Reads the header of the region at `region`; `None` if its magic or version
    /// is not ABI v1.
    pub fn from_region(region: u32) -> Option<Inputs> {
        if region == 0 || u32_at(region) != ABI_MAGIC || u32_at(region + 4) != ABI_VERSION {
            return None;
        }
        Some(Inputs {
            region,
            set_count: u32_at(region + 12),
            sets: u32_at(region + 16),
        })
    }

    /// The region's address (for [`Outputs`](crate::Outputs) to publish into).
    pub(crate) fn region(&self) -> u32 {
        self.region
    }

    /// Number of input sets.
    pub fn len(&self) -> usize {
        self.set_count as usize
    }

    /// Whether there are no input sets.
    pub fn is_empty(&self) -> bool {
        self.set_count == 0
    }

    /// The `index`th input set.
    pub fn get(&self, index: usize) -> Option<InputSet> {
        if index >= self.len() {
            return None;
        }
        let d = self.sets + 16 * index as u32;
        Some(InputSet {
            name: str_at(u32_at(d), u32_at(d + 4)),
            items: u32_at(d + 8),
            count: u32_at(d + 12),
        })
    }

    /// Iterates over the input sets, in the order the host placed them.
    pub fn sets(&self) -> SetIter {
        SetIter {
            inputs: *self,
            next: 0,
        }
    }

    /// The input set called `name`, if the host passed one.
    pub fn set(&self, name: &str) -> Option<InputSet> {
        self.sets().find(|s| s.name == name)
    }

    /// The input set called `name`, or an error ([`STATUS_BAD_INPUT`]) naming
    /// the sets the host did pass: `no input set `x`; the inputs are: a, b`.
    /// Return it with `?` so that a declaration naming a set the function does
    /// not read fails loudly instead of reading nothing.
    pub fn require(&self, name: &str) -> Result<InputSet> {
        self.set(name).ok_or_else(|| {
            Error::formatted(
                STATUS_BAD_INPUT,
                format_args!("no input set `{name}`; the inputs are: {}", SetNames(*self)),
            )
        })
    }

    /// The items of the set called `name`, or the error of [`Inputs::require`].
    pub fn try_items(&self, name: &str) -> Result<ItemIter> {
        self.require(name).map(|set| set.items())
    }

    /// The items of the set called `name` (none if there is no such set; see
    /// [`Inputs::try_items`] to treat that as an error).
    pub fn items(&self, name: &str) -> ItemIter {
        match self.set(name) {
            Some(set) => set.items(),
            None => ItemIter {
                set: InputSet::EMPTY,
                next: 0,
            },
        }
    }
}

/// The input set names, comma-separated (`(none)` if there are none).
struct SetNames(Inputs);

impl fmt::Display for SetNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(none)");
        }
        for (i, set) in self.0.sets().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(set.name)?;
        }
        Ok(())
    }
}

/// Iterator over [`Inputs::sets`].
#[derive(Clone, Debug)]
pub struct SetIter {
    inputs: Inputs,
    next: usize,
}

impl Iterator for SetIter {
    type Item = InputSet;

    fn next(&mut self) -> Option<InputSet> {
        let set = self.inputs.get(self.next)?;
        self.next += 1;
        Some(set)
    }
}

/// One input set: a name and its items.
#[derive(Clone, Copy, Debug)]
pub struct InputSet {
    /// The set's name.
    pub name: &'static str,
    items: u32,
    count: u32,
}

impl InputSet {
    const EMPTY: InputSet = InputSet {
        name: "",
        items: 0,
        count: 0,
    };

    /// Number of items.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the set has no items.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `index`th item.
    pub fn get(&self, index: usize) -> Option<Item> {
        if index >= self.len() {
            return None;
        }
        let d = self.items + 24 * index as u32;
        Some(Item {
            name: str_at(u32_at(d), u32_at(d + 4)),
            key: u64_at(d + 8),
            data: bytes_at(u32_at(d + 16), u32_at(d + 20)),
        })
    }

    /// Iterates over the items, in the order the host placed them.
    pub fn items(&self) -> ItemIter {
        ItemIter {
            set: *self,
            next: 0,
        }
    }
}

/// Iterator over an input set's items.
#[derive(Clone, Debug)]
pub struct ItemIter {
    set: InputSet,
    next: usize,
}

impl Iterator for ItemIter {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let item = self.set.get(self.next)?;
        self.next += 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.set.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for ItemIter {}

/// One item, borrowed from the input region (or built by the function).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Item {
    /// The item's name.
    pub name: &'static str,
    /// The item's key.
    pub key: u64,
    /// The item's bytes.
    pub data: &'static [u8],
}
