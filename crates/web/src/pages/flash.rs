//! Messages shown once after a form's redirect ("saved", or why it was refused).
//!
//! The text never travels in the URL: `back` keeps it on the server under a random key bound to
//! the session that caused it, and the URL carries only `?flash=<key>`. A key from another session,
//! an old one or a made-up one shows nothing, so a link cannot make a page print text of an
//! attacker's choosing.

use super::{Flash, PageCaller};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a message waits for its page.
const TTL: Duration = Duration::from_secs(300);
/// At most this many messages wait at once; the oldest go first.
const CAP: usize = 10_000;

struct Waiting {
    session: Option<String>,
    at: Instant,
    flash: Flash,
}

fn waiting() -> &'static Mutex<HashMap<String, Waiting>> {
    static W: OnceLock<Mutex<HashMap<String, Waiting>>> = OnceLock::new();
    W.get_or_init(Default::default)
}

/// Keep `flash` for the caller's next page; the key to put in the URL.
pub fn put(pc: &PageCaller, flash: Flash) -> String {
    let key = shuju_admin::password::random_token();
    let mut w = waiting().lock().unwrap_or_else(|e| e.into_inner());
    w.retain(|_, m| m.at.elapsed() < TTL);
    if w.len() >= CAP
        && let Some(oldest) = w.iter().min_by_key(|(_, m)| m.at).map(|(k, _)| k.clone())
    {
        w.remove(&oldest);
    }
    w.insert(
        key.clone(),
        Waiting {
            session: pc.caller.session_hash.clone(),
            at: Instant::now(),
            flash,
        },
    );
    key
}

/// The message behind `key`, once, if this session left it.
pub fn take(pc: &PageCaller, key: Option<&str>) -> Flash {
    let Some(key) = key else {
        return Flash::default();
    };
    let mut w = waiting().lock().unwrap_or_else(|e| e.into_inner());
    match w.get(key) {
        Some(m) if m.session == pc.caller.session_hash && m.at.elapsed() < TTL => {
            w.remove(key).map(|m| m.flash).unwrap_or_default()
        }
        _ => Flash::default(),
    }
}
