//! A module's declared set names: the `pappus.signature` custom section that the
//! SDK's `entry!` embeds (`docs/abi.md`, "Signature"). Read once, when the module
//! is compiled; a call never looks at it.

use std::fmt;

/// The section's name.
const SECTION: &str = "pappus.signature";
/// The import module of WASI preview 1 functions.
const WASI_MODULE: &str = "wasi_snapshot_preview1";
/// The only encoding version this host reads.
const VERSION: u8 = 1;

/// The input and output set names a module says it reads and writes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Input set names, in the order the module lists them.
    pub inputs: Vec<String>,
    /// Output set names, in the order the module lists them.
    pub outputs: Vec<String>,
}

impl Signature {
    /// Whether `inputs` and `outputs` name the same sets as this signature, in
    /// any order (sets are bound by name, so order does not matter).
    pub fn matches(&self, inputs: &[String], outputs: &[String]) -> bool {
        same_names(&self.inputs, inputs) && same_names(&self.outputs, outputs)
    }
}

fn same_names(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&str> = a.iter().map(String::as_str).collect();
    let mut b: Vec<&str> = b.iter().map(String::as_str).collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

impl fmt::Display for Signature {
    /// `(in, ...) => (out, ...)`, as in a `function` declaration.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "({}) => ({})",
            self.inputs.join(", "),
            self.outputs.join(", ")
        )
    }
}

/// The signature embedded in `module`, `Ok(None)` if it has none (or is `.wat`
/// text). [`Runtime::compile`](crate::Runtime::compile) reads it for
/// [`Function::signature`](crate::Function::signature); tools may call this on
/// a module without compiling it. Reading stops quietly at the first malformed
/// part of the module outside the section (compiling reports those).
///
/// # Errors
/// A message saying what is wrong with a malformed section.
pub fn read(module: &[u8]) -> Result<Option<Signature>, String> {
    if !module.starts_with(b"\0asm") {
        return Ok(None);
    }
    let mut found = None;
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        // wasmtime validated the module already; stop quietly at anything odd.
        let Ok(payload) = payload else { break };
        if let wasmparser::Payload::CustomSection(section) = payload {
            if section.name() == SECTION {
                if found.is_some() {
                    return Err(format!("two `{SECTION}` sections"));
                }
                found = Some(decode(section.data())?);
            }
        }
    }
    Ok(found)
}

/// Whether `module` imports WASI preview 1 functions, i.e. is a WASI program
/// rather than an ABI v1 guest, read without compiling it. A WASI program has
/// no `entry!` and so no signature; tools use this to say nothing about the
/// missing section. `false` for `.wat` text and for a module malformed before
/// its import section (compiling reports those).
pub fn imports_wasi(module: &[u8]) -> bool {
    if !module.starts_with(b"\0asm") {
        return false;
    }
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload {
            Ok(wasmparser::Payload::ImportSection(imports)) => {
                return imports
                    .into_imports()
                    .any(|import| import.is_ok_and(|i| i.module == WASI_MODULE));
            }
            // Imports come before code and data: nothing later can hold them.
            Ok(wasmparser::Payload::CodeSectionStart { .. }) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    false
}

/// Decodes version 1: a byte `1`, then the inputs, then the outputs, each a `u32`
/// LE count of names, each name a `u32` LE length and UTF-8 bytes. Every length
/// is checked against the bytes left, so nothing allocates beyond the section.
fn decode(data: &[u8]) -> Result<Signature, String> {
    let mut reader = Reader { data, at: 0 };
    let version = reader.bytes(1)?[0];
    if version != VERSION {
        return Err(format!(
            "`{SECTION}` section version {version}; this host reads version {VERSION}"
        ));
    }
    let inputs = reader.names("input")?;
    let outputs = reader.names("output")?;
    if reader.at != data.len() {
        return Err(format!(
            "`{SECTION}` section has {} trailing bytes",
            data.len() - reader.at
        ));
    }
    Ok(Signature { inputs, outputs })
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| format!("`{SECTION}` section is truncated at byte {}", self.at))?;
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<usize, String> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.bytes(4)?);
        Ok(u32::from_le_bytes(b) as usize)
    }

    fn names(&mut self, what: &str) -> Result<Vec<String>, String> {
        let count = self.u32()?;
        // Each name takes at least its 4-byte length: a count the section cannot
        // hold is refused before anything is allocated.
        if count > (self.data.len() - self.at) / 4 {
            return Err(format!(
                "`{SECTION}` section claims {count} {what} names, more than it holds"
            ));
        }
        let mut names = Vec::with_capacity(count);
        for _ in 0..count {
            let len = self.u32()?;
            let name = std::str::from_utf8(self.bytes(len)?)
                .map_err(|_| format!("`{SECTION}` section: an {what} name is not UTF-8"))?;
            names.push(name.to_owned());
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
        let mut out = vec![VERSION];
        for list in [inputs, outputs] {
            out.extend((list.len() as u32).to_le_bytes());
            for name in list {
                out.extend((name.len() as u32).to_le_bytes());
                out.extend(name.as_bytes());
            }
        }
        out
    }

    #[test]
    fn decodes_what_the_sdk_encodes() {
        let sig = decode(&encode(&["in", "b"], &["out"])).expect("valid");
        assert_eq!(sig.inputs, ["in", "b"]);
        assert_eq!(sig.outputs, ["out"]);
        assert_eq!(sig.to_string(), "(in, b) => (out)");
    }

    #[test]
    fn refuses_malformed_sections() {
        let good = encode(&["in"], &["out"]);
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "truncated at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        let mut version = good.clone();
        version[0] = 2;
        assert!(decode(&version).expect_err("refused").contains("version 2"));
        let huge = [VERSION, 0xff, 0xff, 0xff, 0xff];
        assert!(decode(&huge)
            .expect_err("refused")
            .contains("more than it holds"));
        let mut bad_utf8 = encode(&["x"], &[]);
        bad_utf8[9] = 0xff;
        assert!(decode(&bad_utf8).expect_err("refused").contains("UTF-8"));
    }

    #[test]
    fn matching_ignores_order() {
        let sig = Signature {
            inputs: vec!["a".into(), "b".into()],
            outputs: vec!["out".into()],
        };
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(sig.matches(&s(&["b", "a"]), &s(&["out"])));
        assert!(!sig.matches(&s(&["a"]), &s(&["out"])));
        assert!(!sig.matches(&s(&["a", "b"]), &s(&["result"])));
    }
}
