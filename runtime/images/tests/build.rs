//! One real `cargo build` of a dependency-free crate (a few seconds once std is cached).

use std::time::Instant;

use wasmpod_images::{is_component, ImageError, ImageStore};

fn write_crate(dir: &std::path::Path, name: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "#[unsafe(no_mangle)]\npub extern \"C\" fn answer() -> u32 { 42 }\n",
    )
    .unwrap();
}

#[test]
fn builds_and_imports_a_crate() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let crate_dir = work.path().join("tiny");
    write_crate(&crate_dir, "tiny_component");
    let store = ImageStore::open(home.path()).unwrap();

    let started = Instant::now();
    let record = store.build("tiny:dev", &crate_dir).unwrap();
    assert!(
        started.elapsed().as_secs() < 60,
        "build took {:?}",
        started.elapsed()
    );
    assert_eq!(record.reference.to_string(), "docker.io/library/tiny:dev");
    assert!(is_component(&std::fs::read(&record.path).unwrap()));
    assert_eq!(
        store.resolve("tiny:dev").unwrap().unwrap().digest,
        record.digest
    );
}

#[test]
fn a_failing_build_is_reported() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let crate_dir = work.path().join("broken");
    write_crate(&crate_dir, "broken_component");
    std::fs::write(crate_dir.join("src/lib.rs"), "this is not rust").unwrap();
    let store = ImageStore::open(home.path()).unwrap();
    assert!(matches!(
        store.build("broken", &crate_dir),
        Err(ImageError::BuildFailed { .. })
    ));
    assert!(store.resolve("broken").unwrap().is_none());
}
