//! The signal that stops a running guest, and what its handler knows about the
//! call on its thread.
//!
//! The watchdog marks an overdue call [`FIRED`] and sends this signal to its
//! thread. If the thread is executing the call's compiled wasm, the handler
//! makes it call the module's stop function (it pushes the interrupted address
//! as a return address and jumps): that function is `unreachable`, so the guest
//! traps where it stood and wasmtime unwinds it like any trap. If the thread is
//! in host code (a wasmtime routine such as `memory.grow`, or a WASI function),
//! the handler only records [`IN_HOST`]: WASI functions refuse to run for a
//! stopping call, and the watchdog sends the signal again soon.
//!
//! Everything the handler touches is async-signal-safe: constant-initialised
//! thread-locals without destructors, an atomic, the interrupted context.

use std::cell::Cell;
use std::ffi::c_void;
use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use super::code::CodeMap;

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!("stopping guests by signal is implemented for x86-64 Linux only");

/// The call is running (or none is).
pub(super) const RUNNING: u8 = 0;
/// The watchdog asked for the call to stop.
pub(super) const FIRED: u8 = 1;
/// The signal found the thread in host code; it will be sent again.
pub(super) const IN_HOST: u8 = 2;
/// The call was stopped: redirected to its stop function, or refused by a
/// host function.
pub(super) const STOPPED: u8 = 3;

/// The running call, as the handler sees it.
#[derive(Clone, Copy)]
struct Target {
    /// The module's code map, alive for the whole call (the call borrows the
    /// function that owns it).
    code: *const CodeMap,
    /// Lowest stack address the handler may write to.
    stack_floor: usize,
}

/// What a thread needs to be signalled, read once per thread.
#[derive(Clone, Copy)]
struct ThisThread {
    /// The kernel's id of the thread, for `tgkill`.
    tid: libc::pid_t,
    /// The lowest address of its stack plus a page of margin, so the
    /// handler's one-word push can never touch the guard page.
    stack_floor: usize,
}

thread_local! {
    static TARGET: Cell<Option<Target>> = const { Cell::new(None) };
    static STATE: AtomicU8 = const { AtomicU8::new(RUNNING) };
    static THIS_THREAD: Cell<Option<ThisThread>> = const { Cell::new(None) };
}

/// This thread's call state, shared with the watchdog for the call's duration.
pub(super) fn state() -> *const AtomicU8 {
    STATE.with(|state| state as *const AtomicU8)
}

/// Starts watching a call of the module mapped by `code` (which must outlive
/// the watch) on this thread; returns the thread's id, to signal it.
pub(super) fn enter(code: &CodeMap) -> libc::pid_t {
    let this = this_thread();
    STATE.with(|state| state.store(RUNNING, Ordering::Release));
    TARGET.with(|t| {
        t.set(Some(Target {
            code,
            stack_floor: this.stack_floor,
        }))
    });
    this.tid
}

/// Stops watching; returns whether the call was stopped.
pub(super) fn leave() -> bool {
    TARGET.with(|t| t.set(None));
    STATE.with(|state| state.swap(RUNNING, Ordering::AcqRel)) == STOPPED
}

/// Whether the call on this thread has been asked to stop; marks it stopped
/// if so (for host functions, which then refuse to run).
pub(crate) fn stopping() -> bool {
    STATE.with(|state| {
        let now = state.load(Ordering::Acquire);
        let asked = now == FIRED || now == IN_HOST;
        if asked {
            state.store(STOPPED, Ordering::Release);
        }
        asked
    })
}

/// The signal number, once the handler is installed.
pub(super) fn install() -> io::Result<libc::c_int> {
    static INSTALLED: OnceLock<Result<libc::c_int, String>> = OnceLock::new();
    INSTALLED
        .get_or_init(install_once)
        .clone()
        .map_err(io::Error::other)
}

fn install_once() -> Result<libc::c_int, String> {
    // A real-time signal: queued rather than merged, and used by nothing the
    // engine links (glibc keeps the ones below SIGRTMIN for itself).
    let signal = libc::SIGRTMIN() + 6;
    // SAFETY: plain sigaction calls with a zeroed, then filled, struct; the
    // handler only does async-signal-safe work.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(signal, std::ptr::null(), &mut old) != 0 {
            return Err(format!("sigaction: {}", io::Error::last_os_error()));
        }
        if old.sa_sigaction != libc::SIG_DFL {
            return Err(format!(
                "signal {signal} already has a handler; it is needed to stop overdue guests"
            ));
        }
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
            return Err(format!("sigaction: {}", io::Error::last_os_error()));
        }
    }
    Ok(signal)
}

fn this_thread() -> ThisThread {
    THIS_THREAD.with(|cached| {
        cached.get().unwrap_or_else(|| {
            let this = ThisThread {
                // SAFETY: gettid has no preconditions.
                tid: unsafe { libc::gettid() },
                stack_floor: read_stack_floor().unwrap_or(usize::MAX),
            };
            cached.set(Some(this));
            this
        })
    })
}

fn read_stack_floor() -> Option<usize> {
    // SAFETY: pthread_getattr_np fills `attr` for the calling thread, which is
    // then read and destroyed.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut low: *mut c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut low, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        (ok && !low.is_null()).then(|| (low as usize).saturating_add(4096))
    }
}

/// Sends the signal to thread `tid` of this process.
pub(super) fn send(signal: libc::c_int, tid: libc::pid_t) {
    // SAFETY: tgkill only delivers a signal; a thread that exited makes it fail
    // with ESRCH, which is fine (its call is over).
    unsafe {
        libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, signal);
    }
}

extern "C" fn on_signal(_signal: libc::c_int, _info: *mut libc::siginfo_t, context: *mut c_void) {
    let Some(target) = TARGET.with(Cell::get) else {
        return;
    };
    STATE.with(|state| {
        let now = state.load(Ordering::Acquire);
        if now != FIRED && now != IN_HOST {
            return;
        }
        // SAFETY: for an SA_SIGINFO handler the kernel passes the interrupted
        // context, which the handler may change; `target.code` is alive while
        // TARGET is set (see `Target`).
        unsafe {
            let context = &mut *context.cast::<libc::ucontext_t>();
            let registers = &mut context.uc_mcontext.gregs;
            let pc = registers[libc::REG_RIP as usize] as usize;
            let sp = registers[libc::REG_RSP as usize] as usize;
            let code = &*target.code;
            match sp.checked_sub(8) {
                Some(slot) if code.contains(pc) && slot >= target.stack_floor => {
                    // Emulate `call stop`: the stop function traps at once, and
                    // the trap's backtrace continues through the guest's frames.
                    (slot as *mut usize).write(pc);
                    registers[libc::REG_RSP as usize] = slot as i64;
                    registers[libc::REG_RIP as usize] = code.stop() as i64;
                    state.store(STOPPED, Ordering::Release);
                }
                _ => state.store(IN_HOST, Ordering::Release),
            }
        }
    });
}
