use std::collections::BTreeSet;
use std::path::Path;

use wasmpod_images::{builtin_images, is_component, ImageError, ImageStore};

/// What every fresh store holds, normalised and sorted as `list` returns it.
fn builtin_references() -> Vec<String> {
    let mut references: Vec<String> = builtin_images()
        .iter()
        .map(|(name, _)| wasmpod_images::Reference::parse(name).unwrap().to_string())
        .collect();
    references.sort();
    references
}

/// A minimal valid component (header plus one custom section), distinct per `seed`.
fn component(seed: &str) -> Vec<u8> {
    let name = b"seed";
    let payload = seed.as_bytes();
    let section_len = 1 + name.len() + payload.len();
    assert!(section_len < 128, "keep the LEB128 sizes to one byte");
    let mut bytes = vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
    bytes.extend([0x00, section_len as u8, name.len() as u8]);
    bytes.extend(name);
    bytes.extend(payload);
    bytes
}

fn open(root: &Path) -> ImageStore {
    ImageStore::open(root).expect("open store")
}

fn user_references(store: &ImageStore) -> Vec<String> {
    store
        .list()
        .unwrap()
        .into_iter()
        .map(|record| record.reference.to_string())
        .filter(|reference| !builtin_references().contains(reference))
        .collect()
}

#[test]
fn import_list_tag_resolve_remove() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    let wasm = component("a");

    let imported = store.import("app", &wasm).unwrap();
    assert_eq!(
        imported.reference.to_string(),
        "docker.io/library/app:latest"
    );
    assert_eq!(imported.size, wasm.len() as u64);
    assert_eq!(std::fs::read(&imported.path).unwrap(), wasm);
    assert!(imported
        .path
        .starts_with(home.path().join("images/blobs/sha256")));
    let hex = imported.digest.strip_prefix("sha256:").unwrap();
    assert_eq!(hex.len(), 64);
    assert_eq!(imported.path.file_name().unwrap(), hex);
    assert_eq!(imported.short_id(), &hex[..12]);
    assert_eq!(
        imported.image_id(),
        format!("docker.io/library/app@sha256:{hex}")
    );

    let tagged = store
        .tag("app:latest", "localhost:5000/team/app:v1")
        .unwrap();
    assert_eq!(tagged.digest, imported.digest);
    assert_eq!(
        tagged.created, imported.created,
        "one image, one creation time"
    );
    assert_eq!(
        user_references(&store),
        ["docker.io/library/app:latest", "localhost:5000/team/app:v1"],
        "sorted by reference"
    );

    // Every way of naming the image finds it.
    for name in [
        "app".to_string(),
        "docker.io/library/app:latest".to_string(),
        imported.short_id(),
        imported.digest.clone(),
        format!("sha256:{}", &hex[..7]),
        hex.to_string(),
        format!("app@{}", imported.digest),
    ] {
        let found = store
            .resolve(&name)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(found.digest, imported.digest, "{name}");
    }
    assert_eq!(store.resolve("other").unwrap(), None);
    assert_eq!(
        store
            .resolve(&format!("other@{}", imported.digest))
            .unwrap(),
        None
    );

    // A fresh handle sees the persisted index.
    let reopened = open(home.path());
    assert_eq!(reopened.resolve("app").unwrap().unwrap(), imported);

    let removed = store.remove("app").unwrap();
    assert_eq!(
        removed.reference.to_string(),
        "docker.io/library/app:latest"
    );
    assert_eq!(store.resolve("app").unwrap(), None);
    assert_eq!(user_references(&store), ["localhost:5000/team/app:v1"]);
    assert!(
        imported.path.exists(),
        "still tagged as localhost:5000/team/app:v1"
    );

    match store.remove("app") {
        Err(error @ ImageError::NotFound(_)) => {
            assert_eq!(error.to_string(), "No such image: app:latest")
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn removing_the_last_tag_deletes_the_blob() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    let first = store.import("one:1", &component("gc")).unwrap();
    store.import("two:2", &component("gc")).unwrap();

    store.remove("one:1").unwrap();
    assert!(first.path.exists(), "two:2 still points at the blob");
    store.remove("two:2").unwrap();
    assert!(!first.path.exists(), "no tag left");

    // Moving a tag to new content drops the old, now unreferenced, blob.
    let old = store.import("moving", &component("old")).unwrap();
    let new = store.import("moving", &component("new")).unwrap();
    assert_ne!(old.digest, new.digest);
    assert!(!old.path.exists());
    assert!(new.path.exists());
    assert_eq!(store.resolve("moving").unwrap().unwrap().digest, new.digest);
}

#[test]
fn removing_by_id_refuses_when_several_tags_share_it() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    let record = store.import("a", &component("shared")).unwrap();
    store.tag("a", "b").unwrap();

    let error = store.remove(&record.short_id()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
            record.short_id()
        )
    );
    store.remove("b").unwrap();
    let removed = store.remove(&record.short_id()).unwrap();
    assert_eq!(removed.reference.to_string(), "docker.io/library/a:latest");
    assert!(!record.path.exists());
}

#[test]
fn an_id_prefix_shared_by_two_images_is_ambiguous() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    // 17 images over 16 possible first hex digits: two must share one.
    let records: Vec<_> = (0..17)
        .map(|n| {
            store
                .import(&format!("img{n}"), &component(&format!("amb{n}")))
                .unwrap()
        })
        .collect();
    let mut seen = BTreeSet::new();
    let shared = records
        .iter()
        .map(|record| record.short_id()[..1].to_string())
        .find(|first| !seen.insert(first.clone()))
        .unwrap();
    assert!(matches!(
        store.resolve(&format!("sha256:{shared}")),
        Err(ImageError::AmbiguousId(_))
    ));
}

#[test]
fn only_components_are_imported() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    let core_module = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

    let error = store.import("core", &core_module).unwrap_err();
    assert_eq!(
        error.to_string(),
        "\"core\" is a core WebAssembly module, not a component: build with --target wasm32-wasip2 (or run wasm-tools component new)"
    );

    let file = home.path().join("module.wasm");
    std::fs::write(&file, core_module).unwrap();
    let error = store.import_file("core", &file).unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "{:?} is a core WebAssembly module",
            file.display().to_string()
        )),
        "{error}"
    );

    for junk in [
        &b""[..],
        b"\0asm",
        b"#!/bin/sh\necho hi\n",
        b"\0asm\x02\x00\x00\x00",
    ] {
        let error = store.import("junk", junk).unwrap_err();
        assert_eq!(error.to_string(), "\"junk\" is not a WebAssembly file");
    }
    assert!(user_references(&store).is_empty(), "nothing was stored");
}

#[test]
fn bad_references_and_digests_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    let error = store.import("Bad", &component("x")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "couldn't parse image name \"Bad\": invalid reference format: repository name (library/Bad) must be lowercase"
    );

    let wrong_digest = format!("x@sha256:{}", "0".repeat(64));
    assert!(matches!(
        store.import(&wrong_digest, &component("x")),
        Err(ImageError::DigestMismatch { .. })
    ));

    let record = store.import("x", &component("x")).unwrap();
    let pinned = store
        .import(&format!("x@{}", record.digest), &component("x"))
        .unwrap();
    assert_eq!(pinned.digest, record.digest);

    assert!(matches!(
        store.tag("x", &format!("y@{}", record.digest)),
        Err(ImageError::TagWithDigest(_))
    ));
    assert_eq!(
        store.tag("nope", "y").unwrap_err().to_string(),
        "No such image: nope:latest"
    );
}

#[test]
fn concurrent_imports_do_not_lose_updates() {
    let home = tempfile::tempdir().unwrap();
    open(home.path());
    let per_thread = 25;
    let threads: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|side| {
            let root = home.path().to_path_buf();
            std::thread::spawn(move || {
                // Each thread has its own handle, as a second process would.
                let store = ImageStore::open(&root).unwrap();
                for n in 0..per_thread {
                    store
                        .import(&format!("{side}:{n}"), &component(&format!("{side}{n}")))
                        .unwrap();
                    // Tags shared by both sides move back and forth.
                    store.import("shared", &component(side)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }

    let store = open(home.path());
    let records = store.list().unwrap();
    let references: BTreeSet<String> = records.iter().map(|r| r.reference.to_string()).collect();
    for side in ["left", "right"] {
        for n in 0..per_thread {
            assert!(
                references.contains(&format!("docker.io/library/{side}:{n}")),
                "{side}:{n}"
            );
        }
    }
    assert_eq!(
        records.len(),
        2 * per_thread + 1 + builtin_references().len()
    );
    for record in &records {
        assert_eq!(
            std::fs::metadata(&record.path).unwrap().len(),
            record.size,
            "{}",
            record.reference
        );
    }
    // Only blobs that some tag uses are left behind.
    let blobs = std::fs::read_dir(home.path().join("images/blobs/sha256"))
        .unwrap()
        .count();
    let digests: BTreeSet<_> = records.iter().map(|r| r.digest.clone()).collect();
    assert_eq!(blobs, digests.len());
}

#[test]
fn builtin_images_are_seeded_without_overwriting_user_tags() {
    let seeded: Vec<&str> = builtin_images().iter().map(|(name, _)| *name).collect();
    for expected in ["health_image:latest", "httpd:latest", "busybox:latest"] {
        assert!(seeded.contains(&expected), "{seeded:?}");
    }
    for (name, wasm) in builtin_images() {
        assert!(is_component(wasm), "{name} is a component");
    }

    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    for (name, wasm) in builtin_images() {
        let record = store
            .resolve(name)
            .unwrap()
            .unwrap_or_else(|| panic!("{name} seeded"));
        assert_eq!(&std::fs::read(&record.path).unwrap(), wasm);
    }
    let listed: Vec<_> = store
        .list()
        .unwrap()
        .into_iter()
        .map(|r| r.reference.to_string())
        .collect();
    assert_eq!(listed, builtin_references());

    let mine = store
        .import("health_image:latest", &component("mine"))
        .unwrap();
    let reopened = open(home.path());
    assert_eq!(
        reopened.resolve("health_image").unwrap().unwrap().digest,
        mine.digest
    );

    // A removed built-in comes back with the next open.
    reopened.remove("health_image").unwrap();
    assert!(reopened.resolve("health_image").unwrap().is_none());
    assert!(open(home.path()).resolve("health_image").unwrap().is_some());
}

#[test]
fn bundled_test_images_answer_to_every_tag_of_their_repositories() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    let busybox = store.resolve("busybox").unwrap().unwrap();
    let pinned = store
        .resolve("registry.k8s.io/busybox:1.27.2")
        .unwrap()
        .expect("any tag of registry.k8s.io/busybox");
    assert_eq!(pinned.digest, busybox.digest);
    assert_eq!(
        pinned.reference.to_string(),
        "registry.k8s.io/busybox:1.27.2"
    );
    assert!(store
        .list()
        .unwrap()
        .iter()
        .any(|r| r.reference.to_string() == "registry.k8s.io/busybox:1.27.2"));
    assert!(store
        .resolve("registry.k8s.io/unknown:1")
        .unwrap()
        .is_none());
}

#[test]
fn store_layout() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    assert_eq!(store.root(), home.path());
    assert_eq!(
        store.compile_cache_dir(),
        home.path().join("cache/compiled")
    );
    assert!(store.compile_cache_dir().is_dir());
    assert!(home.path().join("images/index.json").is_file());
}

#[test]
fn a_corrupt_index_is_reported() {
    let home = tempfile::tempdir().unwrap();
    let store = open(home.path());
    std::fs::write(home.path().join("images/index.json"), "{not json").unwrap();
    assert!(matches!(store.list(), Err(ImageError::CorruptIndex { .. })));
    let escaping = r#"{"images":{"docker.io/library/x:latest":{"digest":"sha256:../../etc","size":1,"created":"2025-01-01T00:00:00Z"}}}"#;
    std::fs::write(home.path().join("images/index.json"), escaping).unwrap();
    assert!(matches!(
        store.resolve("x"),
        Err(ImageError::CorruptIndex { .. })
    ));
}

#[test]
fn pulled_images_answer_to_their_manifest_digest_and_report_it_as_image_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let wasm = component("pulled");
    let manifest = format!("sha256:{}", "ab".repeat(32));
    let record = store
        .store_pulled("127.0.0.1:5000/app:1", &wasm, &manifest)
        .unwrap();
    assert!(record.is_pulled());
    assert_eq!(record.image_id(), format!("127.0.0.1:5000/app@{manifest}"));
    // `name@<manifest digest>` finds it; the content digest does too (Docker's image ID).
    let by_manifest = store
        .resolve(&format!("127.0.0.1:5000/app@{manifest}"))
        .unwrap()
        .expect("found by manifest digest");
    assert_eq!(by_manifest.digest, record.digest);
    assert!(store
        .resolve(&format!("127.0.0.1:5000/app@{}", record.digest))
        .unwrap()
        .is_some());
    // Another repository's name for the same content has no registry origin.
    let retagged = store.tag("127.0.0.1:5000/app:1", "local/app:2").unwrap();
    assert!(!retagged.is_pulled());
    // Survives a reopen (the index keeps the manifest digest).
    let reopened = open(dir.path());
    let again = reopened.resolve("127.0.0.1:5000/app:1").unwrap().unwrap();
    assert_eq!(again.repo_digest.as_deref(), Some(manifest.as_str()));
    // Imported content is local.
    let local = store.import("local/app:3", &component("local")).unwrap();
    assert!(!local.is_pulled());
}
