//! MicroVM per request: a distribution kernel and a tiny initramfs that runs the
//! native function once and powers off, booted under QEMU's `microvm` machine
//! (KVM, or labelled software emulation) or Firecracker when it is on PATH.
//!
//! Whether KVM can boot a stock guest is decided before any number is reported:
//! [`detect_kvm`] reads `/dev/kvm`, the CPU flags and the loaded modules. A host
//! whose KVM is paravirtualised (PVM, `kvm_pvm`: nested virtualisation without
//! hardware support, which runs only guests built for it) cannot boot a stock
//! kernel, so the suite reports that instead of a KVM number.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::cpio::Archive;

/// What this host's KVM can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvmStatus {
    /// Hardware-assisted KVM: stock guests boot.
    Usable,
    /// KVM cannot boot a stock guest here; the reason says why.
    Unusable {
        /// A sentence for the report.
        reason: String,
    },
}

/// Classifies KVM from whether `/dev/kvm` opened (`Err` holds why not), the text
/// of `/proc/cpuinfo` and the kernel's modules, one per line, name first (the
/// format of `/proc/modules`, or bare names from `/sys/module`).
pub fn classify_kvm(dev_kvm: Result<(), String>, cpuinfo: &str, modules: &str) -> KvmStatus {
    if let Err(why) = dev_kvm {
        return KvmStatus::Unusable {
            reason: format!("/dev/kvm is not usable ({why})"),
        };
    }
    let pvm = modules
        .lines()
        .any(|l| l.split_whitespace().next() == Some("kvm_pvm"));
    if pvm {
        return KvmStatus::Unusable {
            reason: "/dev/kvm is provided by `kvm_pvm`, a paravirtualised nested KVM (PVM) \
                     without hardware virtualisation: it runs only guest kernels built for PVM, \
                     so a stock distribution kernel cannot boot on it"
                .to_string(),
        };
    }
    let flags = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("");
    let hardware = flags.split_whitespace().any(|f| f == "vmx" || f == "svm");
    if !hardware {
        return KvmStatus::Unusable {
            reason:
                "/dev/kvm exists but the CPU shows no hardware virtualisation (no vmx/svm flag): \
                     this KVM is paravirtualised and cannot boot a stock guest"
                    .to_string(),
        };
    }
    KvmStatus::Usable
}

/// [`classify_kvm`] of this host.
pub fn detect_kvm() -> KvmStatus {
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(drop)
        .map_err(|e| e.to_string());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    // Loadable modules are in /proc/modules; built-in ones only in /sys/module.
    let mut modules = std::fs::read_to_string("/proc/modules").unwrap_or_default();
    if let Ok(dir) = std::fs::read_dir("/sys/module") {
        for entry in dir.flatten() {
            modules.push_str(&entry.file_name().to_string_lossy());
            modules.push('\n');
        }
    }
    classify_kvm(dev, &cpuinfo, &modules)
}

/// The newest `vmlinuz-*` in `dir`, by file name (version order is close enough
/// to name order for one distribution's kernels).
pub fn newest_kernel(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut kernels: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    kernels.sort();
    kernels.pop()
}

/// The kernel QEMU boots: `$PAPPUS_BENCH_KERNEL`, else the newest `/boot/vmlinuz-*`.
pub fn find_kernel() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("PAPPUS_BENCH_KERNEL") {
        return Some(PathBuf::from(k));
    }
    newest_kernel(Path::new("/boot"), "vmlinuz-")
}

/// The uncompressed kernel Firecracker boots: `$PAPPUS_BENCH_VMLINUX`, else the
/// newest `/boot/vmlinux-*`.
pub fn find_vmlinux() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("PAPPUS_BENCH_VMLINUX") {
        return Some(PathBuf::from(k));
    }
    newest_kernel(Path::new("/boot"), "vmlinux-")
}

/// Whether `name` is an executable on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The line the guest prints when the function ran: `PAPPUS-RESULT <exit> <bytes>`.
pub const MARKER: &str = "PAPPUS-RESULT";

/// The init script: run the function on `/input`, report its status and output
/// size on the console, power off at once.
pub fn init_script(function: &str) -> String {
    format!(
        "#!/bin/busybox sh\n\
         /pappus-native {function} < /input > /output\n\
         echo \"{MARKER} $? $(/bin/busybox wc -c < /output)\"\n\
         if [ \"$pappus_exit\" = reboot ]; then /bin/busybox reboot -f; else /bin/busybox poweroff -f; fi\n"
    )
}

/// An uncompressed newc initramfs with busybox, the native binary, the input and
/// an init that runs `function` on it.
pub fn initramfs(busybox: &[u8], native: &[u8], function: &str, input: &[u8]) -> Vec<u8> {
    let mut a = Archive::new();
    a.dir("bin", 0o755)
        .dir("dev", 0o755)
        .dir("proc", 0o755)
        .char_device("dev/console", 0o600, 5, 1)
        .file("bin/busybox", 0o755, busybox)
        .file("pappus-native", 0o755, native)
        .file("input", 0o644, input)
        .file("init", 0o755, init_script(function).as_bytes());
    a.finish()
}

/// How QEMU runs the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualisation.
    Kvm,
    /// Software emulation (TCG): shown only labelled as emulation.
    Tcg,
}

/// The kernel command line: serial console, quiet, and how the init ends the VM
/// (the kernel hands `pappus_exit=...` to init as an environment variable).
/// QEMU's microvm powers off through ACPI (a forced reboot with `reboot=t` spins
/// under TCG instead of exiting); Firecracker has no ACPI power-off and exits on
/// the keyboard-controller reset.
pub fn cmdline(firecracker: bool) -> &'static str {
    if firecracker {
        "console=ttyS0 quiet reboot=k panic=-1 pci=off nomodule pappus_exit=reboot"
    } else {
        "console=ttyS0 quiet panic=-1 nomodule pappus_exit=poweroff"
    }
}

/// `qemu-system-x86_64 -M microvm` booting `kernel` with `initrd`, 1 vCPU, 256 MiB.
pub fn qemu_command(kernel: &Path, initrd: &Path, accel: Accel) -> Command {
    let mut c = Command::new("qemu-system-x86_64");
    c.args([
        "-M",
        "microvm,x-option-roms=off,rtc=off",
        "-m",
        "256",
        "-smp",
        "1",
    ]);
    match accel {
        Accel::Kvm => c.args(["-accel", "kvm", "-cpu", "host"]),
        Accel::Tcg => c.args(["-accel", "tcg", "-cpu", "max"]),
    };
    c.args([
        "-nodefaults",
        "-no-user-config",
        "-nographic",
        "-no-reboot",
        "-serial",
        "stdio",
    ])
    .arg("-kernel")
    .arg(kernel)
    .arg("-initrd")
    .arg(initrd);
    match accel {
        Accel::Kvm => c.args(["-append", cmdline(false)]),
        // Under TCG, microvm offers no reference clock (HPET, PM timer) for TSC
        // calibration; the kernel then often hangs early in boot. A given
        // early frequency skips that calibration (the value only paces the
        // early boot; nothing measured depends on it).
        Accel::Tcg => c
            .arg("-append")
            .arg(format!("{} tsc_early_khz=2000000", cmdline(false))),
    };
    c
}

/// Firecracker's `--config-file` for one boot.
pub fn firecracker_config(vmlinux: &Path, initrd: &Path) -> serde_json::Value {
    serde_json::json!({
        "boot-source": {
            "kernel_image_path": vmlinux,
            "initrd_path": initrd,
            "boot_args": cmdline(true)
        },
        "drives": [],
        "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 }
    })
}

/// `firecracker --no-api --config-file CONFIG`.
pub fn firecracker_command(config: &Path) -> Command {
    let mut c = Command::new("firecracker");
    c.arg("--no-api").arg("--config-file").arg(config);
    c
}

/// The `(exit status, output bytes)` the guest reported in `console`, if it did.
pub fn parse_marker(console: &str) -> Option<(i32, u64)> {
    let line = console.lines().find_map(|l| l.split(MARKER).nth(1))?;
    let mut fields = line.split_whitespace();
    let status = fields.next()?.parse().ok()?;
    let bytes = fields.next()?.parse().ok()?;
    Some((status, bytes))
}

/// Boots once: spawns `command`, waits for the VM to exit (killing it after
/// `timeout`), and answers the wall time and the output size the guest reported.
///
/// Errors: the VM did not finish in time, or never printed the marker, or the
/// function failed inside it; the console's last lines are quoted.
pub fn boot(mut command: Command, timeout: Duration) -> Result<(Duration, u64)> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {:?}", command.get_program()))?;
    let mut stdout = child.stdout.take().context("vm stdout")?;
    let mut stderr = child.stderr.take().context("vm stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut console = Vec::new();
        let _ = stdout.read_to_end(&mut console);
        let mut err = Vec::new();
        let _ = stderr.read_to_end(&mut err);
        console.extend_from_slice(&err);
        let _ = tx.send(console);
    });
    let console = match rx.recv_timeout(timeout) {
        Ok(console) => console,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let console = rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
            bail!(
                "the VM did not finish within {timeout:?}; console tail: {}",
                tail(&String::from_utf8_lossy(&console))
            );
        }
    };
    let _ = child.wait();
    let elapsed = started.elapsed();
    let console = String::from_utf8_lossy(&console);
    match parse_marker(&console) {
        Some((0, bytes)) => Ok((elapsed, bytes)),
        Some((status, _)) => bail!("the function exited with {status} inside the VM"),
        None => bail!(
            "the VM exited without running the function; console tail: {}",
            tail(&console)
        ),
    }
}

fn tail(console: &str) -> String {
    let lines: Vec<&str> = console.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(3);
    let joined = lines[from..].join(" | ");
    if joined.is_empty() {
        "(empty)".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VMX: &str = "processor\t: 0\nflags\t\t: fpu vme vmx ept hypervisor\n";
    const NO_VMX: &str = "processor\t: 0\nflags\t\t: fpu vme hypervisor\n";

    #[test]
    fn pvm_module_means_no_stock_guest() {
        let modules = "kvm_pvm 114688 0 - Live 0x0\nkvm 1273856 1 kvm_pvm, Live 0x0\n";
        match classify_kvm(Ok(()), VMX, modules) {
            KvmStatus::Unusable { reason } => assert!(reason.contains("kvm_pvm")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_hardware_flag_means_no_stock_guest() {
        let modules = "kvm 1273856 0 - Live 0x0\n";
        assert!(matches!(
            classify_kvm(Ok(()), NO_VMX, modules),
            KvmStatus::Unusable { .. }
        ));
    }

    #[test]
    fn hardware_kvm_is_usable() {
        let modules = "kvm_intel 380928 0 - Live 0x0\nkvm 1273856 1 kvm_intel, Live 0x0\n";
        assert_eq!(classify_kvm(Ok(()), VMX, modules), KvmStatus::Usable);
    }

    #[test]
    fn missing_device_is_reported() {
        match classify_kvm(Err("No such file or directory".into()), VMX, "") {
            KvmStatus::Unusable { reason } => assert!(reason.contains("No such file")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn marker_parsing() {
        assert_eq!(
            parse_marker("[ 0.5] x\nPAPPUS-RESULT 0 131080\n"),
            Some((0, 131_080))
        );
        assert_eq!(parse_marker("\x1b[0mPAPPUS-RESULT 2 0\r\n"), Some((2, 0)));
        assert_eq!(parse_marker("kernel panic"), None);
    }

    #[test]
    fn initramfs_holds_init_and_input() {
        let img = initramfs(b"BB", b"NATIVE", "matmul", b"INPUT");
        let text = String::from_utf8_lossy(&img);
        assert!(text.contains("/pappus-native matmul < /input"));
        assert!(text.contains("dev/console") && text.contains("TRAILER!!!"));
    }

    #[test]
    fn qemu_uses_microvm_and_exits_on_reboot() {
        let c = qemu_command(Path::new("/k"), Path::new("/i"), Accel::Kvm);
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args[1].starts_with("microvm"));
        assert!(args.iter().any(|a| a == "-no-reboot"));
        assert!(args.windows(2).any(|w| w[0] == "-accel" && w[1] == "kvm"));
    }
}
