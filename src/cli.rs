//! Hand-written argument parsing for the `minimax` command: `--flag value` pairs and bare
//! switches, with one clear line for every mistake.

use std::collections::BTreeMap;
use std::fmt;

/// A usage error: printed as one line, exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parsed options of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    /// The subcommand's name (for messages).
    pub command: String,
    /// Positional words.
    pub positional: Vec<String>,
    values: BTreeMap<String, String>,
    switches: Vec<String>,
    used: std::cell::RefCell<Vec<String>>,
}

/// What a subcommand accepts: options that take a value, and switches.
pub struct Spec {
    /// Options taking a value (without the leading `--`).
    pub values: Vec<&'static str>,
    /// Switches (without the leading `--`).
    pub switches: Vec<&'static str>,
}

impl Spec {
    /// A spec from two lists.
    pub fn new(values: &[&'static str], switches: &[&'static str]) -> Spec {
        Spec {
            values: values.to_vec(),
            switches: switches.to_vec(),
        }
    }
}

impl Args {
    /// Parses `words` against `spec`. `--help`/`-h` is reported as `Ok(None)`.
    pub fn parse(command: &str, words: &[String], spec: &Spec) -> Result<Option<Args>, UsageError> {
        let mut a = Args {
            command: command.to_string(),
            ..Args::default()
        };
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            if w == "--help" || w == "-h" {
                return Ok(None);
            }
            if let Some(name) = w.strip_prefix("--") {
                let (name, inline) = match name.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (name, None),
                };
                if spec.switches.contains(&name) {
                    if inline.is_some() {
                        return Err(UsageError(format!(
                            "{command}: --{name} is a switch and takes no value"
                        )));
                    }
                    a.switches.push(name.to_string());
                } else if spec.values.contains(&name) {
                    let v = match inline {
                        Some(v) => v,
                        None => {
                            i += 1;
                            match words.get(i) {
                                Some(v) if !v.starts_with("--") => v.clone(),
                                _ => {
                                    return Err(UsageError(format!(
                                        "{command}: --{name} needs a value"
                                    )))
                                }
                            }
                        }
                    };
                    if a.values.insert(name.to_string(), v).is_some() {
                        return Err(UsageError(format!("{command}: --{name} is given twice")));
                    }
                } else {
                    return Err(UsageError(format!(
                        "{command}: unknown option --{name} (see `minimax {command} --help`)"
                    )));
                }
            } else {
                a.positional.push(w.clone());
            }
            i += 1;
        }
        Ok(Some(a))
    }

    /// The values and switches given among `names`, as (name, value) pairs (a switch's value is
    /// `"true"`).
    pub fn given(&self, names: &[&str]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .values
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for s in &self.switches {
            if names.contains(&s.as_str()) {
                out.push((s.clone(), "true".into()));
            }
        }
        out
    }

    /// Whether a switch was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The raw value of an option.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.used.borrow_mut().push(name.to_string());
        self.values.get(name).map(|s| s.as_str())
    }

    /// A parsed value, or `default` when absent; a malformed value is a usage error that names
    /// the option, the value and what was expected.
    pub fn get<T: std::str::FromStr>(
        &self,
        name: &str,
        default: T,
        expected: &str,
    ) -> Result<T, UsageError> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                UsageError(format!(
                    "{}: --{name} expects {expected}, got '{v}'",
                    self.command
                ))
            }),
        }
    }

    /// A required option.
    pub fn required(&self, name: &str) -> Result<String, UsageError> {
        self.value(name).map(|s| s.to_string()).ok_or_else(|| {
            UsageError(format!(
                "{}: --{name} is required (see `minimax {} --help`)",
                self.command, self.command
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::new(&["steps", "data"], &["resume"])
    }

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_values_switches_and_positionals() {
        let a = Args::parse("train", &w("gan --steps 10 --data=ring8 --resume"), &spec())
            .unwrap()
            .unwrap();
        assert_eq!(a.positional, vec!["gan"]);
        assert_eq!(a.get::<usize>("steps", 0, "a whole number").unwrap(), 10);
        assert_eq!(a.value("data"), Some("ring8"));
        assert!(a.switch("resume"));
        assert!(Args::parse("train", &w("--help"), &spec())
            .unwrap()
            .is_none());
    }

    #[test]
    fn mistakes_get_one_clear_line() {
        let e = |s: &str| Args::parse("train", &w(s), &spec()).unwrap_err().0;
        assert_eq!(
            e("--stepz 3"),
            "train: unknown option --stepz (see `minimax train --help`)"
        );
        assert_eq!(e("--steps"), "train: --steps needs a value");
        assert_eq!(e("--steps 1 --steps 2"), "train: --steps is given twice");
        assert_eq!(
            e("--resume=yes"),
            "train: --resume is a switch and takes no value"
        );
        let a = Args::parse("train", &w("--steps ten"), &spec())
            .unwrap()
            .unwrap();
        assert_eq!(
            a.get::<usize>("steps", 0, "a whole number").unwrap_err().0,
            "train: --steps expects a whole number, got 'ten'"
        );
    }
}
