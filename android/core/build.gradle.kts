// The Rust core as an Android library: the uniffi Kotlin bindings, generated at build time by the
// workspace's scripts/gen-bindings (never committed), and libopenzone_ffi.so for arm64-v8a, armeabi-v7a
// (the 32-bit phones common among families) and x86_64 (emulators), built by cargo-ndk with the NDK's clang
// (r28+: 16 KB-aligned ELF segments, needed on Android 15 phones with 16 KB pages).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

/** The Cargo workspace: android/.. */
val workspaceDir: File = rootDir.parentFile
val generatedBindings = layout.buildDirectory.dir("generated/uniffi/kotlin")
val jniLibsDir: File = file("src/main/jniLibs")
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "org.openzone.core"
    compileSdk = libs.versions.compileSdk.get().toInt()
    ndkVersion = libs.versions.ndk.get()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }

    sourceSets["main"].java.srcDir(generatedBindings)

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

dependencies {
    // The generated bindings call the library through JNA; the aar brings libjnidispatch.so per ABI.
    api("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    // The bindings' suspend functions (processExport, reportPositive, sync) use coroutines.
    api(libs.kotlinx.coroutines.core)
}

/** Rust sources whose change rebuilds the library. */
fun rustInputs(task: Task) {
    task.inputs.files(
        fileTree(workspaceDir.resolve("core")) { include("src/**", "data/**", "Cargo.toml") },
        fileTree(workspaceDir.resolve("bindings")) { include("src/**", "Cargo.toml", "uniffi.toml") },
        workspaceDir.resolve("Cargo.toml"),
        workspaceDir.resolve("Cargo.lock"),
    )
}

val cargoNdk by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds libopenzone_ffi.so for ${abis.joinToString()} with cargo-ndk (profile release-mobile)."
    onlyIf { project.findProperty("openzone.skipCargo") != "true" }
    workingDir = workspaceDir
    rustInputs(this)
    outputs.dir(jniLibsDir)
    doFirst {
        // cargo-ndk finds the NDK through ANDROID_NDK_HOME; default to the one AGP resolves from ndkVersion.
        if (System.getenv("ANDROID_NDK_HOME") == null) {
            environment("ANDROID_NDK_HOME", android.ndkDirectory.absolutePath)
        }
    }
    commandLine(
        listOf("cargo", "ndk") + abis.flatMap { listOf("-t", it) } + listOf(
            "--platform", libs.versions.minSdk.get(),
            "-o", jniLibsDir.absolutePath,
            "build", "--locked", "--profile", "release-mobile", "-p", "openzone-ffi",
        ),
    )
}

val generateUniffiBindings by tasks.registering(Exec::class) {
    group = "rust"
    description = "Generates the Kotlin bindings (package org.openzone.core) with scripts/gen-bindings."
    workingDir = workspaceDir
    rustInputs(this)
    outputs.dir(generatedBindings)
    doFirst { generatedBindings.get().asFile.deleteRecursively() }
    commandLine("scripts/gen-bindings", "kotlin", generatedBindings.get().asFile.absolutePath)
}

// Before anything compiles or packages native libraries.
tasks.named("preBuild") { dependsOn(cargoNdk, generateUniffiBindings) }
