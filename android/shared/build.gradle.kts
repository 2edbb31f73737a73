// Plain Kotlin without Android imports: the screens' states, the BLE glue's logic (scan mapping, scan-start
// limiter, advertiser restarts, GATT sessions), the sync policy, the data key's file, the i18n tables.
// It is an Android library only because it uses the core's bindings (an Android library); the same sources
// compile and run on the host JVM with android/host-tests/run.sh (`./gradlew :shared:hostTest`).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "org.openzone.app.shared"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
    }

    compileOptions {
        // java.time on Android 6 and 7 (API 23-25).
        isCoreLibraryDesugaringEnabled = true
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

dependencies {
    api(project(":core"))
    api(libs.kotlinx.coroutines.core)
    coreLibraryDesugaring(libs.desugar.jdk.libs)
}

// The host-JVM tests (src/hostTest): kotlinc + JNA against the workspace's debug build of the core.
tasks.register<Exec>("hostTest") {
    group = "verification"
    description = "Runs the shared module's tests on the host JVM against the real core library."
    workingDir = rootDir.parentFile
    commandLine("android/host-tests/run.sh")
}
