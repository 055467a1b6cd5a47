// The app for Android Studio. Before building: generate the bindings and the native libraries
// (see README.md: uniffi-bindgen into ../target/android-bindings, cargo-ndk into
// ../target/android-jniLibs). No AndroidX: the framework only.
plugins {
    id("com.android.application") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.2.21"
}

android {
    namespace = "id.jemput.app"
    compileSdk = 34

    defaultConfig {
        applicationId = "id.jemput.app"
        minSdk = 21
        targetSdk = 34
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }

    sourceSets["main"].apply {
        // The app, the generated bindings, and the HTTP transport the library calls (ADR 0016),
        // shared with the library's JVM tests.
        java.srcDirs("src/main/kotlin", "../target/android-bindings", "../bindings/kotlin/src/main/kotlin")
        jniLibs.srcDirs("../target/android-jniLibs")
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    implementation("net.java.dev.jna:jna:5.18.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.10.2")
    implementation("com.google.zxing:core:3.5.3")
}
