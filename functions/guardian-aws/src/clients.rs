//! The one place that configures AWS SDK clients: explicit timeouts and retries, a single
//! TLS stack (rustls + ring). The endpoint comes only from the standard environment
//! (`AWS_ENDPOINT_URL`), so the same code talks to AWS or to the local emulator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The shared SDK configuration a function builds once and hands to its adapters.
pub use aws_config::SdkConfig;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region};
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use guardian::config::{ConfigError, Env};

use crate::init_trace;

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
/// endpoint still come from the standard chain (env, profile, Lambda's role), and TLS trusts
/// the system's root certificates (the CLI and the tests use this one).
pub fn loader(settings: &SdkSettings) -> ConfigLoader {
    loader_trusting(settings, TrustStore::default())
}

fn loader_trusting(settings: &SdkSettings, roots: TrustStore) -> ConfigLoader {
    let http_client = http_client(roots);
    init_trace::mark("http client");
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(settings.timeout_config())
        .retry_config(settings.retry_config())
}

/// The shared SDK configuration a function's `main` builds once at cold start: [`loader`]
/// with the compiled-in root certificates ([`lambda_roots`]), and region and credentials
/// taken from Lambda's environment when it has them ([`from_lambda_environment`]).
pub async fn load(settings: &SdkSettings, env: &Env) -> SdkConfig {
    let roots = lambda_roots(env);
    init_trace::mark("root certificates");
    let sdk = from_lambda_environment(loader_trusting(settings, roots), env)
        .load()
        .await;
    init_trace::mark("sdk config");
    sdk
}

/// The roots a function's TLS trusts: Mozilla's, compiled in (`webpki-root-certs`), so a
/// cold start reads no file. The system store would be read from the image at the first
/// request: its bundle, then every file of its certificate directory (on this project's
/// Debian build machine 146 more files, on `provided.al2023` the same bundle again), all
/// parsed, measured at 4 ms more than these (docs/PERFORMANCE.md). `SSL_CERT_FILE` or
/// `SSL_CERT_DIR` in the environment still select the system store (and they narrow it
/// to what they name), for a private endpoint signed by a private CA. Lambda sets neither
/// (Lambda guide, "Defined runtime environment variables"), so on Lambda the compiled-in
/// roots apply unless the template sets one.
pub fn lambda_roots(env: &Env) -> TrustStore {
    if env.optional("SSL_CERT_FILE").is_some() || env.optional("SSL_CERT_DIR").is_some() {
        return TrustStore::default();
    }
    TrustStore::empty().with_pem_certificate(compiled_in_pem().into_bytes())
}

/// `webpki-root-certs`' roots as one PEM document (the SDK takes roots as PEM only).
fn compiled_in_pem() -> String {
    let mut pem = String::with_capacity(240 * 1024);
    for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        pem.push_str(&aws_smithy_types::base64::encode(der.as_ref()));
        pem.push_str("\n-----END CERTIFICATE-----\n");
    }
    pem
}

/// Lambda puts the region (`AWS_REGION`) and the role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) in the environment (Lambda guide, "Defined
/// runtime environment variables"; the emulator sets the same, tests/moto_ext/README.md). When they are there,
/// the loader is given them directly, which is what the standard chains would find first
/// anyway, but without building those chains at cold start (their profile, web-identity,
/// container and IMDS providers). Whatever is missing still comes from the standard chain
/// (a profile locally, `AWS_PROFILE`); everything else (`AWS_ENDPOINT_URL`, retries,
/// FIPS/dual-stack, the profile's other settings) is the loader's as before.
pub fn from_lambda_environment(mut loader: ConfigLoader, env: &Env) -> ConfigLoader {
    if let Some(region) = env.optional("AWS_REGION") {
        loader = loader.region(Region::new(region));
    }
    if env.optional("AWS_ACCESS_KEY_ID").is_some()
        && env.optional("AWS_SECRET_ACCESS_KEY").is_some()
    {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader
}

/// The HTTPS client (rustls + ring, trusting `roots`) every SDK client of a function
/// shares. Built explicitly: with default features off, the loader has no HTTP client of
/// its own and the first call would fail at run time.
pub fn http_client(roots: TrustStore) -> SharedHttpClient {
    let tls = TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .expect("a TLS context with only a trust store always builds");
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https();
    SharedHttpClient::new(TlsOnFirstRequest {
        https,
        built: AtomicBool::new(false),
    })
}

/// The SDK's HTTPS client, except for when it sets up TLS. The SDK's own builds its TLS
/// configuration, parsing every root certificate, once per SDK client at construction (to
/// load the certificates early, `validate_base_client_config`) and again on the first
/// request; a function with five clients parsed them six times at cold start. Here that
/// construction-time build is skipped: the first request builds it once (the SDK caches
/// it per connector settings) and every client shares it. Requests, connections, timeouts
/// and errors are the SDK client's own.
#[derive(Debug)]
struct TlsOnFirstRequest {
    https: SharedHttpClient,
    built: AtomicBool,
}

impl HttpClient for TlsOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let first = !self.built.swap(true, Ordering::Relaxed);
        if first {
            init_trace::mark("request until TLS setup");
        }
        let connector = self.https.http_connector(settings, components);
        if first {
            init_trace::mark("TLS setup (root certificates)");
        }
        connector
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.https.connector_metadata()
    }
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
    fn compiled_in_roots_are_every_webpki_root_as_pem() {
        let pem = compiled_in_pem();
        let blocks: Vec<&str> = pem
            .split("-----BEGIN CERTIFICATE-----\n")
            .skip(1)
            .map(|b| b.split("\n-----END CERTIFICATE-----").next().unwrap())
            .collect();
        assert_eq!(blocks.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        for (block, der) in blocks.iter().zip(webpki_root_certs::TLS_SERVER_ROOT_CERTS) {
            assert_eq!(
                aws_smithy_types::base64::decode(block).unwrap(),
                der.as_ref()
            );
        }
    }

    #[test]
    fn an_explicit_system_store_wins_over_the_compiled_in_roots() {
        let native = format!("{:?}", TrustStore::default());
        for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
            let roots = lambda_roots(&Env::from_pairs([(
                var,
                "/etc/ssl/certs/ca-certificates.crt",
            )]));
            assert_eq!(format!("{roots:?}"), native, "{var}");
        }
        let compiled_in = format!("{:?}", lambda_roots(&Env::from_pairs([("HOME", "/")])));
        assert!(compiled_in.starts_with("TrustStore { enable_native_roots: false"));
    }

    #[tokio::test]
    async fn region_and_credentials_come_from_lambda_environment() {
        let env = Env::from_pairs([
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ACCESS_KEY_ID", "AKIDLAMBDA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]);
        let sdk = load(&SdkSettings::default(), &env).await;
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-3"));
        assert!(sdk.credentials_provider().is_some());
        // Nothing in the environment: whatever the loader had (here, or its chain) stays.
        let given = loader(&SdkSettings::default()).region(Region::new("ap-south-2"));
        let sdk = from_lambda_environment(given, &Env::from_pairs([("AWS_REGION", " ")]))
            .load()
            .await;
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("ap-south-2"));
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
