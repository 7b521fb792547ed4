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
    start(None)
}

/// [`nginx`], serving the existing directory `root` instead of a fresh one.
pub fn nginx_serving(root: &Path) -> Server {
    start(Some(root))
}

fn start(root: Option<&Path>) -> Server {
    let bin = binary("nginx", &[PathBuf::from("/usr/sbin/nginx")]);
    let dir = temp_dir();
    let base = dir.path().to_path_buf();
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
    let conf = format!(
        r#"{user}
daemon off;
master_process off;
worker_processes 1;
pid {b}/nginx.pid;
error_log {b}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
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
    Server::new(child, Some(dir), port, root)
}
