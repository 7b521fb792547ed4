//! `pappus.toml`: a project's functions (their modules, how to build them, their
//! limits), its composition files and its I/O settings. `pappus run`, `build`
//! and `deploy` read it; the format is documented in `docs/project.md`.
//!
//! ```toml
//! compositions = ["app.pap"]                 # optional; default: every *.pap
//!
//! [functions]
//! upper = "../functions/wasm/upper.wasm"     # a prebuilt module, default limits
//!
//! [functions.hello]
//! kind = "abi-v1"                            # or "wasi"
//! lang = "rust"                              # or "c"; with `src`: `pappus build` builds it
//! src = "."                                  # the crate's folder, or C files
//! wasm = "wasm/hello.wasm"                   # where the module is (and lands)
//! memory_mib = 64
//! timeout_ms = 5000
//! max_output_mib = 16
//! static = { model = "data/model.bin", lib = "python/lib" }  # read-only sets
//!
//! [io]
//! io_timeout_ms = 5000
//! ```
//!
//! Paths are relative to the folder holding `pappus.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use pappus_engine::IoSettings;
use pappus_engine::Limits;
use serde::Deserialize;

/// The file name of a project's manifest.
pub(crate) const FILE_NAME: &str = "pappus.toml";

const MIB: u64 = 1 << 20;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    compositions: Option<Vec<PathBuf>>,
    #[serde(default)]
    functions: BTreeMap<String, RawFunction>,
    #[serde(default)]
    io: IoSettings,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFunction {
    Path(PathBuf),
    Full(Box<FullSpec>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullSpec {
    wasm: PathBuf,
    kind: Option<Kind>,
    lang: Option<Lang>,
    src: Option<PathBuf>,
    #[serde(default)]
    cflags: Vec<String>,
    memory_mib: Option<u64>,
    timeout_ms: Option<u64>,
    max_output_mib: Option<u64>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Static sets: a file or folder each (`docs/dataplane.md`).
    #[serde(default, rename = "static")]
    static_sets: BTreeMap<String, PathBuf>,
}

/// Which guest interface a function's module speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub(crate) enum Kind {
    /// Guest ABI v1 (`docs/abi.md`): no imports, built with the SDK.
    #[default]
    #[serde(rename = "abi-v1")]
    AbiV1,
    /// A WASI preview 1 program with a `main` (the WASI profile).
    #[serde(rename = "wasi")]
    Wasi,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::AbiV1 => "abi-v1",
            Kind::Wasi => "wasi",
        }
    }
}

/// The language a function is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Lang {
    /// A cargo crate.
    Rust,
    /// C files compiled by clang.
    C,
}

/// How `pappus build` makes a function's module.
#[derive(Clone, Debug)]
pub(crate) struct BuildSpec {
    pub(crate) lang: Lang,
    /// The crate's folder (Rust) or a C file or folder of C files, absolute.
    pub(crate) src: PathBuf,
    /// Extra clang flags (C only).
    pub(crate) cflags: Vec<String>,
}

/// One function of the manifest, its paths made absolute.
#[derive(Clone, Debug)]
pub(crate) struct Function {
    /// The module file.
    pub(crate) wasm: PathBuf,
    pub(crate) kind: Kind,
    /// `None`: a prebuilt module `pappus build` leaves alone.
    pub(crate) build: Option<BuildSpec>,
    /// The limits given in the file (`None`: the runner's default).
    pub(crate) memory_mib: Option<u64>,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) max_output_mib: Option<u64>,
    /// argv\[1..\] and environment of a WASI program.
    pub(crate) args: Vec<String>,
    pub(crate) env: BTreeMap<String, String>,
    /// Static sets by name: the file or folder each is read from (absolute).
    pub(crate) static_sets: BTreeMap<String, PathBuf>,
}

impl Function {
    /// The limits for an embedded engine: the file's, else `Limits::default()`.
    pub(crate) fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(mib) = self.memory_mib {
            limits.memory_bytes = mib.saturating_mul(MIB);
        }
        if let Some(ms) = self.timeout_ms {
            limits.timeout = Duration::from_millis(ms);
        }
        if let Some(mib) = self.max_output_mib {
            limits.max_output_bytes = mib.saturating_mul(MIB);
        }
        limits
    }
}

/// A parsed `pappus.toml`.
#[derive(Default)]
pub(crate) struct Manifest {
    /// The folder holding the file.
    pub(crate) dir: PathBuf,
    pub(crate) functions: BTreeMap<String, Function>,
    /// Composition files, in registration order (absolute).
    pub(crate) compositions: Option<Vec<PathBuf>>,
    pub(crate) io: IoSettings,
}

impl Manifest {
    /// Reads `dir/pappus.toml`; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// The file cannot be read, is not TOML, or has an unknown key.
    pub(crate) fn load_if_present(dir: &Path) -> anyhow::Result<Option<Manifest>> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        // Absolute paths, so that messages and `pappus build` say where things are.
        let dir = &dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let raw: RawManifest =
            toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))?;
        Ok(Some(Manifest::resolve(dir, raw)))
    }

    /// Reads `dir/pappus.toml`, which must exist.
    ///
    /// # Errors
    /// As [`Manifest::load_if_present`], or there is no such file.
    pub(crate) fn load(dir: &Path) -> anyhow::Result<Manifest> {
        match Manifest::load_if_present(dir)? {
            Some(manifest) => Ok(manifest),
            None => bail!(
                "no {FILE_NAME} in {}: run this in a project folder (made by `pappus new`)",
                dir.display()
            ),
        }
    }

    fn resolve(dir: &Path, raw: RawManifest) -> Manifest {
        let functions = raw
            .functions
            .into_iter()
            .map(|(name, spec)| {
                let function = match spec {
                    RawFunction::Path(wasm) => Function {
                        wasm: dir.join(wasm),
                        kind: Kind::default(),
                        build: None,
                        memory_mib: None,
                        timeout_ms: None,
                        max_output_mib: None,
                        args: Vec::new(),
                        env: BTreeMap::new(),
                        static_sets: BTreeMap::new(),
                    },
                    RawFunction::Full(full) => {
                        let full = *full;
                        let build = match (full.lang, full.src) {
                            (Some(lang), Some(src)) => Some(BuildSpec {
                                lang,
                                src: dir.join(src),
                                cflags: full.cflags,
                            }),
                            _ => None,
                        };
                        Function {
                            wasm: dir.join(full.wasm),
                            kind: full.kind.unwrap_or_default(),
                            build,
                            memory_mib: full.memory_mib,
                            timeout_ms: full.timeout_ms,
                            max_output_mib: full.max_output_mib,
                            args: full.args,
                            env: full.env,
                            static_sets: full
                                .static_sets
                                .into_iter()
                                .map(|(set, path)| (set, dir.join(path)))
                                .collect(),
                        }
                    }
                };
                (name, function)
            })
            .collect();
        Manifest {
            dir: dir.to_path_buf(),
            functions,
            compositions: raw
                .compositions
                .map(|files| files.into_iter().map(|f| dir.join(f)).collect()),
            io: raw.io,
        }
    }

    /// The composition files: the `compositions` list, else every `*.pap` file
    /// of the folder in name order.
    ///
    /// # Errors
    /// The folder cannot be listed.
    pub(crate) fn composition_files(&self) -> anyhow::Result<Vec<PathBuf>> {
        if let Some(files) = &self.compositions {
            return Ok(files.clone());
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .with_context(|| format!("cannot list {}", self.dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "pap"))
            .collect();
        files.sort();
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_full_forms_and_unknown_keys() {
        let raw: RawManifest = toml::from_str(
            "[functions]\n\
             a = \"a.wasm\"\n\
             b = { wasm = \"b.wasm\", memory_mib = 8 }\n\
             [functions.c]\n\
             kind = \"wasi\"\n\
             lang = \"c\"\n\
             src = \"c.c\"\n\
             wasm = \"wasm/c.wasm\"\n\
             args = []\n",
        )
        .expect("valid manifest");
        let m = Manifest::resolve(Path::new("/p"), raw);
        assert_eq!(m.functions["a"].wasm, Path::new("/p/a.wasm"));
        assert!(m.functions["a"].build.is_none());
        assert_eq!(m.functions["b"].limits().memory_bytes, 8 * MIB);
        let c = &m.functions["c"];
        assert_eq!(c.kind, Kind::Wasi);
        let build = c.build.as_ref().map(|b| (b.lang, b.src.clone()));
        assert_eq!(build, Some((Lang::C, PathBuf::from("/p/c.c"))));
        assert!(
            toml::from_str::<RawManifest>("[functions.x]\nwasm = \"x\"\nlnag = \"c\"").is_err()
        );
        assert!(
            toml::from_str::<RawManifest>("[functions.x]\nwasm = \"x\"\nkind = \"wasm\"").is_err()
        );
    }
}
