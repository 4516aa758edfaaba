//! The administration settings of `shuju.toml` (`[admin]`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    pub password: PasswordPolicy,
    /// Failed logins in a row before the account is locked.
    pub lockout_failures: u32,
    /// How long a locked account stays locked.
    pub lockout_minutes: u32,
    /// How long a browser or API session lives.
    pub session_hours: u32,
    /// The longest lifetime an API token may be given.
    pub token_max_days: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// How many of the four classes (lower, upper, digit, symbol) a password must use.
    pub min_classes: usize,
    /// Days after which a password must be changed (0: never).
    pub expiry_days: u32,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            password: PasswordPolicy::default(),
            lockout_failures: 5,
            lockout_minutes: 15,
            session_hours: 8,
            token_max_days: 365,
        }
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 10,
            min_classes: 3,
            expiry_days: 90,
        }
    }
}
