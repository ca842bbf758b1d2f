//! Words for messages: "did you mean" suggestions for serde's unknown-field and unknown-variant
//! errors, and plurals.

/// `word`, or its plural (`word` + `s`) unless `n` is one: "1 error", "2 errors", "0 errors".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// The closest candidate to `word` by edit distance, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|&(d, c)| d <= (c.chars().count() / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Reads serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant") message
/// and returns a hint naming the closest expected value, or listing them when none is close.
pub fn unknown_field_hint(message: &str) -> Option<String> {
    let (what, rest) = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| {
            message
                .find(p)
                .map(|i| (&p[8..p.len() - 2], &message[i + p.len()..]))
        })?;
    let (word, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    if expected.is_empty() {
        return Some(format!("this {what} is not allowed here; remove it"));
    }
    Some(match did_you_mean(word, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!(
            "expected one of {}",
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_field() {
        let msg = "unknown field `verison`, expected one of `id`, `version`, `description` at line 3 column 12";
        assert_eq!(
            unknown_field_hint(msg).as_deref(),
            Some("did you mean `version`?")
        );
    }

    #[test]
    fn lists_fields_when_nothing_is_close() {
        let msg = "unknown field `zzz`, expected `id` or `version`";
        assert_eq!(
            unknown_field_hint(msg).as_deref(),
            Some("expected one of `id`, `version`")
        );
    }

    #[test]
    fn handles_variants_and_other_messages() {
        let msg = "unknown variant `dokcer`, expected one of `docker`, `podman`, `local`";
        assert_eq!(
            unknown_field_hint(msg).as_deref(),
            Some("did you mean `docker`?")
        );
        assert_eq!(
            unknown_field_hint("invalid type: string, expected u32"),
            None
        );
    }
}
