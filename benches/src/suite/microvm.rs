//! The microVM baseline: the native binary in an initramfs, one VM booted per
//! request under QEMU microvm (KVM, or emulation) and Firecracker.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::budget::bounds;
use super::workload::{sequential, verdict, Outcome, Workload};
use super::Suite;
use crate::baselines::microvm::{self, Accel, KvmStatus};
use crate::hist::format_duration;

/// The mode of a QEMU microvm boot under KVM.
pub(super) const KVM: &str = "microVM, QEMU microvm + KVM";
/// The mode of a QEMU microvm boot under software emulation.
pub(super) const TCG: &str = "microVM, QEMU microvm, software emulation (TCG, not KVM)";
/// The mode of a Firecracker boot.
const FIRECRACKER: &str = "microVM, Firecracker";

impl Suite {
    /// The microVM rows for one workload, and a sentence on the KVM probe.
    pub(super) fn microvms(
        &self,
        w: &Workload,
        native: &Path,
        kvm: &KvmStatus,
        kernel: Option<&Path>,
        busybox: Option<&Path>,
    ) -> Result<(Vec<Outcome>, Option<String>)> {
        let (kvm_mode, tcg_mode, fc_mode) = (KVM, TCG, FIRECRACKER);
        let mut out = Vec::new();
        let (kernel, busybox) = match (kernel, busybox, microvm::on_path("qemu-system-x86_64")) {
            (Some(k), Some(b), Some(_)) => (k, b),
            (k, b, q) => {
                let mut missing = Vec::new();
                if k.is_none() {
                    missing
                        .push("a kernel (install `linux-image-amd64` or set PAPPUS_BENCH_KERNEL)");
                }
                if b.is_none() {
                    missing.push("a static `busybox` (`busybox-static`)");
                }
                if q.is_none() {
                    missing.push("`qemu-system-x86_64` (`qemu-system-x86`)");
                }
                let note = format!("not run: missing {}", missing.join(", "));
                out.push(Outcome::skipped(kvm_mode, note.clone()));
                out.push(Outcome::skipped(tcg_mode, note));
                return Ok((out, None));
            }
        };
        let dir = self.fresh_dir(&format!("microvm-{}", w.id))?;
        let image = microvm::initramfs(
            &std::fs::read(busybox).with_context(|| format!("reading {}", busybox.display()))?,
            &std::fs::read(native).with_context(|| format!("reading {}", native.display()))?,
            w.function,
            &w.input,
        );
        let initrd = dir.join("initramfs.cpio");
        std::fs::write(&initrd, image).with_context(|| format!("writing {}", initrd.display()))?;
        let expected = w.expected.len() as u64;
        let boot_caller = |accel: Accel, timeout: Duration| {
            let initrd = initrd.clone();
            move || {
                answered(
                    microvm::boot(microvm::qemu_command(kernel, &initrd, accel), timeout),
                    expected,
                )
            }
        };
        let mut probe_note = None;
        match kvm {
            KvmStatus::Usable => {
                self.progress("microVM: KVM boots");
                out.push(sequential(
                    kvm_mode,
                    bounds(self.budget.kvm_boots, 120_000),
                    1,
                    || boot_caller(Accel::Kvm, Duration::from_secs(30)),
                ));
            }
            KvmStatus::Unusable { reason } => {
                out.push(Outcome::skipped(
                    kvm_mode,
                    format!("not measurable: {reason}"),
                ));
                if let Some(timeout) = self.budget.kvm_probe {
                    self.progress("microVM: probing a KVM boot (expected to fail here)");
                    let started = Instant::now();
                    let result =
                        microvm::boot(microvm::qemu_command(kernel, &initrd, Accel::Kvm), timeout);
                    probe_note = Some(match result {
                        Ok((d, _)) => format!(
                            "A probe boot under KVM did complete (in {}), so the detection above may be too strict; \
                             it is still not reported as a KVM number.",
                            format_duration(d)
                        ),
                        Err(e) => format!(
                            "A probe boot under KVM confirms it: after {:.1} s, {}.",
                            started.elapsed().as_secs_f64(),
                            first_sentence(&format!("{e:#}"))
                        ),
                    });
                }
            }
        }
        if self.budget.tcg_boots > 0 {
            self.progress("microVM: emulated (TCG) boots");
            out.push(sequential(
                tcg_mode,
                bounds(self.budget.tcg_boots, 120_000),
                1,
                || boot_caller(Accel::Tcg, Duration::from_secs(60)),
            ));
        } else {
            out.push(Outcome::skipped(
                tcg_mode,
                "skipped in --quick (one boot takes seconds)",
            ));
        }
        match (microvm::on_path("firecracker"), kvm) {
            (None, _) => out.push(Outcome::skipped(fc_mode, "`firecracker` not on PATH")),
            (Some(_), KvmStatus::Unusable { .. }) => out.push(Outcome::skipped(
                fc_mode,
                "not run: Firecracker needs a usable KVM",
            )),
            (Some(_), KvmStatus::Usable) => match microvm::find_vmlinux() {
                None => out.push(Outcome::skipped(
                    fc_mode,
                    "no uncompressed kernel: set PAPPUS_BENCH_VMLINUX",
                )),
                Some(vmlinux) => {
                    let config = dir.join("firecracker.json");
                    std::fs::write(
                        &config,
                        microvm::firecracker_config(&vmlinux, &initrd).to_string(),
                    )
                    .with_context(|| format!("writing {}", config.display()))?;
                    out.push(sequential(
                        fc_mode,
                        bounds(self.budget.kvm_boots, 120_000),
                        1,
                        || {
                            let config = config.clone();
                            move || {
                                answered(
                                    microvm::boot(
                                        microvm::firecracker_command(&config),
                                        Duration::from_secs(30),
                                    ),
                                    expected,
                                )
                            }
                        },
                    ));
                }
            },
        }
        Ok((out, probe_note))
    }
}

/// A boot's outcome: `Ok` if the guest wrote `expected` bytes.
fn answered(boot: Result<(Duration, u64)>, expected: u64) -> Result<(), String> {
    match boot {
        Ok((_, bytes)) => verdict(bytes == expected),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// The start of a boot error, before the console tail, at most 300 bytes.
fn first_sentence(s: &str) -> String {
    let s = s.trim();
    let mut cut = s.find("; console tail").unwrap_or(s.len()).min(300);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s[..cut].to_string()
}
