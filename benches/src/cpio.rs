//! A writer for the `newc` cpio format, the format Linux unpacks as an initramfs.

/// An archive being built in memory.
#[derive(Debug, Default)]
pub struct Archive {
    buf: Vec<u8>,
    next_ino: u32,
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;

impl Archive {
    /// An empty archive.
    pub fn new() -> Self {
        Archive {
            buf: Vec::new(),
            next_ino: 1,
        }
    }

    /// Adds a directory (`path` without a leading `/`).
    pub fn dir(&mut self, path: &str, perm: u32) -> &mut Self {
        self.entry(path, S_IFDIR | perm, 2, (0, 0), &[])
    }

    /// Adds a regular file.
    pub fn file(&mut self, path: &str, perm: u32, data: &[u8]) -> &mut Self {
        self.entry(path, S_IFREG | perm, 1, (0, 0), data)
    }

    /// Adds a character device node (e.g. `dev/console`, 5:1).
    pub fn char_device(&mut self, path: &str, perm: u32, major: u32, minor: u32) -> &mut Self {
        self.entry(path, S_IFCHR | perm, 1, (major, minor), &[])
    }

    fn entry(
        &mut self,
        path: &str,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        data: &[u8],
    ) -> &mut Self {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.header(ino, mode, nlink, rdev, path, data.len());
        self.buf.extend_from_slice(data);
        self.pad();
        self
    }

    fn header(
        &mut self,
        ino: u32,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        name: &str,
        size: usize,
    ) {
        let fields = [
            ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            size as u32,
            0, // dev major
            0, // dev minor
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0, // check
        ];
        self.buf.extend_from_slice(b"070701");
        for f in fields {
            self.buf.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(0);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// Appends the trailer and answers the archive's bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.header(0, 0, 1, (0, 0), "TRAILER!!!", 0);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_layout() {
        let mut a = Archive::new();
        a.file("init", 0o755, b"hello");
        let bytes = a.finish();
        // Header (110 bytes) + "init\0" = 115, padded to 116; data 5 padded to 8.
        assert_eq!(&bytes[..6], b"070701");
        assert_eq!(&bytes[6..14], b"00000001"); // ino
        assert_eq!(&bytes[14..22], b"000081ED"); // regular file, 0755
        assert_eq!(&bytes[54..62], b"00000005"); // size
        assert_eq!(&bytes[94..102], b"00000005"); // name size incl. NUL
        assert_eq!(&bytes[110..115], b"init\0");
        assert_eq!(&bytes[116..121], b"hello");
        assert_eq!(&bytes[124..130], b"070701");
        assert_eq!(bytes.len() % 4, 0);
        let trailer = b"TRAILER!!!\0";
        assert!(bytes.windows(trailer.len()).any(|w| w == trailer));
    }

    #[test]
    fn device_nodes_carry_rdev() {
        let mut a = Archive::new();
        a.char_device("dev/console", 0o600, 5, 1);
        let bytes = a.finish();
        assert_eq!(&bytes[14..22], b"00002180");
        assert_eq!(&bytes[78..86], b"00000005"); // rdev major
        assert_eq!(&bytes[86..94], b"00000001"); // rdev minor
    }
}
