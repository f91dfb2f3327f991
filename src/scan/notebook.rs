//! Jupyter notebooks (`.ipynb`, nbformat 4), recognised by content: a JSON object with `cells`
//! and `nbformat`. [`scan`] scans each cell's source and each saved output (stream text,
//! `text/*` and `application/json` data, an error's value and traceback) as its own text, with
//! the JSON string escapes and the split of `source` into a list of lines undone, so a key
//! written across list items, or a PEM key in `\n`-escaped lines, is found as the user saw it.
//!
//! A finding is named by its cell, counted from 1 in the order the notebook shows them, as
//! GitHub and Jupyter render them: `nb.ipynb#cell-3` for the source, `nb.ipynb#cell-3.output-1`
//! for its first output; its line is the line within that text. The `.ipynb` stays the file of
//! the path, so reports that need a file (SARIF) still point at it. Images and other binary
//! outputs are not scanned; a notebook that does not parse is scanned as plain text.

use serde_json::Value;

use super::{Cap, Members};
use crate::detect::{locate, Detector};
use crate::finding::Provenance;

/// Whether `bytes` looks like a notebook, cheaply: a JSON object naming `nbformat`.
fn looks_like_notebook(bytes: &[u8]) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    first == Some(&b'{')
        && memchr::memmem::find(bytes, b"\"nbformat\"").is_some()
        && memchr::memmem::find(bytes, b"\"cells\"").is_some()
}

/// The texts of a notebook, each with its suffix (`#cell-3`, `#cell-3.output-1`); `None` when
/// `bytes` is not a notebook.
pub fn texts(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    if !looks_like_notebook(bytes) {
        return None;
    }
    let doc: Value = serde_json::from_slice(bytes).ok()?;
    let cells = doc.get("cells")?.as_array()?;
    doc.get("nbformat")?;
    let mut out = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let name = format!("#cell-{}", i + 1);
        if let Some(source) = cell.get("source").and_then(joined) {
            out.push((name.clone(), source));
        }
        let outputs = cell.get("outputs").and_then(Value::as_array);
        for (j, output) in outputs.into_iter().flatten().enumerate() {
            let text = output_text(output);
            if !text.is_empty() {
                out.push((format!("{name}.output-{}", j + 1), text));
            }
        }
    }
    Some(out)
}

/// Scan a notebook's texts; `None` when `bytes` is not a notebook.
pub fn scan(detector: &Detector, bytes: &[u8]) -> Option<Members> {
    let texts = texts(bytes)?;
    let mut members = Members {
        files: 1,
        bytes: bytes.len() as u64,
        ..Members::default()
    };
    let placeholder = Provenance::Unreachable {
        path: String::new(),
    };
    let mut cap = Cap::default();
    for (suffix, text) in texts {
        let (found, more) = locate::findings_counted(detector, text.as_bytes(), &placeholder, None);
        let found = found.into_iter().map(|f| (suffix.clone(), f)).collect();
        members.findings.extend(cap.admit(found, more, |(_, f)| f));
    }
    members.more = cap.more;
    Some(members)
}

/// A multi-line string as nbformat stores it: one string, or a list of lines to concatenate.
fn joined(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(parts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

/// Everything an output shows as text, one part after another.
fn output_text(output: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(text) = output.get("text").and_then(joined) {
        parts.push(text);
    }
    if let Some(data) = output.get("data").and_then(Value::as_object) {
        for (mime, value) in data {
            if mime.starts_with("text/") {
                parts.extend(joined(value));
            } else if mime == "application/json" || mime.ends_with("+json") {
                parts.push(match value {
                    Value::String(s) => s.clone(),
                    other => serde_json::to_string_pretty(other).unwrap_or_default(),
                });
            }
        }
    }
    if let Some(value) = output.get("evalue").and_then(Value::as_str) {
        parts.push(value.to_string());
    }
    if let Some(lines) = output.get("traceback").and_then(Value::as_array) {
        parts.push(
            lines
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_outputs_become_texts() {
        let nb = r##"{"cells": [
            {"cell_type": "markdown", "source": ["# Title\n", "text"]},
            {"cell_type": "code", "source": "print(1)", "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["one ", "two\n"]},
                {"output_type": "execute_result", "data": {"text/plain": ["a", "b"], "image/png": "iVBOR"}},
                {"output_type": "error", "ename": "E", "evalue": "bad", "traceback": ["l1", "l2"]}
            ]}
        ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}"##;
        let texts = texts(nb.as_bytes()).unwrap();
        let names: Vec<&str> = texts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "#cell-1",
                "#cell-2",
                "#cell-2.output-1",
                "#cell-2.output-2",
                "#cell-2.output-3"
            ]
        );
        assert_eq!(texts[0].1, "# Title\ntext");
        assert_eq!(texts[2].1, "one two\n");
        assert_eq!(texts[3].1, "ab");
        assert_eq!(texts[4].1, "bad\nl1\nl2");
    }

    #[test]
    fn other_json_is_not_a_notebook() {
        assert!(texts(br#"{"cells": 1}"#).is_none());
        assert!(texts(br#"{"nbformat": 4, "cells": "x"}"#).is_none());
        assert!(texts(b"[1, 2]").is_none());
        assert!(texts(br#"{"nbformat": 4, "cells": [] "#).is_none());
    }
}
