#!/usr/bin/env bash
# Assembles a signed APK of the app without Gradle or the Android SDK, from Debian packages
# (aapt, zipalign, apksigner, android-framework-res) and Maven Central (R8/D8, the app's
# dependencies, JNA's Android AAR with libjnidispatch.so):
#   1. compile the app and the generated bindings with Maven (as run-tests.sh does);
#   2. shrink and dex with R8 (rules in proguard-rules.pro), min API 21;
#   3. package the manifest with aapt v1 against framework-res.apk, add classes.dex and the
#      native libraries, zipalign, sign with apksigner (a throwaway debug key unless
#      JEMPUT_APK_KEYSTORE / JEMPUT_APK_KEYSTORE_PASS / JEMPUT_APK_KEY_ALIAS name a real one).
# libjemput.so for Android is built with cargo-ndk (see README.md); that needs the Android NDK,
# which is not in Debian: pass the jniLibs directory cargo-ndk wrote as JEMPUT_ANDROID_LIBS
# (arm64-v8a/, armeabi-v7a/, x86_64/). Without it the APK is assembled WITHOUT libjemput.so and
# cannot open its store on a phone; the script says so.
# Output: target/android-apk/jemput.apk, and the sizes on stdout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
out="$root/target/android-apk"
r8_version=9.5.28
jna_version=5.18.1
fw_res=/usr/share/android-framework-res/framework-res.apk
for t in aapt zipalign apksigner java jar keytool mvn; do
  command -v "$t" >/dev/null || { echo "$t tidak ditemukan: jalankan scripts/setup.sh" >&2; exit 1; }
done
[ -f "$fw_res" ] || { echo "$fw_res tidak ada: pasang paket android-framework-res" >&2; exit 1; }

# 1. The app's classes and the generated bindings.
cargo build -p jemput-bindings
rm -rf "$target_dir/android-bindings"
cargo run -q -p uniffi-bindgen -- generate --no-format \
  --library "$target_dir/debug/libjemput.so" --language kotlin --out-dir "$target_dir/android-bindings"
rm -rf "$out" && mkdir -p "$out/deps" "$out/tools" "$out/dex" "$out/dex-app" "$out/dex-app-r8" "$out/stage"
(cd android && mvn -B -q -Dstyle.color=never compile -Djemput.bindings.dir="$target_dir/android-bindings" \
  && mvn -B -q -Dstyle.color=never dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$out/deps" \
  && mvn -B -q -Dstyle.color=never dependency:copy -Dartifact=com.android.tools:r8:$r8_version -DoutputDirectory="$out/tools" \
  && mvn -B -q -Dstyle.color=never dependency:copy -Dartifact=net.java.dev.jna:jna:$jna_version:aar -DoutputDirectory="$out/tools" \
  && mvn -B -q -Dstyle.color=never dependency:copy -Dartifact=org.robolectric:android-all:14-robolectric-10818077 -DoutputDirectory="$out/tools")
classes="$root/target/android-app/classes"
jar cf "$out/app.jar" -C "$classes" .
r8="$out/tools/r8-$r8_version.jar"
android_jar="$out/tools/android-all-14-robolectric-10818077.jar"
java_home="$(dirname "$(dirname "$(readlink -f "$(command -v javac || command -v java)")")")"

# 2a. The app's own code and the bindings alone, dexed without shrinking (the size target).
java -cp "$r8" com.android.tools.r8.D8 --release --min-api 21 --lib "$android_jar" --lib "$java_home" \
  --classpath "$out/deps/kotlin-stdlib-"*.jar --classpath "$out/deps/kotlinx-coroutines-core-jvm-"*.jar \
  --classpath "$out/deps/jna-$jna_version.jar" --output "$out/dex-app" "$out/app.jar"
# 2b. The same after R8 shrinking, the dependencies given as classpath (not counted).
java -cp "$r8" com.android.tools.r8.R8 --release --min-api 21 --lib "$android_jar" --lib "$java_home" \
  $(for j in "$out/deps/"*.jar; do printf -- '--classpath %s ' "$j"; done) \
  --pg-conf android/proguard-rules.pro --output "$out/dex-app-r8" "$out/app.jar"
# 2c. The whole app with its dependencies, shrunk by R8: what goes into the APK.
java -cp "$r8" com.android.tools.r8.R8 --release --min-api 21 --lib "$android_jar" --lib "$java_home" \
  --pg-conf android/proguard-rules.pro --output "$out/dex" "$out/app.jar" "$out/deps/"*.jar

# 3. Package, align, sign.
sed -e 's|<manifest xmlns:android="http://schemas.android.com/apk/res/android">|<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="id.jemput.app" android:versionCode="1" android:versionName="0.1.0"><uses-sdk android:minSdkVersion="21" android:targetSdkVersion="34" />|' \
  android/src/main/AndroidManifest.xml > "$out/AndroidManifest.xml"
grep -q 'package="id.jemput.app"' "$out/AndroidManifest.xml"
aapt package -f -M "$out/AndroidManifest.xml" -I "$fw_res" -F "$out/unaligned.apk"
cp "$out/dex/classes.dex" "$out/stage/"
mkdir -p "$out/jna-aar" && (cd "$out/jna-aar" && jar xf "$out/tools/jna-$jna_version.aar" jni)
abis="arm64-v8a armeabi-v7a x86_64"
for abi in $abis; do
  mkdir -p "$out/stage/lib/$abi"
  cp "$out/jna-aar/jni/$abi/libjnidispatch.so" "$out/stage/lib/$abi/"
  if [ -n "${JEMPUT_ANDROID_LIBS:-}" ] && [ -f "$JEMPUT_ANDROID_LIBS/$abi/libjemput.so" ]; then
    cp "$JEMPUT_ANDROID_LIBS/$abi/libjemput.so" "$out/stage/lib/$abi/"
  fi
done
(cd "$out/stage" && aapt add "$out/unaligned.apk" classes.dex $(find lib -type f | sort) >/dev/null)
zipalign -f -p 4 "$out/unaligned.apk" "$out/aligned.apk"
ks="${JEMPUT_APK_KEYSTORE:-$out/debug.jks}"
pass="${JEMPUT_APK_KEYSTORE_PASS:-jemput-debug}"
alias="${JEMPUT_APK_KEY_ALIAS:-jemput}"
if [ ! -f "$ks" ]; then
  keytool -genkeypair -keystore "$ks" -storepass "$pass" -keypass "$pass" -alias "$alias" -keyalg RSA -keysize 2048 \
    -validity 10000 -dname "CN=Jemput debug" >/dev/null 2>&1
fi
apksigner sign --ks "$ks" --ks-pass "pass:$pass" --ks-key-alias "$alias" --out "$out/jemput.apk" "$out/aligned.apk"
apksigner verify "$out/jemput.apk"
aapt dump badging "$out/jemput.apk" | grep -E "^(package|sdkVersion|targetSdkVersion|launchable-activity)"

size() { stat -c %s "$1"; }
echo "APK: $out/jemput.apk $(size "$out/jemput.apk") bytes"
echo "classes.dex (app + bindings + Kotlin stdlib + coroutines + JNA, R8): $(size "$out/dex/classes.dex") bytes"
echo "dex of the app and the generated bindings alone: $(cat "$out/dex-app/"*.dex | wc -c) bytes (D8, not shrunk), $(cat "$out/dex-app-r8/"*.dex | wc -c) bytes (R8)"
if ! unzip -l "$out/jemput.apk" | grep -q libjemput.so; then
  echo "NOTE: the APK has no libjemput.so (no Android NDK here; set JEMPUT_ANDROID_LIBS to cargo-ndk's output): it is not usable on a phone as built."
fi
