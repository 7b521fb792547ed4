//! [`Admitted`]: an invocation admitted before its inputs exist.
//!
//! Admission and running are two steps so that a server can take the
//! execution slot (or queue place) first and read the request body only once
//! it has one: an overloaded engine then refuses without the body being read.

use std::sync::Arc;

use pappus_io::Authority;

use crate::executor::resolved::Resolved;
use crate::executor::{Core, Slot};
use crate::future::{shut_down, InvocationFuture};
use crate::{Invocation, Result, Sets, WasiContext};

/// An admitted invocation of one composition, from
/// [`Tenant::admit`](crate::Tenant::admit). It holds its execution slot, or its place in the
/// queue, until it runs; dropping it unused gives the slot back.
#[must_use = "an admitted invocation holds its slot until it runs or is dropped"]
pub struct Admitted {
    core: Arc<Core>,
    resolved: Arc<Resolved>,
    slot: Slot,
    /// The tenant's I/O authority; `None`: the I/O runtime's default.
    authority: Option<Arc<Authority>>,
}

impl Admitted {
    pub(crate) fn new(
        core: Arc<Core>,
        resolved: Arc<Resolved>,
        slot: Slot,
        authority: Option<Arc<Authority>>,
    ) -> Admitted {
        Admitted {
            core,
            resolved,
            slot,
            authority,
        }
    }

    /// The composition's name.
    pub fn composition(&self) -> &str {
        &self.resolved.plan.name
    }

    /// Runs the invocation with `inputs` (by input set name; a missing set is
    /// empty) and answers a future of its outputs, as
    /// [`Tenant::invoke_async`](crate::Tenant::invoke_async): dropping the
    /// future before its answer cancels the invocation.
    pub fn invoke_async(self, inputs: Sets) -> InvocationFuture {
        self.start(inputs, None)
    }

    /// [`invoke_async`](Self::invoke_async) with the seed and time WASI
    /// functions see given, as [`Tenant::invoke_with`](crate::Tenant::invoke_with).
    pub fn invoke_async_with(self, inputs: Sets, wasi: WasiContext) -> InvocationFuture {
        self.start(inputs, Some(wasi))
    }

    /// Runs the invocation and waits for its answer on this thread.
    pub(crate) fn invoke(self, inputs: Sets, wasi: Option<WasiContext>) -> Result<Invocation> {
        let (receiver, _cancel) =
            self.core
                .run(self.slot, self.resolved, inputs, wasi, self.authority)?;
        receiver.wait().unwrap_or_else(|| Err(shut_down()))
    }

    pub(crate) fn start(self, inputs: Sets, wasi: Option<WasiContext>) -> InvocationFuture {
        let core = self.core.clone();
        match core.run(self.slot, self.resolved, inputs, wasi, self.authority) {
            Ok((receiver, cancel)) => InvocationFuture::started(receiver, cancel, core),
            Err(e) => InvocationFuture::failed(e),
        }
    }
}
