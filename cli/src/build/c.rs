//! Incremental C builds: one object file per source, recompiled only when it
//! is out of date, then one link.
//!
//! Each source `S` compiles to `OBJ/S-HASH.o` (`OBJ` is the project's
//! `target/c/<function>/`, `HASH` tells apart sources of one stem in different
//! folders) with clang writing the headers it read to `OBJ/S-HASH.d`
//! (`-MMD`), and the compile command recorded in `OBJ/S-HASH.cmd`. An object
//! is reused only if its recorded command is the one this build would run and
//! neither its source nor any header its depfile lists is newer than it (or
//! missing). The link is skipped when no object was recompiled, the module is
//! newer than every object and the recorded link command (objects, flags,
//! output) is unchanged. So editing a `.c` file recompiles it, editing a
//! header recompiles the sources that include it, and changing `cflags`
//! recompiles everything; a new clang is not noticed (delete `target/c`).

use std::ffi::{OsStr, OsString};
use std::hash::{Hash as _, Hasher as _};
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context as _};

use crate::manifest::{BuildSpec, Kind};
use crate::toolchain::{self, Needs};

/// What one C build did, for its summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Sources compiled this time.
    pub(crate) compiled: usize,
    /// Sources in all.
    pub(crate) sources: usize,
    /// Whether the module was linked again.
    pub(crate) linked: bool,
}

/// Builds the C function `spec` of kind `kind` into `wasm`, keeping objects
/// and their records in `objects`.
///
/// # Errors
/// A missing toolchain, no source, clang failing, or a file that cannot be
/// read or written.
pub(crate) fn build(
    kind: Kind,
    spec: &BuildSpec,
    wasm: &Path,
    objects: &Path,
) -> anyhow::Result<Outcome> {
    toolchain::check(match kind {
        Kind::AbiV1 => Needs::CAbiV1,
        Kind::Wasi => Needs::CWasi,
    })?;
    let sources = sources(&spec.src)?;
    std::fs::create_dir_all(objects)
        .with_context(|| format!("cannot create {}", objects.display()))?;
    let (compile_flags, link_flags) = flags(kind);
    let mut outcome = Outcome {
        sources: sources.len(),
        ..Outcome::default()
    };
    let mut object_files = Vec::with_capacity(sources.len());
    for source in &sources {
        let stem = objects.join(object_stem(source));
        let object = stem.with_extension("o");
        let depfile = stem.with_extension("d");
        let record = stem.with_extension("cmd");
        let mut command: Vec<OsString> = compile_flags.iter().map(OsString::from).collect();
        command.extend(spec.cflags.iter().map(OsString::from));
        command.extend(["-MMD".into(), "-MF".into(), depfile.clone().into()]);
        command.extend(["-c".into(), source.clone().into()]);
        command.extend(["-o".into(), object.clone().into()]);
        if !object_is_current(&object, &depfile, &record, &command) {
            eprintln!("compiling {}", source.display());
            run_recorded(&command, &record)?;
            outcome.compiled += 1;
        }
        object_files.push(object);
    }
    let mut command: Vec<OsString> = link_flags.iter().map(OsString::from).collect();
    command.extend(spec.cflags.iter().map(OsString::from));
    command.extend(["-o".into(), wasm.into()]);
    command.extend(object_files.iter().map(|o| o.clone().into_os_string()));
    let record = objects.join("link.cmd");
    if outcome.compiled > 0 || !module_is_current(wasm, &object_files, &record, &command) {
        eprintln!("linking {}", wasm.display());
        run_recorded(&command, &record)?;
        outcome.linked = true;
    }
    Ok(outcome)
}

/// clang's flags for compiling one source and for linking, by kind. Both
/// steps also get the user's `cflags`, which may hold flags for either step:
/// clang's warning about the ones a step does not use is turned off.
fn flags(kind: Kind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        Kind::Wasi => (
            &[
                "--target=wasm32-wasi",
                "--sysroot=/usr",
                "-O2",
                "-Wno-unused-command-line-argument",
            ],
            &[
                "--target=wasm32-wasi",
                "--sysroot=/usr",
                "-O2",
                "-s",
                "-Wno-unused-command-line-argument",
            ],
        ),
        Kind::AbiV1 => (
            &[
                "--target=wasm32",
                "-O2",
                "-nostdlib",
                "-ffreestanding",
                "-Wno-unused-command-line-argument",
            ],
            &[
                "--target=wasm32",
                "-O2",
                "-nostdlib",
                "-ffreestanding",
                "-Wl,--no-entry",
                "-Wl,--strip-all",
                "-Wno-unused-command-line-argument",
            ],
        ),
    }
}

/// `src` itself if it is a file, else the `*.c` files of the folder.
fn sources(src: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if src.is_file() {
        return Ok(vec![src.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(src)
        .with_context(|| format!("cannot list {}", src.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "c"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no .c file in {}", src.display());
    }
    Ok(files)
}

/// `STEM-HASH` for `source`: its file stem, and a hash of its whole path so
/// that `a/util.c` and `b/util.c` get different objects.
fn object_stem(source: &Path) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    source.as_os_str().as_bytes().hash(&mut hasher);
    let stem = source
        .file_stem()
        .map_or_else(|| "source".into(), OsStr::to_string_lossy);
    format!("{stem}-{:016x}", hasher.finish())
}

/// Runs `clang COMMAND...`, recording the command in `record` once it
/// succeeded (and removing the old record first, so that a failed or
/// interrupted run is never taken for a current one).
fn run_recorded(command: &[OsString], record: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(record) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", record.display())),
    }
    let status = Command::new("clang")
        .args(command)
        .status()
        .context("cannot start clang")?;
    if !status.success() {
        bail!("clang failed ({status}); its messages are above");
    }
    std::fs::write(record, encode(command))
        .with_context(|| format!("cannot write {}", record.display()))
}

/// A command as bytes: its arguments, each followed by NUL (which no
/// argument can contain).
fn encode(command: &[OsString]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for arg in command {
        bytes.extend_from_slice(arg.as_bytes());
        bytes.push(0);
    }
    bytes
}

fn recorded_is(record: &Path, command: &[OsString]) -> bool {
    std::fs::read(record).is_ok_and(|bytes| bytes == encode(command))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `object` was made by `command` and nothing it was made from
/// (the depfile's prerequisites: the source and the headers it read) changed
/// since. An input as old as the object counts as changed: on a file system
/// with coarse timestamps an edit in the same tick is not missed (at worst
/// one more compile).
fn object_is_current(object: &Path, depfile: &Path, record: &Path, command: &[OsString]) -> bool {
    let Some(built) = modified(object) else {
        return false;
    };
    if !recorded_is(record, command) {
        return false;
    }
    let Ok(deps) = std::fs::read(depfile) else {
        return false;
    };
    let inputs = prerequisites(&deps);
    !inputs.is_empty()
        && inputs
            .iter()
            .all(|input| modified(input).is_some_and(|t| t < built))
}

/// Whether `wasm` was linked by `command` from `objects` as they are now.
fn module_is_current(
    wasm: &Path,
    objects: &[PathBuf],
    record: &Path,
    command: &[OsString],
) -> bool {
    let Some(linked) = modified(wasm) else {
        return false;
    };
    recorded_is(record, command)
        && objects
            .iter()
            .all(|o| modified(o).is_some_and(|t| t < linked))
}

/// The prerequisites of the one rule of a depfile clang wrote (`-MMD`):
/// `target: a b \` continued over lines, with `\ ` for a space in a name and
/// `$$` for `$`.
fn prerequisites(depfile: &[u8]) -> Vec<PathBuf> {
    // The rule's target ends at the first `:` followed by white space.
    let Some(colon) = depfile
        .windows(2)
        .position(|w| w[0] == b':' && w[1].is_ascii_whitespace())
    else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let mut current = Vec::new();
    let mut bytes = depfile[colon + 1..].iter().copied().peekable();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => match bytes.peek().copied() {
                // A line continuation.
                Some(b'\n') => {
                    bytes.next();
                }
                Some(b'\r') => {
                    bytes.next();
                    if bytes.peek() == Some(&b'\n') {
                        bytes.next();
                    }
                }
                Some(b' ') | Some(b'#') | Some(b'\\') => {
                    current.push(bytes.next().unwrap_or(b'\\'));
                }
                _ => current.push(b'\\'),
            },
            b'$' if bytes.peek() == Some(&b'$') => {
                bytes.next();
                current.push(b'$');
            }
            b if b.is_ascii_whitespace() => {
                if !current.is_empty() {
                    paths.push(PathBuf::from(OsString::from_vec(std::mem::take(
                        &mut current,
                    ))));
                }
            }
            b => current.push(b),
        }
    }
    if !current.is_empty() {
        paths.push(PathBuf::from(OsString::from_vec(current)));
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depfile_prerequisites_follow_make_escapes() {
        let depfile = b"/o/main-1.o: /p/main.c /p/a\\ b.h \\\n  /p/cost$$.h /p/x.h\n";
        assert_eq!(
            prerequisites(depfile),
            ["/p/main.c", "/p/a b.h", "/p/cost$.h", "/p/x.h"]
                .map(PathBuf::from)
                .to_vec()
        );
        assert!(prerequisites(b"no rule here").is_empty());
    }

    #[test]
    fn sources_of_one_stem_get_different_objects() {
        let a = object_stem(Path::new("/p/a/util.c"));
        let b = object_stem(Path::new("/p/b/util.c"));
        assert_ne!(a, b);
        assert!(a.starts_with("util-") && b.starts_with("util-"));
    }
}
