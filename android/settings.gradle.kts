// OpenZone's Android shell: `core` (the Rust core through uniffi, native libraries built with cargo-ndk),
// `shared` (plain Kotlin without Android imports: screen states, BLE glue logic, sync policy; tested on the
// host JVM by android/host-tests/run.sh) and `app` (the UI and the thin Android glue).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "OpenZone"
include(":core", ":shared", ":app")
