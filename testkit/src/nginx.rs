//! nginx (Debian `nginx-light`) serving files, with WebDAV `PUT`/`DELETE`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::process::{
    binary, euid_is_root, free_port, spawn, temp_dir, wait_for_port, write, Server,
};

/// What `/fixed` answers, to any method: the body of the bench suite's HTTP
/// floor (80 bytes, the size of a 3x3 `matmul` answer).
pub const FIXED_BODY: &str =
    "a fixed answer of eighty bytes, what the HTTP floor sends for every request....\n";

/// nginx serving a fresh temporary directory ([`Server::root`]) with WebDAV
/// `PUT`/`DELETE`, plus `/status/500` answering 500, `/status/404` answering
/// 404 and `/fixed` answering 200 with [`FIXED_BODY`].
pub fn nginx() -> Server {
    start(None, false).0
}

/// [`nginx`], serving the existing directory `root` instead of a fresh one.
pub fn nginx_serving(root: &Path) -> Server {
    start(Some(root), false).0
}

/// [`nginx`] writing an access log: one line per request, `METHOD URI STATUS
/// BODY_BYTES_SENT`, to the file answered with the server (removed with it;
/// read it with [`logged_body_bytes`]).
pub fn nginx_logging() -> (Server, PathBuf) {
    start(None, true)
}

/// The requests in an access log of [`nginx_logging`] whose URI is `uri`:
/// `(status, body bytes sent)`, in order.
pub fn logged_body_bytes(log: &Path, uri: &str) -> Vec<(u16, u64)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let (_method, path, status, bytes) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            (path == uri).then(|| Some((status.parse().ok()?, bytes.parse().ok()?)))?
        })
        .collect()
}

fn start(root: Option<&Path>, logging: bool) -> (Server, PathBuf) {
    let bin = binary("nginx", &[PathBuf::from("/usr/sbin/nginx")]);
    let dir = temp_dir();
    let base = dir.path().to_path_buf();
    let access_path = base.join("logs/access.log");
    let access_log = logging.then_some(access_path.as_path());
    let root = root.map_or_else(|| base.join("data"), Path::to_path_buf);
    for d in [root.clone(), base.join("tmp"), base.join("logs")] {
        if let Err(e) = std::fs::create_dir_all(&d) {
            panic!("cannot prepare nginx directory {}: {e}", d.display());
        }
    }
    let port = free_port();
    // Running as root, nginx's worker would switch to an unprivileged user
    // that cannot write the data directory; a single process avoids that.
    let user = if euid_is_root() { "user root;" } else { "" };
    let b = base.display();
    let r = root.display();
    let fixed = FIXED_BODY.escape_default();
    let access_log = match access_log {
        Some(path) => format!(
            "log_format bytes '$request_method $request_uri $status $body_bytes_sent';\n    access_log {} bytes;",
            path.display()
        ),
        None => "access_log off;".to_owned(),
    };
    let conf = format!(
        r#"{user}
daemon off;
master_process off;
worker_processes 1;
pid {b}/nginx.pid;
error_log {b}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    {access_log}
    sendfile on;
    client_body_temp_path {b}/tmp/body;
    proxy_temp_path {b}/tmp/proxy;
    fastcgi_temp_path {b}/tmp/fastcgi;
    uwsgi_temp_path {b}/tmp/uwsgi;
    scgi_temp_path {b}/tmp/scgi;
    client_max_body_size 0;
    keepalive_requests 100000;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {r};
        location / {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
        location = /status/500 {{ return 500 "internal failure\n"; }}
        location = /status/404 {{ return 404 "no such thing\n"; }}
        location = /fixed {{
            default_type application/octet-stream;
            return 200 "{fixed}";
        }}
    }}
}}
"#
    );
    let conf_path = base.join("nginx.conf");
    write(&conf_path, &conf);
    let log = base.join("logs/error.log");
    let mut cmd = Command::new(bin);
    cmd.arg("-p")
        .arg(&base)
        .arg("-e")
        .arg(&log)
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn(cmd, "nginx");
    wait_for_port(&mut child, port, "nginx", &log);
    (Server::new(child, Some(dir), port, root), access_path)
}
