package id.jemput.bindings

import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI
import java.nio.file.Path
import java.security.KeyStore
import java.security.MessageDigest
import java.security.cert.CertificateFactory
import java.util.concurrent.TimeUnit
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLSocketFactory
import javax.net.ssl.TrustManagerFactory

/**
 * A real kelurahan hub for the tests: the built `jemput-hub` binary (path in the system
 * property `jemput.hub.bin`, built by run.sh), set up through its CLI as an operator does
 * (`init`, `officer add`, `enroll`) and started with `serve` on a free loopback port.
 *
 * With [tls], the hub serves HTTPS itself with a self-signed certificate made by `openssl` for
 * the name `hub.kelurahan.invalid` only (not the address the tests use): as a kelurahan without
 * a domain runs it, trusted by the phone only through the fingerprint in the enrolment QR.
 */
class TestHub(private val dir: Path, val tls: Boolean = false) : AutoCloseable {
    private val bin: String = System.getProperty("jemput.hub.bin")
        ?: error("jemput.hub.bin is not set: run the tests through bindings/kotlin-tests/run.sh")
    val port: Int = ServerSocket(0).use { it.localPort }
    val url = "${if (tls) "https" else "http"}://127.0.0.1:$port"
    private val config: File = dir.resolve("jemput-hub.toml").toFile()
    val staffToken: String
    private var process: Process? = null

    /** The SHA-256 of the hub's certificate (64 lowercase hex digits), when [tls]. */
    val certSha256: String?

    /** The staff client's trust: exactly the hub's own certificate (a test helper, not the app). */
    private val staffTls: SSLSocketFactory?

    init {
        check(File(bin).canExecute()) { "no hub binary at $bin" }
        var settings = "database = \"${dir.resolve("hub.db")}\"\nkey_file = \"${dir.resolve("hub.key")}\"\nlisten = \"127.0.0.1:$port\"\n"
        if (tls) {
            val cert = dir.resolve("hub-cert.pem").toFile()
            val key = dir.resolve("hub-key.pem").toFile()
            val openssl = ProcessBuilder(
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.path, "-out", cert.path, "-days", "30", "-subj", "/CN=hub.kelurahan.invalid",
                "-addext", "subjectAltName=DNS:hub.kelurahan.invalid",
            ).redirectErrorStream(true).start()
            val said = openssl.inputStream.bufferedReader().readText()
            check(openssl.waitFor(60, TimeUnit.SECONDS) && openssl.exitValue() == 0) { "openssl: $said" }
            val x509 = cert.inputStream().use { CertificateFactory.getInstance("X.509").generateCertificate(it) }
            certSha256 = MessageDigest.getInstance("SHA-256").digest(x509.encoded).joinToString("") { "%02x".format(it) }
            val ks = KeyStore.getInstance(KeyStore.getDefaultType()).apply {
                load(null, null)
                setCertificateEntry("hub", x509)
            }
            val tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm()).apply { init(ks) }
            staffTls = SSLContext.getInstance("TLS").apply { init(null, tmf.trustManagers, null) }.socketFactory
            settings += "\n[tls]\ncert = \"${cert.path}\"\nkey = \"${key.path}\"\n"
        } else {
            certSha256 = null
            staffTls = null
        }
        config.writeText(settings)
        staffToken = after(cli("init"), "sekali): ")
        start()
    }

    /** Runs a CLI command of the hub and gives its standard output; fails on a non-zero exit. */
    fun cli(vararg args: String): String {
        val p = ProcessBuilder(listOf(bin, "--config", config.path) + args).apply { environment()["RUST_LOG"] = "warn" }.start()
        val out = p.inputStream.bufferedReader().readText()
        val err = p.errorStream.bufferedReader().readText()
        check(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) { "jemput-hub ${args.toList()}: $err" }
        return out
    }

    /** Adds an officer for RW [rw] / RT [rt]; gives the officer id. */
    fun addOfficer(name: String, rw: Int, rt: Int): String = cli("officer", "add", name, "--rw", "$rw", "--rt", "$rt").trim()

    /** A fresh one-time enrolment code for [officerId], as the QR payload the hub prints. */
    fun enrolmentQr(officerId: String): String =
        cli("enroll", officerId).lines().first { it.startsWith("QR: ") }.removePrefix("QR: ").trim()

    private fun start() {
        val p = ProcessBuilder(bin, "--config", config.path, "serve")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(dir.resolve("hub.log").toFile())
            .apply { environment()["RUST_LOG"] = "warn" }
            .start()
        process = p
        repeat(400) {
            if (runCatching { get("/healthz", null).second == "ok" }.getOrDefault(false)) return
            check(p.isAlive) { "jemput-hub serve stopped: ${dir.resolve("hub.log").toFile().readText()}" }
            Thread.sleep(50)
        }
        error("jemput-hub serve did not come up")
    }

    /** Freezes the hub process (SIGSTOP): connections open but nothing is answered. */
    fun pause() = signal("STOP")

    /** Lets a frozen hub carry on (SIGCONT). */
    fun resume() = signal("CONT")

    private fun signal(name: String) {
        val pid = process!!.pid()
        check(ProcessBuilder("kill", "-$name", "$pid").start().waitFor() == 0)
    }

    /** GET on the staff API with the staff token; gives (status, body). */
    fun staffGet(path: String): String {
        val (code, body) = get(path, staffToken)
        check(code == 200) { "GET $path: $code $body" }
        return body
    }

    /** POST of a JSON body on the staff API; gives the body. */
    fun staffPost(path: String, json: String): String {
        val c = open(path)
        c.requestMethod = "POST"
        c.doOutput = true
        c.setRequestProperty("Authorization", "Bearer $staffToken")
        c.setRequestProperty("Content-Type", "application/json")
        c.outputStream.use { it.write(json.toByteArray()) }
        val code = c.responseCode
        val body = (if (code < 400) c.inputStream else c.errorStream).bufferedReader().readText()
        check(code in 200..299) { "POST $path: $code $body" }
        return body
    }

    /** A connection to the hub; over TLS trusting its certificate whatever its names. */
    private fun open(path: String): HttpURLConnection {
        val c = URI("$url$path").toURL().openConnection() as HttpURLConnection
        if (c is HttpsURLConnection && staffTls != null) {
            c.sslSocketFactory = staffTls
            c.hostnameVerifier = javax.net.ssl.HostnameVerifier { _, _ -> true }
        }
        return c
    }

    private fun get(path: String, token: String?): Pair<Int, String> {
        val c = open(path)
        c.connectTimeout = 2000
        c.readTimeout = 10000
        if (token != null) c.setRequestProperty("Authorization", "Bearer $token")
        val code = c.responseCode
        val body = (if (code < 400) c.inputStream else c.errorStream).bufferedReader().readText()
        return code to body
    }

    override fun close() {
        process?.let {
            runCatching { resume() }
            it.destroyForcibly()
            it.waitFor(10, TimeUnit.SECONDS)
        }
    }

    private fun after(text: String, marker: String): String =
        text.lines().first { it.contains(marker) }.substringAfter(marker).trim().split(" ").first()
}
