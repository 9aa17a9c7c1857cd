//! The one place that configures AWS SDK clients: explicit timeouts and retries, a single
//! TLS stack (rustls + ring). The endpoint comes only from the standard environment
//! (`AWS_ENDPOINT_URL`), so the same code talks to AWS or to the local emulator.

use std::time::Duration;

/// The shared SDK configuration a function builds once and hands to its adapters.
pub use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use guardian::config::{ConfigError, Env};

/// How long and how often an AWS call may try. Defaults suit a Lambda whose every call is
/// also bounded by the invocation deadline (see `deadline`).
#[derive(Debug, Clone, PartialEq)]
pub struct SdkSettings {
    pub connect_timeout: Duration,
    /// One HTTP attempt, including reading the response.
    pub attempt_timeout: Duration,
    /// All attempts of one operation, retries and backoff included.
    pub operation_timeout: Duration,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
}

impl Default for SdkSettings {
    fn default() -> Self {
        SdkSettings {
            connect_timeout: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(25),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
        }
    }
}

impl SdkSettings {
    /// Defaults, with `AWS_MAX_ATTEMPTS` honoured as the SDKs usually do.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = SdkSettings::default();
        let max_attempts = env.parsed(
            "AWS_MAX_ATTEMPTS",
            defaults.max_attempts,
            "use a whole number of attempts >= 1, e.g. 3",
        )?;
        if max_attempts == 0 {
            return Err(ConfigError::malformed(
                "AWS_MAX_ATTEMPTS",
                "0 attempts would never call AWS",
                "use a whole number >= 1",
            ));
        }
        Ok(SdkSettings {
            max_attempts,
            ..defaults
        })
    }

    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(Duration::from_secs(2))
    }
}

/// A config loader with our HTTP client, timeouts and retries; region, credentials and
/// endpoint still come from the standard chain (env, Lambda's role).
pub fn loader(settings: &SdkSettings) -> ConfigLoader {
    // Built explicitly: with default features off, the loader has no HTTP client of its
    // own and the first call would fail at run time.
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(settings.timeout_config())
        .retry_config(settings.retry_config())
}

/// The shared SDK configuration a function's `main` builds once at cold start.
pub async fn load(settings: &SdkSettings) -> SdkConfig {
    loader(settings).load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_and_retries_are_explicit() {
        let s = SdkSettings::default();
        let t = s.timeout_config();
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(25)));
        assert_eq!(s.retry_config().max_attempts(), 3);
    }

    #[test]
    fn max_attempts_from_env_is_validated() {
        let ok = SdkSettings::from_env(&Env::from_pairs([("AWS_MAX_ATTEMPTS", "5")])).unwrap();
        assert_eq!(ok.max_attempts, 5);
        let zero =
            SdkSettings::from_env(&Env::from_pairs([("AWS_MAX_ATTEMPTS", "0")])).unwrap_err();
        assert!(zero.to_string().contains("AWS_MAX_ATTEMPTS"));
    }
}
