// The app: Compose UI (Material 3) and the thin Android glue (foreground service, BLE, Keystore, WorkManager).
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

fun prop(name: String): String = (project.findProperty(name) as String?).orEmpty()

/** A Kotlin string literal for BuildConfig. */
fun literal(value: String): String =
    "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\""

val exportKeyPem: String = prop("openzone.exportKeyFile").takeIf { it.isNotEmpty() }
    ?.let { rootProject.file(it).readText() }.orEmpty()

android {
    namespace = "org.openzone.app"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        applicationId = "org.openzone.app"
        minSdk = libs.versions.minSdk.get().toInt()
        targetSdk = libs.versions.targetSdk.get().toInt()
        versionCode = 1
        versionName = "0.1.0"
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"

        buildConfigField("String", "KEY_SERVER_URL", literal(prop("openzone.keyServerUrl")))
        buildConfigField("String", "EXPORT_KEY_ID", literal(prop("openzone.exportKeyId")))
        buildConfigField("String", "EXPORT_KEY_VERSION", literal(prop("openzone.exportKeyVersion")))
        buildConfigField("String", "EXPORT_KEY_PEM", literal(exportKeyPem))
        buildConfigField("String", "UPLOAD_SEALING_KEYS", literal(prop("openzone.uploadSealingKeys")))
        buildConfigField("String", "SCHOOL_HEALTH_PHONE", literal(prop("openzone.schoolHealthPhone")))
    }

    // One APK per ABI besides the universal one: a family phone downloads only its own native library
    // (Play builds the same split from an app bundle).
    splits {
        abi {
            isEnable = true
            reset()
            include("arm64-v8a", "armeabi-v7a", "x86_64")
            isUniversalApk = true
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            isShrinkResources = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    packaging {
        jniLibs {
            // Native libraries stay uncompressed in the APK and are mapped from it, not extracted: less storage
            // on small phones. AGP 8.5.1+ then aligns them on 16 KB in the zip, which Android 15 phones with
            // 16 KB pages need (together with the 16 KB ELF alignment NDK r28 gives).
            useLegacyPackaging = false
        }
    }

    compileOptions {
        // java.time on Android 6 and 7 (API 23-25).
        isCoreLibraryDesugaringEnabled = true
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    androidResources {
        // The app's own languages; Android 13+ lists them in the per-app language setting.
        generateLocaleConfig = true
    }
}

dependencies {
    implementation(project(":shared"))
    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.activity.compose)
    implementation(libs.androidx.lifecycle.runtime.compose)
    implementation(libs.androidx.lifecycle.process)
    implementation(platform(libs.androidx.compose.bom))
    implementation(libs.androidx.compose.ui)
    implementation(libs.androidx.compose.ui.tooling.preview)
    implementation(libs.androidx.compose.material3)
    implementation(libs.androidx.compose.material.icons.core)
    implementation(libs.androidx.work.runtime.ktx)
    implementation(libs.kotlinx.coroutines.android)
    coreLibraryDesugaring(libs.desugar.jdk.libs)
    debugImplementation(libs.androidx.compose.ui.tooling)
    debugImplementation(libs.androidx.compose.ui.test.manifest)

    androidTestImplementation(platform(libs.androidx.compose.bom))
    androidTestImplementation(libs.androidx.compose.ui.test.junit4)
    androidTestImplementation(libs.androidx.test.core)
    androidTestImplementation(libs.androidx.test.runner)
    androidTestImplementation(libs.androidx.test.rules)
    androidTestImplementation(libs.androidx.test.ext.junit)
    androidTestImplementation(libs.androidx.work.testing)
    androidTestImplementation(libs.junit)
}
