//! Label key/value validation (the checks of [`crate::validation`]) and field.Error rendering
//! (`<path>: Invalid value: "<value>": <detail>`).

pub(crate) use crate::validation::{
    is_qualified_name as qualified_name_errors, is_valid_label_value as label_value_errors,
};

pub(crate) use crate::gofmt::go_quote;

/// `field.Invalid(path, value, detail).Error()` for a string value.
pub(crate) fn invalid_string(path: &str, value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {}: {detail}", go_quote(value))
}

/// `field.Invalid(path, values, detail).Error()` for a `[]string` value (rendered as JSON).
pub(crate) fn invalid_list(path: &str, values: Option<&[String]>, detail: &str) -> String {
    let rendered = match values {
        None => "null".to_string(),
        Some(v) => {
            let quoted: Vec<String> = v
                .iter()
                .map(|s| serde_json::Value::from(s.as_str()).to_string())
                .collect();
            format!("[{}]", quoted.join(","))
        }
    };
    format!("{path}: Invalid value: {rendered}: {detail}")
}

/// `validateLabelKey`: one field error, details joined by "; ".
pub(crate) fn validate_label_key(key: &str, path: &str) -> Option<String> {
    let errs = qualified_name_errors(key);
    (!errs.is_empty()).then(|| invalid_string(path, key, &errs.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names() {
        assert!(qualified_name_errors("app").is_empty());
        assert!(qualified_name_errors("app.kubernetes.io/name").is_empty());
        assert_eq!(
            qualified_name_errors("-app"),
            vec!["name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]
        );
        assert_eq!(
            qualified_name_errors("/a")[0],
            "prefix part must be non-empty"
        );
        assert!(qualified_name_errors(&"a".repeat(64))[0]
            .starts_with("name part must be no more than 63 characters"));
    }

    #[test]
    fn label_values() {
        assert!(label_value_errors("").is_empty());
        assert!(label_value_errors("v1.2_x-y").is_empty());
        assert_eq!(label_value_errors("a b").len(), 1);
    }
}
