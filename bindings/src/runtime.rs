//! The one tokio runtime the core runs on inside an app: the engine's task, key-server calls, and the
//! blocking work of matching, so that no foreign caller's thread is ever blocked.

use std::sync::LazyLock;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("openzone-core")
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start the OpenZone runtime: {e}"))
});

/// The shared runtime.
pub(crate) fn handle() -> tokio::runtime::Handle {
    RUNTIME.handle().clone()
}

/// Runs blocking work on the runtime's blocking pool and waits for it without blocking the caller.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, crate::OpenZoneError> {
    handle()
        .spawn_blocking(work)
        .await
        .map_err(|e| crate::OpenZoneError::Platform(format!("background work failed: {e}")))
}

/// Runs `work` on the runtime (the core's async calls need its reactor) and waits for it.
pub(crate) async fn spawn<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, crate::OpenZoneError> {
    handle()
        .spawn(work)
        .await
        .map_err(|e| crate::OpenZoneError::Platform(format!("the work was interrupted: {e}")))
}
