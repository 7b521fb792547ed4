//! Garage, a real S3-compatible object store: one node, SQLite metadata,
//! replication factor 1, a key and a bucket bootstrapped at start.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::process::{binary, free_port, spawn, temp_dir, wait_for_port, write, Server};

/// A running Garage and what a client needs to reach it.
pub struct Garage {
    /// Kept to stop the store when the test ends.
    pub server: Server,
    /// S3 endpoint, e.g. `http://127.0.0.1:PORT` (path-style addressing).
    pub endpoint: String,
    /// The region name from Garage's configuration (part of the signature).
    pub region: String,
    /// Access key id with read and write on [`Garage::bucket`].
    pub access_key: String,
    /// Its secret.
    pub secret_key: String,
    /// A bucket that exists and is empty at start.
    pub bucket: String,
    /// The `garage` binary and its configuration, for [`Garage::bucket_with_key`].
    bin: PathBuf,
    conf: PathBuf,
}

/// An access key of its own for one bucket ([`Garage::bucket_with_key`]).
pub struct BucketKey {
    /// The bucket, created empty.
    pub bucket: String,
    /// Access key id with read and write on that bucket only.
    pub access_key: String,
    /// Its secret.
    pub secret_key: String,
}

const KEY_ID: &str = "GK0123456789abcdef01234567";
const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const REGION: &str = "pappus-test";
const BUCKET: &str = "pappus";

/// `PAPPUS_GARAGE`, then `~/.cache/pappus/garage/bin/garage` (where ./setup.sh --test
/// installs it), then `PATH`.
fn garage_binary() -> PathBuf {
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("PAPPUS_GARAGE") {
        candidates.push(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".cache/pappus/garage/bin/garage"));
    }
    binary("garage", &candidates)
}

fn garage_cli(bin: &Path, conf: &Path, args: &[&str]) -> Output {
    let out = Command::new(bin).arg("-c").arg(conf).args(args).output();
    match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!(
            "garage {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run garage {args:?}: {e}"),
    }
}

/// Starts Garage and bootstraps the layout, a key and the bucket `pappus`.
pub fn garage() -> Garage {
    let bin = garage_binary();
    let dir = temp_dir();
    let base = dir.path().to_path_buf();
    let (rpc, s3, admin) = (free_port(), free_port(), free_port());
    let b = base.display();
    let conf = format!(
        r#"metadata_dir = "{b}/meta"
data_dir = "{b}/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{SECRET}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
"#
    );
    let conf_path = base.join("garage.toml");
    write(&conf_path, &conf);
    let log = base.join("garage.log");
    let log_file = match std::fs::File::create(&log) {
        Ok(f) => f,
        Err(e) => panic!("cannot create the garage log: {e}"),
    };
    let mut cmd = Command::new(&bin);
    cmd.arg("-c")
        .arg(&conf_path)
        .arg("server")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log_file);
    let mut child = spawn(cmd, "garage");
    wait_for_port(&mut child, rpc, "garage", &log);
    wait_for_port(&mut child, s3, "garage", &log);
    let server = Server::new(child, Some(dir), s3, base);
    let node = garage_cli(&bin, &conf_path, &["node", "id", "-q"]);
    let node = String::from_utf8_lossy(&node.stdout);
    let node_id = node.trim().split('@').next().unwrap_or_default().to_owned();
    let cli = |args: &[&str]| garage_cli(&bin, &conf_path, args);
    cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node_id]);
    cli(&["layout", "apply", "--version", "1"]);
    cli(&["key", "import", "--yes", "-n", "pappus", KEY_ID, SECRET]);
    cli(&["bucket", "create", BUCKET]);
    cli(&[
        "bucket", "allow", "--read", "--write", BUCKET, "--key", "pappus",
    ]);
    Garage {
        server,
        endpoint: format!("http://127.0.0.1:{s3}"),
        region: REGION.into(),
        access_key: KEY_ID.into(),
        secret_key: SECRET.into(),
        bucket: BUCKET.into(),
        bin,
        conf: conf_path,
    }
}

impl Garage {
    /// Creates `bucket` and a key of its own (named after it) that may read
    /// and write it and nothing else, as each tenant of a node would have.
    /// With `node_access`, the store's first key ([`Garage::access_key`]) may
    /// read and write it too.
    pub fn bucket_with_key(&self, bucket: &str, node_access: bool) -> BucketKey {
        // Garage wants `GK` and 24 hex digits, and a 64-hex-digit secret;
        // derived from the bucket's name, so each bucket gets its own.
        let digest: String = bucket
            .bytes()
            .chain(std::iter::repeat(0))
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect();
        let access_key = format!("GK{digest}");
        let secret_key = format!("{digest}{digest}{}", &digest[..16]);
        let cli = |args: &[&str]| garage_cli(&self.bin, &self.conf, args);
        let key_name = format!("key-{bucket}");
        cli(&[
            "key",
            "import",
            "--yes",
            "-n",
            &key_name,
            &access_key,
            &secret_key,
        ]);
        cli(&["bucket", "create", bucket]);
        cli(&[
            "bucket", "allow", "--read", "--write", bucket, "--key", &key_name,
        ]);
        if node_access {
            cli(&[
                "bucket", "allow", "--read", "--write", bucket, "--key", "pappus",
            ]);
        }
        BucketKey {
            bucket: bucket.to_owned(),
            access_key,
            secret_key,
        }
    }
}
