//! Container per request: an OCI bundle holding only the static native binary,
//! run once per request by `runc run` or gVisor's `runsc --network=none run`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::process::pipe_through;

/// The OCI runtime that runs the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// `runc`: namespaces and cgroups, the host kernel.
    Runc,
    /// gVisor's `runsc`: a user-space kernel between the function and the host.
    Runsc,
}

impl Runtime {
    /// The runtime's command name.
    pub fn binary(self) -> &'static str {
        match self {
            Runtime::Runc => "runc",
            Runtime::Runsc => "runsc",
        }
    }
}

/// The `config.json` of a bundle whose process runs `args` (read-only root, no
/// network, fresh PID/IPC/UTS/mount/network namespaces, no capabilities).
pub fn config(args: &[&str]) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": { "uid": 0, "gid": 0 },
            "args": args,
            "env": ["PATH=/"],
            "cwd": "/",
            "noNewPrivileges": true,
            "capabilities": {
                "bounding": [], "effective": [], "inheritable": [], "permitted": [], "ambient": []
            },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }]
        },
        "root": { "path": "rootfs", "readonly": true },
        "hostname": "pappus-bench",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            {
                "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]
            }
        ],
        "linux": {
            "namespaces": [
                { "type": "pid" }, { "type": "ipc" }, { "type": "uts" },
                { "type": "mount" }, { "type": "network" }
            ],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// An OCI bundle on disk, one per function.
#[derive(Debug)]
pub struct Bundle {
    dir: PathBuf,
    state: PathBuf,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Bundle {
    /// Writes `dir/rootfs/pappus-native` (a copy of `native`) and
    /// `dir/config.json` running `/pappus-native FUNCTION`.
    pub fn create(dir: &Path, native: &Path, function: &str) -> Result<Bundle> {
        let rootfs = dir.join("rootfs");
        for sub in ["proc", "dev"] {
            std::fs::create_dir_all(rootfs.join(sub))
                .with_context(|| format!("creating {}", rootfs.display()))?;
        }
        let target = rootfs.join("pappus-native");
        std::fs::copy(native, &target).with_context(|| format!("copying {}", native.display()))?;
        let config = config(&["/pappus-native", function]);
        let text = serde_json::to_string_pretty(&config).context("rendering config.json")?;
        std::fs::write(dir.join("config.json"), text)
            .with_context(|| format!("writing {}/config.json", dir.display()))?;
        let state = dir.join("state");
        std::fs::create_dir_all(&state).with_context(|| format!("creating {}", state.display()))?;
        Ok(Bundle {
            dir: dir.to_path_buf(),
            state,
        })
    }

    /// The command that runs the bundle once under `runtime`, with a fresh
    /// container id.
    pub fn command(&self, runtime: Runtime) -> Command {
        let id = format!(
            "pappus-bench-{}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        );
        let mut command = Command::new(runtime.binary());
        command.arg("--root").arg(self.state.join(runtime.binary()));
        if runtime == Runtime::Runsc {
            command.arg("--network=none");
        }
        command.arg("run").arg("--bundle").arg(&self.dir).arg(id);
        command
    }

    /// Runs the function once in a new container, `input` on its stdin.
    pub fn run(&self, runtime: Runtime, input: &[u8]) -> Result<Vec<u8>> {
        pipe_through(self.command(runtime), input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_runs_the_function_isolated() {
        let c = config(&["/pappus-native", "matmul"]);
        assert_eq!(c["process"]["args"], json!(["/pappus-native", "matmul"]));
        assert_eq!(c["process"]["terminal"], json!(false));
        assert_eq!(c["root"], json!({ "path": "rootfs", "readonly": true }));
        let namespaces: Vec<&str> = c["linux"]["namespaces"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["type"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(namespaces, ["pid", "ipc", "uts", "mount", "network"]);
        assert_eq!(c["process"]["capabilities"]["bounding"], json!([]));
    }

    #[test]
    fn runsc_gets_no_network_and_its_own_state() {
        let b = Bundle {
            dir: PathBuf::from("/b"),
            state: PathBuf::from("/b/state"),
        };
        let cmd = b.command(Runtime::Runsc);
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(cmd.get_program(), "runsc");
        assert_eq!(
            &args[..5],
            [
                "--root",
                "/b/state/runsc",
                "--network=none",
                "run",
                "--bundle"
            ]
        );
        assert!(args[6].starts_with("pappus-bench-"));
        let cmd = b.command(Runtime::Runc);
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(&args[..4], ["--root", "/b/state/runc", "run", "--bundle"]);
    }
}
