//! Splitting manifest text into documents and turning each into a JSON value,
//! like kubectl's `YAMLOrJSONDecoder`: text starting with `{` is a JSON stream,
//! anything else is a (multi-document) YAML stream.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{DocumentLocation, ManifestError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Yaml,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        }
    }
}

/// One non-empty document of a manifest stream.
#[derive(Debug)]
pub(crate) struct RawDocument {
    pub location: DocumentLocation,
    pub format: Format,
    pub value: Value,
}

/// Every non-empty document of `text`, in order. Empty documents are skipped but
/// still counted, so document numbers match what a reader counts in the file.
pub(crate) fn split_documents(source: &str, text: &str) -> Result<Vec<RawDocument>, ManifestError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        split_json(source, text)
    } else {
        split_yaml(source, text)
    }
}

fn location(source: &str, document: usize) -> DocumentLocation {
    DocumentLocation {
        source: source.to_owned(),
        document,
        item: None,
    }
}

fn split_json(source: &str, text: &str) -> Result<Vec<RawDocument>, ManifestError> {
    let mut documents = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for (index, parsed) in stream.enumerate() {
        let location = location(source, index + 1);
        let value = parsed.map_err(|error| {
            let (line, column) = (error.line(), error.column());
            ManifestError::Syntax {
                location: location.clone(),
                format: Format::Json.name(),
                line: (line > 0).then_some(line),
                column: (line > 0).then_some(column),
                message: strip_position_suffix(&error.to_string(), line, column),
            }
        })?;
        if !value.is_null() {
            documents.push(RawDocument {
                location,
                format: Format::Json,
                value,
            });
        }
    }
    Ok(documents)
}

fn split_yaml(source: &str, text: &str) -> Result<Vec<RawDocument>, ManifestError> {
    let mut documents = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let location = location(source, index + 1);
        let yaml = serde_yaml::Value::deserialize(document).map_err(|error| {
            let position = error.location();
            let line = position.as_ref().map(|p| p.line());
            let column = position.as_ref().map(|p| p.column());
            ManifestError::Syntax {
                location: location.clone(),
                format: Format::Yaml.name(),
                line,
                column,
                message: strip_position_suffix(
                    &error.to_string(),
                    line.unwrap_or(0),
                    column.unwrap_or(0),
                ),
            }
        })?;
        if yaml.is_null() {
            continue;
        }
        let value = yaml_to_json(yaml).map_err(|message| ManifestError::Syntax {
            location: location.clone(),
            format: Format::Yaml.name(),
            line: None,
            column: None,
            message,
        })?;
        documents.push(RawDocument {
            location,
            format: Format::Yaml,
            value,
        });
    }
    Ok(documents)
}

/// Parsers append " at line L column C" to their messages; we report the position
/// separately, so drop the duplicate.
fn strip_position_suffix(message: &str, line: usize, column: usize) -> String {
    let suffix = format!(" at line {line} column {column}");
    message.strip_suffix(&suffix).unwrap_or(message).to_owned()
}

/// YAML → JSON the way sigs.k8s.io/yaml does it: tags are dropped and non-string
/// mapping keys become their textual form.
fn yaml_to_json(yaml: serde_yaml::Value) -> Result<Value, String> {
    Ok(match yaml {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(b),
        serde_yaml::Value::Number(n) => yaml_number_to_json(&n)?,
        serde_yaml::Value::String(s) => Value::String(s),
        serde_yaml::Value::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        serde_yaml::Value::Mapping(mapping) => {
            let mut object = serde_json::Map::new();
            for (key, value) in mapping {
                object.insert(yaml_key_to_string(key)?, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        serde_yaml::Value::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

fn yaml_number_to_json(n: &serde_yaml::Number) -> Result<Value, String> {
    if let Some(i) = n.as_i64() {
        Ok(Value::from(i))
    } else if let Some(u) = n.as_u64() {
        Ok(Value::from(u))
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("the number {n} cannot be represented in JSON"))
    }
}

fn yaml_key_to_string(key: serde_yaml::Value) -> Result<String, String> {
    match key {
        serde_yaml::Value::String(s) => Ok(s),
        serde_yaml::Value::Bool(b) => Ok(b.to_string()),
        serde_yaml::Value::Number(n) => Ok(n.to_string()),
        serde_yaml::Value::Null => Ok("null".to_owned()),
        serde_yaml::Value::Tagged(tagged) => yaml_key_to_string(tagged.value),
        serde_yaml::Value::Sequence(_) | serde_yaml::Value::Mapping(_) => {
            Err("mapping keys must be scalars".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_documents_are_numbered_including_empty_ones() {
        let text = "a: 1\n---\n---\nb: 2\n";
        let docs = split_documents("f.yaml", text).unwrap();
        let numbers: Vec<usize> = docs.iter().map(|d| d.location.document).collect();
        assert_eq!(numbers, vec![1, 3]);
        assert_eq!(docs[1].value, serde_json::json!({"b": 2}));
    }

    #[test]
    fn json_stream_is_split() {
        let docs = split_documents("f.json", " {\"a\": 1}\n{\"b\": 2}").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].format, Format::Json);
    }

    #[test]
    fn non_string_keys_become_strings() {
        let docs = split_documents("f.yaml", "labels:\n  8080: x\n  true: y\n").unwrap();
        assert_eq!(
            docs[0].value,
            serde_json::json!({"labels": {"8080": "x", "true": "y"}})
        );
    }

    #[test]
    fn yaml_error_reports_document_line_and_column() {
        let text = "a: 1\n---\nb: [1, 2\nc: 3\n";
        let err = split_documents("f.yaml", text).unwrap_err();
        match err {
            ManifestError::Syntax {
                location,
                line,
                column,
                format,
                ..
            } => {
                assert_eq!(location.document, 2);
                assert_eq!(format, "YAML");
                assert!(line.is_some() && column.is_some());
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn json_error_reports_line_and_column() {
        let err = split_documents("f.json", "{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(
                "f.json (document 1): malformed JSON at line 3, column 7: expected `:`"
            ),
            "{message}"
        );
    }
}
