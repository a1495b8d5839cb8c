//! pflag-style flags (`--name=value`, `--name value`, `--flag` for booleans) with cobra's
//! error texts, for subcommands that take no positional arguments.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
}

pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: &'static str,
}

#[derive(Debug)]
pub struct Flags {
    values: HashMap<&'static str, String>,
}

impl Flags {
    pub fn int(&self, name: &str) -> i64 {
        self.values
            .get(name)
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    }

    pub fn text(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    pub fn bool(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|value| value == "true")
    }
}

/// Parses `args` (after the subcommand). The error is cobra's first line, e.g.
/// `unknown flag: --foo` (printed as `Error: ...`).
pub fn parse(specs: &[Spec], args: &[String]) -> Result<Flags, String> {
    let mut values: HashMap<&'static str, String> = specs
        .iter()
        .map(|spec| (spec.name, spec.default.to_string()))
        .collect();
    let mut positional = 0;
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        index += 1;
        let Some(body) = arg.strip_prefix("--") else {
            if arg.starts_with('-') && arg.len() > 1 {
                let shorthand = arg.chars().nth(1).unwrap_or('-');
                return Err(format!("unknown shorthand flag: '{shorthand}' in {arg}"));
            }
            positional += 1;
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (body, None),
        };
        let Some(spec) = specs.iter().find(|spec| spec.name == name) else {
            return Err(format!("unknown flag: --{name}"));
        };
        let value = match (spec.kind, inline) {
            (_, Some(value)) => value,
            (Kind::Bool, None) => "true".to_string(),
            (_, None) => match args.get(index) {
                Some(value) => {
                    index += 1;
                    value.clone()
                }
                None => return Err(format!("flag needs an argument: --{name}")),
            },
        };
        match spec.kind {
            Kind::Int if value.parse::<i64>().is_err() => {
                return Err(format!(
                    "invalid argument \"{value}\" for \"--{name}\" flag: strconv.ParseInt: parsing \"{value}\": invalid syntax"
                ));
            }
            Kind::Bool
                if !matches!(
                    value.as_str(),
                    "true"
                        | "false"
                        | "1"
                        | "0"
                        | "t"
                        | "f"
                        | "TRUE"
                        | "FALSE"
                        | "True"
                        | "False"
                        | "T"
                        | "F"
                ) =>
            {
                return Err(format!(
                    "invalid argument \"{value}\" for \"--{name}\" flag: strconv.ParseBool: parsing \"{value}\": invalid syntax"
                ));
            }
            _ => {}
        }
        let normalized = match spec.kind {
            Kind::Bool => {
                matches!(value.as_str(), "true" | "1" | "t" | "TRUE" | "True" | "T").to_string()
            }
            _ => value,
        };
        values.insert(spec.name, normalized);
    }
    if positional > 0 {
        return Err(format!("accepts at most 0 arg(s), received {positional}"));
    }
    Ok(Flags { values })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: [Spec; 3] = [
        Spec {
            name: "http-port",
            kind: Kind::Int,
            default: "8080",
        },
        Spec {
            name: "service",
            kind: Kind::Text,
            default: "",
        },
        Spec {
            name: "tcp",
            kind: Kind::Bool,
            default: "false",
        },
    ];

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_and_both_value_forms() {
        let flags = parse(&SPECS, &[]).expect("no flags");
        assert_eq!(flags.int("http-port"), 8080);
        assert!(!flags.bool("tcp"));
        let flags = parse(
            &SPECS,
            &args(&["--http-port=9000", "--service", "x", "--tcp"]),
        )
        .expect("flags");
        assert_eq!(flags.int("http-port"), 9000);
        assert_eq!(flags.text("service"), "x");
        assert!(flags.bool("tcp"));
        let flags = parse(&SPECS, &args(&["--tcp=false"])).expect("flags");
        assert!(!flags.bool("tcp"));
    }

    #[test]
    fn cobra_error_texts() {
        assert_eq!(
            parse(&SPECS, &args(&["--nope"])).unwrap_err(),
            "unknown flag: --nope"
        );
        assert_eq!(
            parse(&SPECS, &args(&["--http-port=abc"])).unwrap_err(),
            "invalid argument \"abc\" for \"--http-port\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            parse(&SPECS, &args(&["extra"])).unwrap_err(),
            "accepts at most 0 arg(s), received 1"
        );
        assert_eq!(
            parse(&SPECS, &args(&["--service"])).unwrap_err(),
            "flag needs an argument: --service"
        );
    }
}
