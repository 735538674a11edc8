//! When to notify, as one pure function: an unattended backup that fails
//! every five minutes must say so once, remind now and then, and say when it
//! works again, without a notification per run. Skipped runs (off the home
//! network, another run active) are not failures and change nothing.

use chrono::{DateTime, Utc};

use super::{Kind, Notification, Outcome};

/// What the last runs left behind, persisted between runs (`state`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct State {
    /// The first failed run of the current streak; `None`: the last run that
    /// was not skipped succeeded (or there was none).
    pub(super) failing_since: Option<DateTime<Utc>>,
    /// When the last failure or reminder was sent in this streak.
    pub(super) last_notified: Option<DateTime<Utc>>,
}

/// What to send (if anything) and the state to keep for the next run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Decision {
    pub(super) send: Option<Notification>,
    pub(super) next: State,
}

/// The rules of the game, from `[notify]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Policy {
    /// A failure still not fixed is notified again after this long.
    pub(super) repeat_after: chrono::Duration,
    /// Also notify every successful run.
    pub(super) on_success: bool,
}

/// Decides what this run's `outcome` means to the user at `now`:
///
/// - first failure → `Failure`;
/// - still failing, `repeat_after` since the last notification → `Reminder`
///   (also when the clock was set back behind it, so a wrong clock cannot
///   silence a failure);
/// - first success after failures → `Recovered` (once);
/// - other successes → `Success` if `on_success`, else nothing;
/// - skipped → nothing, state unchanged.
#[must_use]
pub(super) fn decide(
    prev: &State,
    outcome: &Outcome,
    now: DateTime<Utc>,
    policy: Policy,
) -> Decision {
    match outcome {
        Outcome::Skipped => Decision {
            send: None,
            next: prev.clone(),
        },
        Outcome::Failed(message) => match prev.failing_since {
            None => Decision {
                send: Some(failure(message)),
                next: State {
                    failing_since: Some(now),
                    last_notified: Some(now),
                },
            },
            Some(since) => {
                let due = prev.last_notified.is_none_or(|last| {
                    last > now || now.signed_duration_since(last) >= policy.repeat_after
                });
                Decision {
                    send: due.then(|| reminder(message, now.signed_duration_since(since))),
                    next: State {
                        failing_since: Some(since),
                        last_notified: if due { Some(now) } else { prev.last_notified },
                    },
                }
            }
        },
        Outcome::Ok => Decision {
            send: match prev.failing_since {
                Some(since) => Some(recovered(now.signed_duration_since(since))),
                None if policy.on_success => Some(success()),
                None => None,
            },
            next: State::default(),
        },
    }
}

/// At most this many characters of an error go into a notification.
const MAX_MESSAGE: usize = 400;

fn failure(message: &str) -> Notification {
    Notification {
        kind: Kind::Failure,
        title: "photos-backup: backup failed".into(),
        body: shorten(message),
    }
}

fn reminder(message: &str, failing_for: chrono::Duration) -> Notification {
    Notification {
        kind: Kind::Reminder,
        title: "photos-backup: backups still failing".into(),
        body: format!(
            "Failing for {}. Latest error: {}",
            human_duration(failing_for),
            shorten(message)
        ),
    }
}

fn recovered(failed_for: chrono::Duration) -> Notification {
    Notification {
        kind: Kind::Recovered,
        title: "photos-backup: backups work again".into(),
        body: format!(
            "The backup succeeded after failing for {}.",
            human_duration(failed_for)
        ),
    }
}

fn success() -> Notification {
    Notification {
        kind: Kind::Success,
        title: "photos-backup: backup done".into(),
        body: "The backup succeeded.".into(),
    }
}

/// One line of at most `MAX_MESSAGE` characters.
fn shorten(message: &str) -> String {
    let line = crate::text::one_line(message);
    if line.chars().count() <= MAX_MESSAGE {
        line
    } else {
        let mut short: String = line.chars().take(MAX_MESSAGE - 1).collect();
        short.push('…');
        short
    }
}

/// "3 min", "5 h", "2 days 3 h": how long, roughly, for a person.
#[must_use]
fn human_duration(d: chrono::Duration) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours) = (minutes / (24 * 60), minutes / 60 % 24);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, h) => format!("{h} h"),
        (1, 0) => "1 day".into(),
        (1, h) => format!("1 day {h} h"),
        (d, 0) => format!("{d} days"),
        (d, h) => format!("{d} days {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(hours: i64, minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::hours(hours)
            + Duration::minutes(minutes)
    }

    const POLICY: Policy = Policy {
        repeat_after: Duration::hours(24),
        on_success: false,
    };

    fn failed(message: &str) -> Outcome {
        Outcome::Failed(message.into())
    }

    /// Runs `outcomes` at their times from an empty state; returns what was
    /// sent, by kind and time, and the final state.
    fn play(
        policy: Policy,
        outcomes: &[(DateTime<Utc>, Outcome)],
    ) -> (Vec<(Kind, DateTime<Utc>)>, State) {
        let mut state = State::default();
        let mut sent = Vec::new();
        for (now, outcome) in outcomes {
            let d = decide(&state, outcome, *now, policy);
            if let Some(n) = d.send {
                sent.push((n.kind, *now));
            }
            state = d.next;
        }
        (sent, state)
    }

    #[test]
    fn first_failure_is_sent_with_the_message() {
        let d = decide(&State::default(), &failed("disk full"), at(0, 0), POLICY);
        let n = d.send.expect("a notification");
        assert_eq!(n.kind, Kind::Failure);
        assert_eq!(n.body, "disk full");
        assert_eq!(
            d.next,
            State {
                failing_since: Some(at(0, 0)),
                last_notified: Some(at(0, 0)),
            }
        );
    }

    #[test]
    fn no_repeat_before_repeat_after_then_a_reminder() {
        let runs: Vec<_> = (0..=12 * 24 + 1)
            .map(|i| (at(0, 5 * i), failed("wrong password")))
            .collect();
        let (sent, state) = play(POLICY, &runs);
        // One at the start, one a day later (minute 1440), none in between.
        assert_eq!(
            sent,
            [(Kind::Failure, at(0, 0)), (Kind::Reminder, at(24, 0))]
        );
        assert_eq!(state.failing_since, Some(at(0, 0)));
        assert_eq!(state.last_notified, Some(at(24, 0)));
    }

    #[test]
    fn reminder_says_how_long_and_the_latest_error() {
        let prev = State {
            failing_since: Some(at(0, 0)),
            last_notified: Some(at(0, 0)),
        };
        let n = decide(&prev, &failed("new\nproblem"), at(26, 10), POLICY)
            .send
            .unwrap();
        assert_eq!(n.kind, Kind::Reminder);
        assert_eq!(n.body, "Failing for 1 day 2 h. Latest error: new problem");
    }

    #[test]
    fn a_clock_set_back_does_not_silence_failures() {
        let prev = State {
            failing_since: Some(at(48, 0)),
            last_notified: Some(at(48, 0)),
        };
        let d = decide(&prev, &failed("x"), at(1, 0), POLICY);
        assert_eq!(d.send.map(|n| n.kind), Some(Kind::Reminder));
        assert_eq!(d.next.last_notified, Some(at(1, 0)));
    }

    #[test]
    fn recovered_once_then_quiet() {
        let (sent, state) = play(
            POLICY,
            &[
                (at(0, 0), failed("x")),
                (at(0, 5), failed("x")),
                (at(3, 0), Outcome::Ok),
                (at(3, 5), Outcome::Ok),
                (at(3, 10), Outcome::Ok),
            ],
        );
        assert_eq!(
            sent,
            [(Kind::Failure, at(0, 0)), (Kind::Recovered, at(3, 0))]
        );
        assert_eq!(state, State::default());
    }

    #[test]
    fn recovered_says_for_how_long() {
        let prev = State {
            failing_since: Some(at(0, 0)),
            last_notified: Some(at(0, 0)),
        };
        let n = decide(&prev, &Outcome::Ok, at(3, 20), POLICY).send.unwrap();
        assert_eq!(
            n.body, "The backup succeeded after failing for 3 h.",
            "{n:?}"
        );
    }

    #[test]
    fn skips_change_nothing() {
        let failing = State {
            failing_since: Some(at(0, 0)),
            last_notified: Some(at(0, 0)),
        };
        for prev in [State::default(), failing] {
            let d = decide(&prev, &Outcome::Skipped, at(100, 0), POLICY);
            assert_eq!(d.send, None);
            assert_eq!(d.next, prev);
        }
        // A streak of failures interrupted by skips is one streak: no new
        // "failed", no "recovered".
        let (sent, _) = play(
            POLICY,
            &[
                (at(0, 0), failed("x")),
                (at(1, 0), Outcome::Skipped),
                (at(2, 0), failed("x")),
            ],
        );
        assert_eq!(sent, [(Kind::Failure, at(0, 0))]);
    }

    #[test]
    fn success_ping_only_when_asked_and_never_twice_for_one_run() {
        let ping = Policy {
            on_success: true,
            ..POLICY
        };
        let (sent, _) = play(
            ping,
            &[
                (at(0, 0), Outcome::Ok),
                (at(0, 5), Outcome::Skipped),
                (at(0, 10), failed("x")),
                (at(0, 15), Outcome::Ok),
                (at(0, 20), Outcome::Ok),
            ],
        );
        assert_eq!(
            sent,
            [
                (Kind::Success, at(0, 0)),
                (Kind::Failure, at(0, 10)),
                (Kind::Recovered, at(0, 15)),
                (Kind::Success, at(0, 20)),
            ]
        );
        let (sent, _) = play(POLICY, &[(at(0, 0), Outcome::Ok)]);
        assert_eq!(sent, []);
    }

    #[test]
    fn long_messages_are_shortened_to_one_line() {
        let n = decide(
            &State::default(),
            &failed(&"x".repeat(1000)),
            at(0, 0),
            POLICY,
        )
        .send
        .unwrap();
        assert_eq!(n.body.chars().count(), MAX_MESSAGE);
        assert!(n.body.ends_with('…'));
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        for (minutes, text) in [
            (0, "0 min"),
            (59, "59 min"),
            (60, "1 h"),
            (24 * 60, "1 day"),
            (25 * 60 + 30, "1 day 1 h"),
            (72 * 60, "3 days"),
            (75 * 60, "3 days 3 h"),
            (-5, "0 min"),
        ] {
            assert_eq!(human_duration(Duration::minutes(minutes)), text);
        }
    }
}
