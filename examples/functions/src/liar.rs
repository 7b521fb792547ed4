//! `liar`: a hostile function that reports one output set whose only item's data
//! pointer lies far outside its memory (100 bytes at 0xFFFF_FF00). The host must
//! answer with an ABI violation, never read it.
#![no_std]

#[repr(C)]
struct Lies {
    // Output descriptor.
    set_count: u32,
    sets: u32,
    error_ptr: u32,
    error_len: u32,
    // One set descriptor.
    name_ptr: u32,
    name_len: u32,
    items: u32,
    item_count: u32,
    // One item descriptor.
    item_name_ptr: u32,
    item_name_len: u32,
    key: u64,
    data_ptr: u32,
    data_len: u32,
}

static NAME: &[u8] = b"out";
static mut LIES: Lies = Lies {
    set_count: 1,
    sets: 0,
    error_ptr: 0,
    error_len: 0,
    name_ptr: 0,
    name_len: 3,
    items: 0,
    item_count: 1,
    item_name_ptr: 0,
    item_name_len: 3,
    key: 0,
    data_ptr: 0xFFFF_FF00,
    data_len: 100,
};

#[no_mangle]
pub extern "C" fn pappus_entry(region: u32) -> u32 {
    // SAFETY: single-threaded guest; `region + 20` is the header's output slot.
    unsafe {
        let base = core::ptr::addr_of!(LIES) as usize as u32;
        LIES.sets = base + 16;
        LIES.items = base + 32;
        LIES.name_ptr = NAME.as_ptr() as usize as u32;
        LIES.item_name_ptr = NAME.as_ptr() as usize as u32;
        ((region + 20) as usize as *mut u32).write(base);
    }
    0
}

pub use pappus_guest::ABI_VERSION;
