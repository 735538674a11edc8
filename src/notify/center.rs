//! macOS Notification Center, through notify-rust (in `platform`, the one
//! place with `#[cfg]`s). A program that is not an app bundle may be refused
//! or shown under another app's name; `notifier_for` therefore backs this up
//! with `osascript`. Elsewhere than on macOS it always fails, and the config
//! does not let it be chosen there.

use super::{Notification, Notifier, NotifyError};

/// Shows notifications in Notification Center.
#[derive(Debug, Default, Clone, Copy)]
pub struct NotificationCenter;

impl Notifier for NotificationCenter {
    fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        crate::platform::show_notification(&n.title, &n.body).map_err(NotifyError::Center)
    }
}
