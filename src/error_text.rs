//! How an error is told to a person: the error and its chain of causes on
//! one line. Used wherever an error becomes text (the terminal, the run log,
//! the run's report lines, `status.json`, a notification), so it sits below
//! every one of them and depends on nothing in the crate.

/// An error and its causes on one line. Causes that the message already
/// quotes (domain errors name their cause in their own text) are not
/// repeated.
#[must_use]
pub fn describe_error(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
