//! The area profile for "who we heard": a CSV of `area,group,share` rows giving each
//! group's share of an area's population (e.g. census age bands), so groups the fieldwork
//! under-represents are flagged.
//!
//! `area` is a ward or PAA code or a township name; `group` is an "about you" answer value,
//! written `question.value` (`age_band.age_18_24`) or just `value` where only one question
//! offers it; `share` is 0–1 (`0.12`) or a percentage (`12%`).

use std::collections::BTreeMap;

use crate::survey::Survey;

/// Flagged when the share among respondents is this much (0–1) below the population share.
pub const MARGIN: f64 = 0.05;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ProfileError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

/// One row of the profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    pub line: u64,
    /// The area as written, compared trimmed and ignoring case.
    pub area: String,
    /// The question id and the answer value.
    pub question: String,
    pub value: String,
    pub share: f64,
}

/// A parsed, checked profile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    pub rows: Vec<ProfileRow>,
}

impl Profile {
    /// The population share of `question = value` in `area`.
    pub fn share(&self, area: &str, question: &str, value: &str) -> Option<f64> {
        let area = super::normal_code(area);
        self.rows
            .iter()
            .find(|r| {
                super::normal_code(&r.area) == area && r.question == question && r.value == value
            })
            .map(|r| r.share)
    }
}

/// The "about you" questions of a survey: single-choice questions in its `about_you`
/// sections, none personal or internal.
pub fn about_you_questions(survey: &Survey) -> Vec<&crate::survey::Question> {
    survey
        .questions
        .iter()
        .filter(|q| {
            survey
                .sections
                .get(q.section)
                .is_some_and(|s| s.id.starts_with("about_you"))
                && matches!(q.kind, crate::survey::QuestionKind::Single { .. })
                && !q.personal
                && !q.internal
        })
        .collect()
}

/// Parses a profile. `groups` lists every (question, value) an "about you" question offers,
/// so a group that matches none, or a bare value that matches several, is an error naming
/// its line.
pub fn parse(text: &str, file: &str, groups: &[(String, String)]) -> Result<Profile, ProfileError> {
    let err = |line: u64, message: String| ProfileError {
        file: file.to_owned(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| err(1, format!("not a CSV file: {e}")))?
        .clone();
    let names: Vec<&str> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}'))
        .collect();
    if names != ["area", "group", "share"] {
        return Err(err(
            1,
            format!(
                "the header must be `area,group,share`, not `{}`",
                names.join(",")
            ),
        ));
    }
    let mut rows: Vec<ProfileRow> = Vec::new();
    let mut seen: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, format!("not a CSV row: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != 3 {
            return Err(err(
                line,
                format!(
                    "expected 3 fields (area, group, share), found {}",
                    record.len()
                ),
            ));
        }
        let (area, group, share) = (&record[0], &record[1], &record[2]);
        if area.is_empty() {
            return Err(err(line, "the area is empty".to_owned()));
        }
        let (question, value) = resolve(group, groups).map_err(|m| err(line, m))?;
        let share = parse_share(share).map_err(|m| err(line, m))?;
        let key = (super::normal_code(area), question.clone(), value.clone());
        if let Some(first) = seen.insert(key, line) {
            return Err(err(
                line,
                format!("{area} {question}.{value} is given twice (first on line {first})"),
            ));
        }
        rows.push(ProfileRow {
            line,
            area: area.to_owned(),
            question,
            value,
            share,
        });
    }
    Ok(Profile { rows })
}

fn resolve(group: &str, groups: &[(String, String)]) -> Result<(String, String), String> {
    if group.is_empty() {
        return Err("the group is empty".to_owned());
    }
    if let Some((q, v)) = group.split_once('.') {
        return groups
            .iter()
            .find(|(gq, gv)| gq == q && gv == v)
            .cloned()
            .ok_or_else(|| format!("no \"about you\" question `{q}` offers `{v}`"));
    }
    let matches: Vec<&(String, String)> = groups.iter().filter(|(_, v)| v == group).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "`{group}` is not an answer to any \"about you\" question (write question.value, e.g. age_band.age_18_24)"
        )),
        several => Err(format!(
            "`{group}` is an answer to several questions ({}): write question.{group}",
            several
                .iter()
                .map(|(q, _)| q.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn parse_share(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (text, 1.0),
    };
    let x: f64 = number
        .parse()
        .map_err(|_| format!("the share `{text}` is not a number (0.12 or 12%)"))?;
    let x = x / scale;
    if !(0.0..=1.0).contains(&x) || !x.is_finite() {
        return Err(format!(
            "the share `{text}` is not between 0 and 1 (or 0% and 100%)"
        ));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> Vec<(String, String)> {
        [
            ("age_band", "age_18_24"),
            ("age_band", "age_65_74"),
            ("sex", "female"),
            ("sex", "prefer_not_to_say"),
            ("religion", "prefer_not_to_say"),
        ]
        .iter()
        .map(|(q, v)| (q.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn reads_fractions_percentages_and_qualified_groups() {
        let p = parse(
            "area,group,share\nE05000650,age_18_24,0.12\nE05000650,sex.female,51%\n",
            "p.csv",
            &groups(),
        )
        .unwrap();
        assert_eq!(p.share("e05000650", "age_band", "age_18_24"), Some(0.12));
        assert_eq!(p.share("E05000650", "sex", "female"), Some(0.51));
        assert_eq!(p.rows[1].line, 3);
    }

    #[test]
    fn bad_rows_name_their_line() {
        for (text, message) in [
            (
                "area,grp,share\n",
                "p.csv:1: the header must be `area,group,share`",
            ),
            (
                "area,group,share\nX,age_18_24,0.1\nX,age_99,0.1\n",
                "p.csv:3: `age_99` is not an answer",
            ),
            (
                "area,group,share\nX,prefer_not_to_say,0.1\n",
                "p.csv:2: `prefer_not_to_say` is an answer to several questions (sex, religion)",
            ),
            (
                "area,group,share\nX,age_18_24,lots\n",
                "p.csv:2: the share `lots` is not a number",
            ),
            (
                "area,group,share\nX,age_18_24,1.5\n",
                "p.csv:2: the share `1.5` is not between 0 and 1",
            ),
            (
                "area,group,share\nX,age_18_24\n",
                "p.csv:2: expected 3 fields",
            ),
            (
                "area,group,share\n,age_18_24,0.1\n",
                "p.csv:2: the area is empty",
            ),
            (
                "area,group,share\nX,age_18_24,0.1\nx,age_band.age_18_24,0.2\n",
                "p.csv:3: x age_band.age_18_24 is given twice (first on line 2)",
            ),
            (
                "area,group,share\nX,sex.male,0.1\n",
                "p.csv:2: no \"about you\" question `sex` offers `male`",
            ),
        ] {
            let e = parse(text, "p.csv", &groups()).unwrap_err().to_string();
            assert!(e.starts_with(message), "{text:?}: {e}");
        }
    }
}
