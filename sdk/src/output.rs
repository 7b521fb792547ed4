//! Collecting output sets and publishing them to the host.

use crate::alloc_bump::{alloc_bytes, alloc_slice};
use crate::{Inputs, Item};

/// A handle to one output set of an [`Outputs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetId(usize);

/// Output set descriptor, ABI v1 layout (16 bytes).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct SetDesc {
    name_ptr: u32,
    name_len: u32,
    items: u32,
    count: u32,
}

/// Item descriptor, ABI v1 layout (24 bytes).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct ItemDesc {
    name_ptr: u32,
    name_len: u32,
    key: u64,
    data_ptr: u32,
    data_len: u32,
}

/// Output descriptor, ABI v1 layout (16 bytes).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct OutputDesc {
    set_count: u32,
    sets: u32,
    error_ptr: u32,
    error_len: u32,
}

/// A growable array in the arena (old storage is abandoned on growth).
struct Grow<T: Copy + Default + 'static> {
    buf: &'static mut [T],
    len: usize,
}

impl<T: Copy + Default + 'static> Grow<T> {
    fn new() -> Self {
        Grow {
            buf: &mut [],
            len: 0,
        }
    }

    fn push(&mut self, value: T) {
        if self.len == self.buf.len() {
            let cap = if self.len < 4 { 4 } else { self.len * 2 };
            let bigger = alloc_slice(cap, T::default());
            bigger[..self.len].copy_from_slice(&self.buf[..self.len]);
            self.buf = bigger;
        }
        self.buf[self.len] = value;
        self.len += 1;
    }

    fn as_slice(&self) -> &[T] {
        &self.buf[..self.len]
    }
}

/// An output set being built.
struct SetBuilder {
    name: &'static str,
    items: Grow<ItemDesc>,
}

/// The outputs of one call: named sets of items, published to the host when the
/// function returns.
pub struct Outputs {
    sets: [Option<SetBuilder>; MAX_SETS],
    count: usize,
}

/// Most output sets one function may report.
const MAX_SETS: usize = 16;

fn addr<T: ?Sized>(r: &T) -> u32 {
    r as *const T as *const u8 as usize as u32
}

/// Copies `s` into the arena (unless it is empty).
fn keep(bytes: &[u8]) -> &'static [u8] {
    if bytes.is_empty() {
        return &[];
    }
    let copy = alloc_bytes(bytes.len());
    copy.copy_from_slice(bytes);
    copy
}

impl Outputs {
    pub(crate) fn new() -> Self {
        const NONE: Option<SetBuilder> = None;
        Outputs {
            sets: [NONE; MAX_SETS],
            count: 0,
        }
    }

    /// The output set called `name`, created (empty) if it does not exist yet.
    /// Sets created but left empty are reported as empty sets.
    ///
    /// Traps if more than 16 distinct output sets are created.
    pub fn set(&mut self, name: &str) -> SetId {
        for (i, s) in self.sets[..self.count].iter().enumerate() {
            if let Some(s) = s {
                if s.name == name {
                    return SetId(i);
                }
            }
        }
        if self.count == MAX_SETS {
            crate::alloc_bump::trap();
        }
        let name = keep(name.as_bytes());
        self.sets[self.count] = Some(SetBuilder {
            // `name` is a copy of a `&str`, so it is UTF-8.
            name: core::str::from_utf8(name).unwrap_or(""),
            items: Grow::new(),
        });
        self.count += 1;
        SetId(self.count - 1)
    }

    fn builder(&mut self, set: SetId) -> &mut SetBuilder {
        match self.sets.get_mut(set.0) {
            Some(Some(b)) => b,
            // A `SetId` only comes from `set`, so this cannot happen.
            _ => crate::alloc_bump::trap(),
        }
    }

    /// Appends an item that refers to `'static` bytes without copying them, for
    /// example an input item (the input region lives for the whole call).
    pub fn push_item(&mut self, set: SetId, item: Item) {
        self.builder(set).items.push(ItemDesc {
            name_ptr: addr(item.name),
            name_len: item.name.len() as u32,
            key: item.key,
            data_ptr: addr(item.data),
            data_len: item.data.len() as u32,
        });
    }

    /// Appends an item, copying `name` and `data`.
    pub fn push(&mut self, set: SetId, name: &str, key: u64, data: &[u8]) {
        let name = keep(name.as_bytes());
        let data = keep(data);
        self.push_raw(set, name, key, data);
    }

    /// Appends an item whose `len` bytes of data the caller fills in through the
    /// returned slice (zeroed), saving a copy.
    pub fn push_with(&mut self, set: SetId, name: &str, key: u64, len: usize) -> &'static mut [u8] {
        let name = keep(name.as_bytes());
        let data = alloc_bytes(len);
        self.push_raw(set, name, key, data);
        data
    }

    fn push_raw(&mut self, set: SetId, name: &[u8], key: u64, data: &[u8]) {
        self.builder(set).items.push(ItemDesc {
            name_ptr: addr(name),
            name_len: name.len() as u32,
            key,
            data_ptr: addr(data),
            data_len: data.len() as u32,
        });
    }

    /// Writes the output descriptor and stores its address in the region header.
    pub(crate) fn publish(&self, inputs: &Inputs, error: Option<&'static str>) {
        let descs = alloc_slice(self.count, SetDesc::default());
        for (d, s) in descs.iter_mut().zip(self.sets[..self.count].iter()) {
            if let Some(s) = s {
                let items = s.items.as_slice();
                *d = SetDesc {
                    name_ptr: addr(s.name),
                    name_len: s.name.len() as u32,
                    items: addr(items),
                    count: items.len() as u32,
                };
            }
        }
        let error = error.unwrap_or("");
        let out = &mut alloc_slice(1, OutputDesc::default())[0];
        *out = OutputDesc {
            set_count: self.count as u32,
            sets: addr(&descs[..]),
            error_ptr: addr(error),
            error_len: error.len() as u32,
        };
        let slot = (inputs.region() + 20) as usize as *mut u32;
        // SAFETY: the slot is inside the region header the host placed (ABI v1),
        // which is guest memory that nothing else refers to mutably; the address
        // is 4-byte aligned because the region is page-aligned.
        unsafe { slot.write(addr(out)) };
    }
}
