//! `file://` reads and atomic writes.

use pappus_io::{Call, Item};

use crate::support::*;

#[test]
fn fetch_reads_local_files_of_several_sizes() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    // Around 64 KiB: the first read's size, past which the size is asked for.
    let sizes = [0usize, 1, 4096, 65535, 65536, 65537, 1 << 20, (3 << 20) + 7];
    let uris: Vec<String> = sizes
        .iter()
        .map(|&n| {
            let p = dir.path().join(format!("f{n}"));
            std::fs::write(&p, pattern(n)).unwrap();
            file_uri(&p)
        })
        .collect();
    let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
    let items = fetch(&rt, &refs).unwrap();
    assert_eq!(items.len(), sizes.len());
    for (i, (item, &n)) in items.iter().zip(&sizes).enumerate() {
        assert_eq!(item.key, i as u64);
        assert_eq!(item.name, format!("u{i}"));
        assert_eq!(item.data.as_ref(), pattern(n).as_slice(), "size {n}");
    }
    let total: usize = sizes.iter().sum();
    assert!(rt.stats().bytes_fetched >= total as u64);
}

#[test]
fn fetch_of_a_missing_file_names_the_uri() {
    let rt = runtime();
    let uri = "file:///definitely/not/here.txt";
    let e = assert_error(fetch(&rt, &[uri]), "io", uri);
    assert!(e.to_string().contains("opening"), "{e}");
}

#[test]
fn fetch_of_a_directory_is_refused() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let uri = file_uri(dir.path());
    let e = assert_error(fetch(&rt, &[&uri]), "forbidden", &uri);
    assert!(e.to_string().contains("regular files"), "{e}");
}

#[test]
fn percent_encoded_paths_are_decoded() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a b.txt"), b"spaced").unwrap();
    let uri = format!("file://{}/a%20b.txt", dir.path().display());
    assert_eq!(fetch_one(&rt, &uri), b"spaced");
}

#[test]
fn store_writes_files_atomically_and_creates_directories() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("deep/er/out.bin");
    std::fs::create_dir_all(dir.path().join("deep")).unwrap();
    let uri = file_uri(&target);
    let data = pattern(100_000);
    let receipts = rt
        .call(Call::Store {
            objects: vec![Item::new("out", 7, data.clone())],
            uris: vec![Item::new("where", 7, uri.clone())],
        })
        .unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!((receipts[0].name.as_str(), receipts[0].key), ("out", 7));
    let receipt: serde_json::Value = serde_json::from_slice(&receipts[0].data).unwrap();
    assert_eq!(receipt["uri"], uri.as_str());
    assert_eq!(receipt["size"], 100_000);
    assert!(receipt["etag"].is_null());
    assert_eq!(std::fs::read(&target).unwrap(), data);
    // Overwrite: readers see the old or the new file, and no temporary
    // file is left behind.
    rt.call(Call::Store {
        objects: vec![Item::new("out", 7, "second")],
        uris: vec![Item::new("where", 7, uri.clone())],
    })
    .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"second");
    let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("out.bin")]);
    assert!(rt.stats().bytes_stored >= 100_006);
}

#[test]
fn store_pairs_objects_and_uris_by_key() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let uris = (0..3)
        .map(|k| Item::new("u", k, file_uri(&dir.path().join(format!("{k}.txt")))))
        .collect();
    // Objects in another order than the URIs.
    let objects = [2u64, 0, 1]
        .iter()
        .map(|&k| Item::new(format!("o{k}"), k, format!("object {k}")))
        .collect();
    let receipts = rt.call(Call::Store { objects, uris }).unwrap();
    assert_eq!(
        receipts.iter().map(|r| r.key).collect::<Vec<_>>(),
        vec![2, 0, 1]
    );
    for k in 0..3 {
        let text = std::fs::read_to_string(dir.path().join(format!("{k}.txt"))).unwrap();
        assert_eq!(text, format!("object {k}"));
    }
}

#[test]
fn store_without_a_uri_for_the_key_fails() {
    let rt = runtime();
    let res = rt.call(Call::Store {
        objects: vec![Item::new("lonely", 3, "x")],
        uris: vec![Item::new("u", 4, "file:///tmp/never-written")],
    });
    let e = res.unwrap_err();
    assert_eq!(e.kind(), "missing_uri");
    assert!(e.to_string().contains("lonely"), "{e}");
}

#[test]
fn kernel_interfaces_are_never_read_even_with_the_local_authority() {
    let rt = runtime();
    for uri in [
        "file:///proc/self/status",
        "file:///sys/kernel/hostname",
        "file:///dev/null",
    ] {
        assert_error(fetch(&rt, &[uri]), "forbidden", uri);
    }
}
