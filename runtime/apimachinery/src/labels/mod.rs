//! Label selectors (k8s.io/apimachinery/pkg/labels and metav1.LabelSelectorAsSelector):
//! parsing, validation with kube-apiserver's error texts, matching and canonical rendering.

mod parser;
mod validation;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::Value;

use crate::error::LabelSelectorError;
use validation::{invalid_list, invalid_string, label_value_errors, validate_label_key};

/// Selection operators (`selection.Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// One `key <op> values` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }

    pub fn matches(&self, labels: &impl LabelSource) -> bool {
        let value = labels.label(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => value.is_none_or(|v| !self.has_value(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(actual), [bound]) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.values.as_slice(),
                ) else {
                    return false;
                };
                let Ok(bound) = bound.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    actual > bound
                } else {
                    actual < bound
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// Go's `Requirement.String()`: values sorted, `in`/`notin` parenthesised.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        let mut values = self.values.clone();
        values.sort();
        f.write_str(&values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Go's `NewRequirement` with its validation. `values` is `None` for a Go nil slice (rendered
/// `null` in errors). `path` is the field path prefix ("" for none).
pub(crate) fn new_requirement(
    key: &str,
    operator: Operator,
    values: Option<Vec<String>>,
    path: &str,
) -> Result<Requirement, String> {
    let child = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    let values_path = child("values");
    let mut errs = Vec::new();
    if let Some(e) = validate_label_key(key, &child("key")) {
        errs.push(e);
    }
    let vals = values.as_deref().unwrap_or(&[]);
    match operator {
        Operator::In | Operator::NotIn if vals.is_empty() => errs.push(invalid_list(
            &values_path,
            values.as_deref(),
            "for 'in', 'notin' operators, values set can't be empty",
        )),
        Operator::Equals | Operator::DoubleEquals | Operator::NotEquals if vals.len() != 1 => errs
            .push(invalid_list(
                &values_path,
                values.as_deref(),
                "exact-match compatibility requires one single value",
            )),
        Operator::Exists | Operator::DoesNotExist if !vals.is_empty() => errs.push(invalid_list(
            &values_path,
            values.as_deref(),
            "values set must be empty for exists and does not exist",
        )),
        Operator::GreaterThan | Operator::LessThan => {
            if vals.len() != 1 {
                errs.push(invalid_list(
                    &values_path,
                    values.as_deref(),
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                ));
            }
            for (i, v) in vals.iter().enumerate() {
                if v.parse::<i64>().is_err() {
                    errs.push(invalid_string(
                        &format!("{values_path}[{i}]"),
                        v,
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    ));
                }
            }
        }
        _ => {}
    }
    for (i, v) in vals.iter().enumerate() {
        let value_errs = label_value_errors(v);
        if !value_errs.is_empty() {
            errs.push(invalid_string(
                &format!("{values_path}[{i}][{key}]"),
                v,
                &value_errs.join("; "),
            ));
        }
    }
    if errs.is_empty() {
        return Ok(Requirement {
            key: key.to_string(),
            operator,
            values: vals.to_vec(),
        });
    }
    Err(aggregate(errs))
}

/// `utilerrors.NewAggregate(...).Error()`: one message as is, several deduplicated in brackets.
fn aggregate(errs: Vec<String>) -> String {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<String> = errs
        .into_iter()
        .filter(|e| seen.insert(e.clone()))
        .collect();
    if unique.len() == 1 {
        unique.into_iter().next().unwrap_or_default()
    } else {
        format!("[{}]", unique.join(", "))
    }
}

/// Anything labels can be looked up in.
pub trait LabelSource {
    fn label(&self, key: &str) -> Option<&str>;
}

impl LabelSource for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl LabelSource for HashMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

/// A JSON `labels` object (`metadata.labels`); non-string members count as absent. A
/// non-object (e.g. missing labels, `null`) has no labels.
impl LabelSource for Value {
    fn label(&self, key: &str) -> Option<&str> {
        self.as_object()?.get(key)?.as_str()
    }
}

/// A parsed label selector: requirements ANDed, sorted by key. `Nothing` matches no object
/// (a nil metav1.LabelSelector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Requirements(Vec<Requirement>),
    Nothing,
}

impl Selector {
    /// Matches every object.
    pub fn everything() -> Selector {
        Selector::Requirements(Vec::new())
    }

    /// Go's `labels.Parse`.
    pub fn parse(selector: &str) -> Result<Selector, LabelSelectorError> {
        let mut requirements = parser::parse_requirements(selector).map_err(LabelSelectorError)?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector::Requirements(requirements))
    }

    /// Go's `metav1.LabelSelectorAsSelector` for a JSON `LabelSelector` (`matchLabels`,
    /// `matchExpressions`). `None` or JSON null is the nil selector (matches nothing); an empty
    /// selector matches everything.
    pub fn from_label_selector(selector: Option<&Value>) -> Result<Selector, LabelSelectorError> {
        let Some(Value::Object(selector)) = selector else {
            return Ok(Selector::Nothing);
        };
        let empty = serde_json::Map::new();
        let match_labels = selector
            .get("matchLabels")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let no_expressions = Vec::new();
        let expressions = selector
            .get("matchExpressions")
            .and_then(Value::as_array)
            .unwrap_or(&no_expressions);
        let mut requirements = Vec::with_capacity(match_labels.len() + expressions.len());
        for (key, value) in match_labels {
            let value = value.as_str().unwrap_or_default().to_string();
            requirements.push(
                new_requirement(key, Operator::Equals, Some(vec![value]), "")
                    .map_err(LabelSelectorError)?,
            );
        }
        for expr in expressions {
            let key = expr.get("key").and_then(Value::as_str).unwrap_or_default();
            let operator = expr
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let op = match operator {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(LabelSelectorError(format!(
                        "{} is not a valid label selector operator",
                        validation::go_quote(other)
                    )))
                }
            };
            let values: Option<Vec<String>> = expr
                .get("values")
                .and_then(Value::as_array)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.iter()
                        .map(|s| s.as_str().unwrap_or_default().to_string())
                        .collect()
                });
            requirements.push(new_requirement(key, op, values, "").map_err(LabelSelectorError)?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector::Requirements(requirements))
    }

    /// Go's `SelectorFromSet`: `key=value` for each entry.
    pub fn from_set<'a>(set: impl IntoIterator<Item = (&'a str, &'a str)>) -> Selector {
        let mut requirements: Vec<Requirement> = set
            .into_iter()
            .map(|(k, v)| Requirement {
                key: k.to_string(),
                operator: Operator::Equals,
                values: vec![v.to_string()],
            })
            .collect();
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector::Requirements(requirements)
    }

    pub fn matches(&self, labels: &impl LabelSource) -> bool {
        match self {
            Selector::Requirements(reqs) => reqs.iter().all(|r| r.matches(labels)),
            Selector::Nothing => false,
        }
    }

    /// True when the selector does not restrict anything.
    pub fn is_empty(&self) -> bool {
        matches!(self, Selector::Requirements(r) if r.is_empty())
    }

    pub fn requirements(&self) -> &[Requirement] {
        match self {
            Selector::Requirements(r) => r,
            Selector::Nothing => &[],
        }
    }

    /// Go's `RequiresExactMatch`: the value a selector pins `label` to, if any.
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements().iter().find(|r| r.key == label)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [only]) => Some(only),
            _ => None,
        }
    }
}

impl fmt::Display for Selector {
    /// Go's `Selector.String()`: requirements joined by ",", "" for Nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Go's `labels.FormatLabels`: `k=v` sorted by key, joined by ","; `<none>` when empty.
/// Non-string values in a JSON object are skipped.
pub fn format_labels(labels: Option<&Value>) -> String {
    let pairs: Vec<String> = labels
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        "<none>".into()
    } else {
        pairs.join(",")
    }
}

/// Go's `metav1.FormatLabelSelector`: the canonical string, `<none>` when it renders empty,
/// `<error>` when the selector is invalid.
pub fn format_label_selector(selector: Option<&Value>) -> String {
    match Selector::from_label_selector(selector) {
        Err(_) => "<error>".into(),
        Ok(s) => {
            let text = s.to_string();
            if text.is_empty() {
                "<none>".into()
            } else {
                text
            }
        }
    }
}
