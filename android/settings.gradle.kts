// Android Studio / Gradle build of the app for real phones (not used on the CI machines, which
// have no access to Google's Maven repository: there run-tests.sh and build-apk.sh are used).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "jemput-android"
