use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};
use wasmpod_images::{format_image_list, ImageRecord, Reference};

fn record(reference: &str, hex_start: &str, size: u64, created: Timestamp) -> ImageRecord {
    let hex = format!("{hex_start:0<64}");
    ImageRecord {
        reference: Reference::parse(reference).unwrap(),
        digest: format!("sha256:{hex}"),
        size,
        path: PathBuf::from(format!("/store/images/blobs/sha256/{hex}")),
        created,
        repo_digest: None,
    }
}

#[test]
fn lays_out_like_docker_image_ls() {
    let now: Timestamp = "2025-06-01T12:00:00Z".parse().unwrap();
    let records = [
        record(
            "health_image",
            "b29814cf5792e684",
            2_417_531,
            now - SignedDuration::from_secs(300),
        ),
        record(
            "huqianakls/health_image:v2",
            "0123456789abcdef",
            85_912,
            now - SignedDuration::from_hours(50),
        ),
        record(
            &format!("localhost:5000/x@sha256:{}", "c".repeat(64)),
            "cccccccccccccccc",
            999,
            now,
        ),
    ];
    let expected = "\
REPOSITORY                TAG       IMAGE ID       CREATED                  SIZE
health_image              latest    b29814cf5792   5 minutes ago            2.42MB
huqianakls/health_image   v2        0123456789ab   2 days ago               85.9kB
localhost:5000/x          <none>    cccccccccccc   Less than a second ago   999B
";
    assert_eq!(format_image_list(&records, now), expected);
}

#[test]
fn an_empty_list_is_just_the_header() {
    assert_eq!(
        format_image_list(&[], Timestamp::UNIX_EPOCH),
        "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
    );
}
