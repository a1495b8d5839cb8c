//! Image references (`health_image` = `docker.io/library/health_image:latest`), shared by the
//! image store and by manifest defaulting (the default imagePullPolicy depends on the tag).

mod grammar;
mod reference;

pub use grammar::{is_full_hex_identifier, is_lower_hex};
pub use reference::{Reference, ReferenceError, DEFAULT_DOMAIN, DEFAULT_TAG};

/// `SetDefaults_Container`: `Always` when the image's tag is `latest` (an untagged, undigested
/// image counts as `latest`), otherwise `IfNotPresent`, including references that do not parse.
pub fn default_image_pull_policy(image: &str) -> &'static str {
    match Reference::parse(image) {
        Ok(reference) if reference.digest().is_none() && reference.tag() == Some(DEFAULT_TAG) => {
            "Always"
        }
        _ => "IfNotPresent",
    }
}

#[cfg(test)]
mod tests {
    use super::default_image_pull_policy;

    #[test]
    fn pull_policy_follows_the_tag() {
        for (image, policy) in [
            ("health_image", "Always"),
            ("health_image:latest", "Always"),
            ("huqianakls/health_image:latest", "Always"),
            ("httpd:2.4", "IfNotPresent"),
            ("localhost:5000/app", "Always"),
            ("localhost:5000/app:1", "IfNotPresent"),
            (
                "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "IfNotPresent",
            ),
            ("Not Valid", "IfNotPresent"),
        ] {
            assert_eq!(default_image_pull_policy(image), policy, "{image}");
        }
    }
}
