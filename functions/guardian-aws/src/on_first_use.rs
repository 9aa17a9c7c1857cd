//! An adapter's SDK client, built the first time the adapter calls AWS: an invocation builds
//! only the clients its work needs (the hook's CloudWatch client only after traffic with
//! rollback alarms, the DLQ inspector's Lambda client only to redrive, the fan-out's only to
//! halt trading), all from the function's one shared configuration.

use std::sync::OnceLock;

use aws_config::SdkConfig;

use crate::init_trace;

#[derive(Clone)]
pub(crate) enum OnFirstUse<C> {
    /// Handed over ready-made (tests): used as is.
    Ready(C),
    /// Built from the shared configuration on the first call, then kept.
    Lazy {
        client: OnceLock<C>,
        // Boxed: the configuration is large and a ready client needs none.
        sdk: Box<SdkConfig>,
        build: fn(&SdkConfig) -> C,
        service: &'static str,
    },
}

impl<C> OnFirstUse<C> {
    pub(crate) fn ready(client: C) -> Self {
        OnFirstUse::Ready(client)
    }

    pub(crate) fn from_sdk(
        sdk: &SdkConfig,
        service: &'static str,
        build: fn(&SdkConfig) -> C,
    ) -> Self {
        OnFirstUse::Lazy {
            client: OnceLock::new(),
            sdk: Box::new(sdk.clone()),
            build,
            service,
        }
    }

    pub(crate) fn get(&self) -> &C {
        match self {
            OnFirstUse::Ready(client) => client,
            OnFirstUse::Lazy {
                client,
                sdk,
                build,
                service,
            } => client.get_or_init(|| {
                let built = build(sdk);
                init_trace::mark(&format!("client {service}"));
                built
            }),
        }
    }
}

impl<C> std::fmt::Debug for OnFirstUse<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnFirstUse::Ready(_) => f.write_str("OnFirstUse::Ready"),
            OnFirstUse::Lazy {
                client, service, ..
            } => f
                .debug_struct("OnFirstUse::Lazy")
                .field("service", service)
                .field("built", &client.get().is_some())
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_client_is_built_once_and_only_when_first_used() {
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        fn build(_: &SdkConfig) -> usize {
            BUILT.fetch_add(1, Ordering::SeqCst) + 41
        }
        let sdk = SdkConfig::builder().build();
        let lazy = OnFirstUse::from_sdk(&sdk, "test", build);
        assert_eq!(
            BUILT.load(Ordering::SeqCst),
            0,
            "nothing built before the first call"
        );
        assert_eq!(*lazy.get(), 41);
        assert_eq!(*lazy.get(), 41);
        assert_eq!(BUILT.load(Ordering::SeqCst), 1);
        assert_eq!(*OnFirstUse::ready(7).get(), 7);
    }
}
