//! One io_uring instance and the slab of operations in flight on it.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use io_uring::{opcode, squeue, types, IoUring, Probe};
use slab::Slab;

use super::op::{timespec, OpKind};

/// `user_data` of linked timeouts, whose completions carry no information we use.
const LINK_TIMEOUT: u64 = u64::MAX;

enum State {
    /// Submitted; the waker of the future waiting for it, once polled.
    Waiting(Option<Waker>),
    /// Completed with this result (`-errno` on failure).
    Done(i32),
    /// The waiting future was dropped; free the slot when the completion comes.
    Abandoned,
    /// The driver's own read of the wake-up eventfd.
    Wake,
}

struct Slot {
    state: State,
    kind: OpKind,
    /// The linked timeout's duration; read by the kernel at submission, kept
    /// with the operation to be safe.
    _timeout: Option<Box<types::Timespec>>,
}

/// An io_uring instance owned by one I/O thread.
pub(crate) struct Driver {
    ring: RefCell<IoUring>,
    slots: RefCell<Slab<Slot>>,
    wake_fd: Arc<OwnedFd>,
}

impl Driver {
    /// Creates the ring and checks that the kernel supports every opcode used.
    pub(crate) fn new(entries: u32, wake_fd: Arc<OwnedFd>) -> io::Result<Rc<Driver>> {
        let ring = IoUring::builder().build(entries)?;
        let mut probe = Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        for (code, name) in OpKind::required_opcodes() {
            if !probe.is_supported(code) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("the kernel's io_uring lacks the {name} operation"),
                ));
            }
        }
        let driver = Rc::new(Driver {
            ring: RefCell::new(ring),
            slots: RefCell::new(Slab::with_capacity(entries as usize)),
            wake_fd,
        });
        driver.arm_wake()?;
        Ok(driver)
    }

    /// The eventfd other threads signal to wake this ring.
    pub(crate) fn wake_fd(&self) -> i32 {
        self.wake_fd.as_raw_fd()
    }

    fn arm_wake(&self) -> io::Result<()> {
        let kind = OpKind::WakeRead {
            fd: self.wake_fd.as_raw_fd(),
            buf: Box::new([0; 8]),
        };
        self.push(kind, State::Wake, None)
            .map(|_| ())
            .map_err(|(_, e)| e)
    }

    /// Submits `kind`; when `deadline` is given a linked timeout cancels the
    /// operation at that instant, and the operation then fails with `TimedOut`.
    pub(crate) fn submit(self: &Rc<Self>, kind: OpKind, deadline: Option<Instant>) -> Op {
        let timeout = match deadline {
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => {
                    let slot = self.slots.borrow_mut().insert(Slot {
                        state: State::Done(-libc::ECANCELED),
                        kind,
                        _timeout: None,
                    });
                    return Op::new(self, slot);
                }
            },
            None => None,
        };
        match self.push(kind, State::Waiting(None), timeout.map(timespec)) {
            Ok(slot) => Op::new(self, slot),
            Err((kind, err)) => {
                let errno = err.raw_os_error().unwrap_or(libc::EIO);
                let slot = self.slots.borrow_mut().insert(Slot {
                    state: State::Done(-errno),
                    kind,
                    _timeout: None,
                });
                Op::new(self, slot)
            }
        }
    }

    fn push(
        &self,
        kind: OpKind,
        state: State,
        timeout: Option<Box<types::Timespec>>,
    ) -> Result<usize, (OpKind, io::Error)> {
        let mut slots = self.slots.borrow_mut();
        let entry = slots.vacant_entry();
        let idx = entry.key();
        let slot = entry.insert(Slot {
            state,
            kind,
            _timeout: timeout,
        });
        let op = slot.kind.entry().user_data(idx as u64);
        let mut ring = self.ring.borrow_mut();
        let pushed = match &slot._timeout {
            Some(ts) => {
                let link = opcode::LinkTimeout::new(&**ts as *const types::Timespec)
                    .build()
                    .user_data(LINK_TIMEOUT);
                let entries = [op.flags(squeue::Flags::IO_LINK), link];
                push_all(&mut ring, &entries)
            }
            None => push_all(&mut ring, std::slice::from_ref(&op)),
        };
        match pushed {
            Ok(()) => Ok(idx),
            Err(err) => {
                let slot = slots.remove(idx);
                Err((slot.kind, err))
            }
        }
    }

    /// Submits queued entries and, when `wait` is true, blocks until at least
    /// one completion is available.
    pub(crate) fn submit_and_wait(&self, wait: bool) -> io::Result<()> {
        let ring = self.ring.borrow();
        let res = if wait {
            ring.submit_and_wait(1)
        } else {
            ring.submit()
        };
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(()),
            // The completion queue is full: reaping makes room.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Moves completions into their slots and wakes the waiting tasks.
    /// Returns how many operations completed.
    pub(crate) fn reap(&self) -> usize {
        let mut wakers = Vec::new();
        let mut rearm = false;
        let mut count = 0;
        {
            let mut ring = self.ring.borrow_mut();
            let mut slots = self.slots.borrow_mut();
            for cqe in ring.completion() {
                let user_data = cqe.user_data();
                if user_data == LINK_TIMEOUT {
                    continue;
                }
                count += 1;
                let idx = user_data as usize;
                let Some(slot) = slots.get_mut(idx) else {
                    continue;
                };
                let res = cqe.result();
                slot.kind.complete(res);
                match std::mem::replace(&mut slot.state, State::Done(res)) {
                    State::Waiting(waker) => wakers.extend(waker),
                    State::Abandoned => {
                        slots.remove(idx);
                    }
                    State::Wake => {
                        slots.remove(idx);
                        rearm = true;
                    }
                    State::Done(_) => {}
                }
            }
        }
        for waker in wakers {
            waker.wake();
        }
        if rearm {
            // If re-arming fails the ring is unusable; the next submit reports it.
            let _ = self.arm_wake();
        }
        count
    }

    /// Operations still in flight (the wake-up read excluded).
    pub(crate) fn in_flight(&self) -> usize {
        self.slots
            .borrow()
            .iter()
            .filter(|(_, s)| !matches!(s.state, State::Wake | State::Done(_)))
            .count()
    }

    /// Cancels everything in flight and waits for the kernel to release every
    /// buffer, so the ring can be dropped safely.
    pub(crate) fn drain(self: &Rc<Self>) {
        if self.in_flight() == 0 {
            return;
        }
        drop(self.submit(OpKind::CancelAll, None));
        while self.in_flight() > 0 {
            if self.submit_and_wait(true).is_err() {
                break;
            }
            self.reap();
        }
    }
}

fn push_all(ring: &mut IoUring, entries: &[squeue::Entry]) -> io::Result<()> {
    for attempt in 0..2 {
        // SAFETY: every pointer in `entries` points into memory owned by the
        // operation's slot (heap allocations that do not move), and the slot
        // is kept until the operation's completion has been reaped.
        let res = unsafe { ring.submission().push_multiple(entries) };
        if res.is_ok() {
            return Ok(());
        }
        if attempt == 0 {
            // The submission queue is full: hand it to the kernel and retry.
            ring.submit()?;
        }
    }
    Err(io::Error::other("io_uring submission queue is full"))
}

/// A submitted operation; resolves to its result and the resources it used.
pub(crate) struct Op {
    driver: Rc<Driver>,
    slot: Option<usize>,
}

impl Op {
    fn new(driver: &Rc<Driver>, slot: usize) -> Op {
        Op {
            driver: Rc::clone(driver),
            slot: Some(slot),
        }
    }
}

impl Future for Op {
    /// The raw result (`-errno` on failure) and the operation's resources.
    type Output = (i32, OpKind);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(idx) = self.slot else {
            return Poll::Ready((-libc::EINVAL, OpKind::CancelAll));
        };
        let mut slots = self.driver.slots.borrow_mut();
        let Some(slot) = slots.get_mut(idx) else {
            return Poll::Ready((-libc::EINVAL, OpKind::CancelAll));
        };
        match &mut slot.state {
            State::Done(res) => {
                let res = *res;
                let slot = slots.remove(idx);
                drop(slots);
                self.slot = None;
                Poll::Ready((res, slot.kind))
            }
            State::Waiting(waker) => {
                match waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            State::Abandoned | State::Wake => Poll::Ready((-libc::EINVAL, OpKind::CancelAll)),
        }
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        let Some(idx) = self.slot.take() else {
            return;
        };
        let mut slots = self.driver.slots.borrow_mut();
        if let Some(slot) = slots.get_mut(idx) {
            if matches!(slot.state, State::Done(_)) {
                slots.remove(idx);
            } else {
                slot.state = State::Abandoned;
            }
        }
    }
}
