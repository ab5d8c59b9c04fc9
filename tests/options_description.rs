//! The engine's description of its options (`describe_options`) is the one place an option
//! is defined: every option it lists works in the CLI and in the page's JSON alike, and the
//! README's options table agrees with it.

mod common;

use imgbatch::{OptionInfo, OptionKind, Settings, describe_options};
use serde_json::{Value, json};

/// A value for `option` other than its default, in settings JSON.
fn other_value(option: &OptionInfo) -> Value {
    match &option.kind {
        OptionKind::Choice { choices } => {
            let name = choices
                .iter()
                .rev()
                .find(|c| option.default != c.name)
                .expect("a choice besides the default")
                .name;
            Value::from(name)
        }
        OptionKind::Number { min, max } => {
            Value::from(if option.default == *max { *min } else { *max })
        }
        OptionKind::Switch => Value::from(true),
        OptionKind::Text { example } => Value::from(*example),
        OptionKind::List { example } => json!([example]),
    }
}

/// The CLI flags that give `value`.
fn flags(option: &OptionInfo, value: &Value) -> Vec<String> {
    let flag = format!("--{}", option.flag);
    match value {
        Value::Bool(_) => vec![flag],
        Value::String(text) => vec![flag, text.clone()],
        Value::Array(items) => items
            .iter()
            .flat_map(|item| [flag.clone(), item.as_str().unwrap().to_string()])
            .collect(),
        other => vec![flag, other.to_string()],
    }
}

/// Every output file under `dir`.
fn outputs(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(outputs(&path));
        } else {
            found.push(std::fs::read(path).unwrap());
        }
    }
    found
}

#[test]
fn every_described_option_reaches_the_engine_alike_from_the_cli_and_the_page_json() {
    let photo = "exif-orientation-examples/Landscape_6.jpg";
    let source = common::read(photo);
    let input = common::corpus_dir().join(photo);
    // Small outputs keep this quick; the sizes option brings its own.
    let base = json!({ "sizes": ["160"] });
    for option in describe_options() {
        let value = other_value(&option);
        let mut settings = base.clone();
        settings[option.field] = value.clone();
        let parsed = Settings::from_json(&settings.to_string())
            .unwrap_or_else(|e| panic!("{}: {}", option.field, e.message()));
        assert_eq!(
            serde_json::to_value(&parsed).unwrap()[option.field],
            value,
            "{} does not read back as written",
            option.field
        );
        let job = parsed
            .job()
            .unwrap_or_else(|e| panic!("{}: {}", option.field, e.message()));
        let expected = imgbatch::convert(&source, &job).unwrap();

        let out = tempfile::tempdir().unwrap();
        let mut args = vec![input.to_str().unwrap().to_string(), "-o".into()];
        args.push(out.path().to_str().unwrap().into());
        if option.field != "sizes" {
            args.extend(["--size".into(), "160".into()]);
        }
        args.extend(flags(&option, &value));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, stderr) = common::imgbatch(&args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        let written = outputs(out.path());
        assert_eq!(written.len(), expected.len(), "{}", option.field);
        for (cli, engine) in written.iter().zip(&expected) {
            assert!(
                *cli == engine.bytes,
                "--{} gives other bytes than \"{}\" in settings",
                option.flag,
                option.field
            );
        }
    }
}

#[test]
fn the_readme_options_table_lists_every_option_with_its_choices_range_and_default() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for option in describe_options() {
        let flag = format!("--{}", option.flag);
        let row = readme
            .lines()
            .find(|line| {
                line.starts_with("| `")
                    && line
                        .split('|')
                        .nth(1)
                        .is_some_and(|cell| cell.split(['`', ' ', ',']).any(|word| word == flag))
            })
            .unwrap_or_else(|| panic!("README.md's options table has no row for {flag}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '#'))
                .map(str::to_string)
                .collect()
        };
        let row_words = words(row);
        match &option.kind {
            OptionKind::Choice { choices } => {
                for choice in choices {
                    assert!(
                        row_words.iter().any(|w| w == choice.name),
                        "README.md's {flag} row does not list {}",
                        choice.name
                    );
                }
            }
            OptionKind::Number { min, max } => {
                let numbers: Vec<&str> = row.split(|c: char| !c.is_ascii_digit()).collect();
                for bound in [min, max] {
                    assert!(
                        numbers.contains(&bound.to_string().as_str()),
                        "README.md's {flag} row does not give the range {min}-{max}"
                    );
                }
            }
            _ => {}
        }
        let default = match &option.default {
            Value::String(text) if !text.is_empty() => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        if let Some(default) = default {
            assert!(
                words(cells[3]).contains(&default),
                "README.md gives {flag} the default '{}', the engine '{default}'",
                cells[3]
            );
        }
    }
}
