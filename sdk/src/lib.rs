//! Write Pappus guest functions in Rust.
//!
//! A Pappus function is a WebAssembly module that imports nothing: the host writes
//! its input sets into linear memory, calls its entry, and reads back the output
//! sets it reports (guest ABI v1, `docs/abi.md` in the Pappus repository). This
//! crate is the guest side of that contract: [`entry!`] exports the entry, [`Inputs`]
//! iterates input sets and items (name, key, bytes) without copying, [`Outputs`]
//! collects output items by set name, [`fail!`] builds an [`Error`] with a
//! formatted message, and [`BumpAllocator`] hands out memory from
//! fresh pages obtained with `memory.grow`, so it never overlaps the region the host
//! placed. Each call runs in a fresh instance, so nothing is ever freed.
//!
//! It is `no_std` and builds for `wasm32-unknown-unknown` with the guest toolchain
//! (`docs/toolchain.md` in the Pappus repository).
//!
//! # Example
//!
//! ```ignore
//! #![no_std]
//! use pappus_guest::{entry, Inputs, Outputs, Result};
//!
//! // `upper (in) => (out)`: every item's data ASCII-uppercased.
//! fn upper(inputs: &Inputs, out: &mut Outputs) -> Result<()> {
//!     let set = out.set("out");
//!     for item in inputs.try_items("in")? {
//!         let data = out.push_with(set, item.name, item.key, item.data.len());
//!         data.copy_from_slice(item.data);
//!         data.make_ascii_uppercase();
//!     }
//!     Ok(())
//! }
//! // The set names are embedded in the module: the host checks a composition's
//! // `function upper (in) => (out);` against them at registration.
//! entry!(upper, inputs = ["in"], outputs = ["out"]);
//! ```
//!
//! A panic's message (with the `panic-handler` feature, on by default) reaches the
//! host's error for the call, as does the message of a returned [`Error`].
#![no_std]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod alloc_bump;
mod input;
mod message;
mod output;
mod panic;
#[doc(hidden)]
pub mod signature;

pub use alloc_bump::{alloc_bytes, alloc_slice, alloc_zeroed, BumpAllocator, Zeroable};
pub use input::{InputSet, Inputs, Item, ItemIter, SetIter};
pub use output::{Outputs, SetId};

/// The ABI version this crate implements.
pub const ABI_VERSION: u32 = 1;
/// The region header's magic number (`b"PPUS"` little-endian).
pub const ABI_MAGIC: u32 = 0x5355_5050;

/// Status: success.
pub const STATUS_OK: u32 = 0;
/// Status: generic failure.
pub const STATUS_FAILED: u32 = 1;
/// Status: the inputs could not be understood.
pub const STATUS_BAD_INPUT: u32 = 2;
/// Status: the host speaks an ABI version this crate does not.
pub const STATUS_UNSUPPORTED_ABI: u32 = 3;

/// A failure a function reports to the host: a non-zero status and a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// The status returned to the host (never 0).
    pub status: u32,
    /// The message shown to the host.
    pub message: &'static str,
}

impl Error {
    /// A generic failure ([`STATUS_FAILED`]).
    pub const fn failed(message: &'static str) -> Self {
        Error {
            status: STATUS_FAILED,
            message,
        }
    }

    /// The inputs could not be understood ([`STATUS_BAD_INPUT`]).
    pub const fn bad_input(message: &'static str) -> Self {
        Error {
            status: STATUS_BAD_INPUT,
            message,
        }
    }

    /// A failure with its own status (0 is turned into [`STATUS_FAILED`]).
    pub const fn new(status: u32, message: &'static str) -> Self {
        Error {
            status: if status == 0 { STATUS_FAILED } else { status },
            message,
        }
    }

    /// A failure with its own status and a formatted message, usually written
    /// with [`fail!`]. The text is formatted into the SDK's arena (no `alloc`
    /// needed; it lives until the call ends) and cut at 4096 bytes, the most the
    /// host reads. Traps if memory cannot grow, like any allocation.
    pub fn formatted(status: u32, message: core::fmt::Arguments<'_>) -> Self {
        Error::new(status, message::format(message))
    }
}

/// An [`Error`] with a formatted message: `fail!("no row {}", n)` is a generic
/// failure ([`STATUS_FAILED`]), `fail!(status = STATUS_BAD_INPUT, "...", ...)`
/// carries its own status. See [`Error::formatted`].
///
/// ```ignore
/// return Err(pappus_guest::fail!("matrix `{}` is {} bytes, not {}", item.name, len, want));
/// ```
#[macro_export]
macro_rules! fail {
    (status = $status:expr, $($fmt:tt)+) => {
        $crate::Error::formatted($status, ::core::format_args!($($fmt)+))
    };
    ($($fmt:tt)+) => {
        $crate::Error::formatted($crate::STATUS_FAILED, ::core::format_args!($($fmt)+))
    };
}

/// The result a function returns.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Exports `pappus_entry`, calling `f(&Inputs, &mut Outputs) -> Result<()>`,
/// and, when given the function's input and output set names, embeds them in the
/// module (the `pappus.signature` custom section, `docs/abi.md`).
///
/// With the names, registering a composition whose `function` declaration names
/// other sets fails, naming both lists; without them the module still works and
/// the host warns that it cannot check the declaration.
///
/// ```ignore
/// // `function upper (in) => (out);`
/// pappus_guest::entry!(upper, inputs = ["in"], outputs = ["out"]);
/// // Unchecked: no signature embedded.
/// pappus_guest::entry!(noop);
/// ```
#[macro_export]
macro_rules! entry {
    ($f:path) => {
        #[no_mangle]
        pub extern "C" fn pappus_entry(region: u32) -> u32 {
            $crate::run(region, $f)
        }
    };
    ($f:path, inputs = [$($i:literal),* $(,)?], outputs = [$($o:literal),* $(,)?] $(,)?) => {
        $crate::entry!($f);
        const _: () = {
            const INPUTS: &[&str] = &[$($i),*];
            const OUTPUTS: &[&str] = &[$($o),*];
            const LEN: usize = $crate::signature::encoded_len(INPUTS, OUTPUTS);
            #[used]
            #[link_section = "pappus.signature"]
            static SIGNATURE: [u8; LEN] = $crate::signature::encode::<LEN>(INPUTS, OUTPUTS);
        };
    };
}

/// Runs `f` for the input region at `region` and reports its outcome to the host.
/// [`entry!`] calls this; call it yourself only to write the entry by hand.
pub fn run(region: u32, f: fn(&Inputs, &mut Outputs) -> Result<()>) -> u32 {
    panic::enter(region);
    let inputs = match Inputs::from_region(region) {
        Some(inputs) => inputs,
        None => return STATUS_UNSUPPORTED_ABI,
    };
    let mut outputs = Outputs::new();
    let status = match f(&inputs, &mut outputs) {
        Ok(()) => {
            outputs.publish(&inputs, None);
            STATUS_OK
        }
        Err(e) => {
            outputs.publish(&inputs, Some(e.message));
            if e.status == 0 {
                STATUS_FAILED
            } else {
                e.status
            }
        }
    };
    status
}

#[cfg(all(feature = "global-allocator", target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: BumpAllocator = BumpAllocator::new();
