//! `metav1.LabelSelectorAsSelector(...).String()` and `metav1.FormatLabelSelector`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// One parsed requirement (`labels.Requirement`).
struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

#[derive(Clone, Copy)]
enum Operator {
    Equals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// The selector could not be converted (unknown operator or wrong value count).
pub struct InvalidSelector;

impl Requirement {
    fn from_expression(expr: &LabelSelectorRequirement) -> Result<Requirement, InvalidSelector> {
        let operator = match expr.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            _ => return Err(InvalidSelector),
        };
        let values = expr.values.clone().unwrap_or_default();
        // `labels.NewRequirement`: set operators need values, existence operators none.
        let valid = match operator {
            Operator::In | Operator::NotIn => !values.is_empty(),
            Operator::Exists | Operator::DoesNotExist => values.is_empty(),
            Operator::Equals => values.len() == 1,
        };
        if !valid {
            return Err(InvalidSelector);
        }
        Ok(Requirement {
            key: expr.key.clone(),
            operator,
            values,
        })
    }

    /// `Requirement.String()`; multiple values are printed sorted.
    fn render(&self) -> String {
        let mut values = self.values.clone();
        values.sort();
        let values = values.join(",");
        match self.operator {
            Operator::Equals => format!("{}={values}", self.key),
            Operator::In => format!("{} in ({values})", self.key),
            Operator::NotIn => format!("{} notin ({values})", self.key),
            Operator::Exists => self.key.clone(),
            Operator::DoesNotExist => format!("!{}", self.key),
        }
    }
}

/// `LabelSelectorAsSelector(selector).String()`: requirements sorted by key, comma joined;
/// empty for a nil or empty selector.
pub fn selector_string(selector: Option<&LabelSelector>) -> Result<String, InvalidSelector> {
    let Some(selector) = selector else {
        return Ok(String::new());
    };
    let mut requirements: Vec<Requirement> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, value)| Requirement {
            key: key.clone(),
            operator: Operator::Equals,
            values: vec![value.clone()],
        })
        .collect();
    for expr in selector.match_expressions.iter().flatten() {
        requirements.push(Requirement::from_expression(expr)?);
    }
    requirements.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(requirements
        .iter()
        .map(Requirement::render)
        .collect::<Vec<_>>()
        .join(","))
}

/// `metav1.FormatLabelSelector`: `<none>` when empty, `<error>` when invalid.
pub fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    match selector_string(selector) {
        Ok(s) if s.is_empty() => "<none>".to_string(),
        Ok(s) => s,
        Err(InvalidSelector) => "<error>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(value: serde_json::Value) -> LabelSelector {
        serde_json::from_value(value).expect("selector")
    }

    #[test]
    fn set_and_existence_operators() {
        let s = selector(serde_json::json!({
            "matchLabels": {"b": "2"},
            "matchExpressions": [
                {"key": "c", "operator": "NotIn", "values": ["z", "y"]},
                {"key": "a", "operator": "DoesNotExist"},
                {"key": "d", "operator": "Exists"},
            ],
        }));
        assert_eq!(format_label_selector(Some(&s)), "!a,b=2,c notin (y,z),d");
    }

    #[test]
    fn empty_nil_and_invalid() {
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(
            format_label_selector(Some(&LabelSelector::default())),
            "<none>"
        );
        let bad = selector(serde_json::json!({
            "matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}],
        }));
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        let no_values = selector(serde_json::json!({
            "matchExpressions": [{"key": "a", "operator": "In"}],
        }));
        assert!(selector_string(Some(&no_values)).is_err());
    }
}
