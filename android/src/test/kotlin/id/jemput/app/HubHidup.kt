package id.jemput.app

import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import org.json.JSONObject

/**
 * A live kelurahan hub for the tests: the built `jemput-hub` binary (path in the system property
 * `jemput.hub.bin`), set up as an operator does (init, officer add, enroll) and serving plain
 * HTTP on loopback, which the library allows only there. The staff JSON API is called over HTTP.
 */
class HubHidup : AutoCloseable {
    private val bin = System.getProperty("jemput.hub.bin") ?: error("jemput.hub.bin tidak diisi")
    private val dir: File = Files.createTempDirectory("jemput-hub-uji").toFile()
    private val config = File(dir, "jemput-hub.toml")
    /** The port the hub listens on. */
    val port: Int = ServerSocket(0).use { it.localPort }
    /** The hub's address as the phone uses it. */
    val url = "http://127.0.0.1:$port"
    /** The first staff account's token, shown once by `init`. */
    val tokenStaf: String
    private val proses: Process

    init {
        config.writeText("database = \"${File(dir, "hub.db").path}\"\nkey_file = \"${File(dir, "hub.key").path}\"\n")
        val init = perintah("init")
        tokenStaf = init.lines().first { it.contains("sekali): ") }.substringAfter("sekali): ").trim()
        proses = ProcessBuilder(bin, "--config", config.path, "serve", "--listen", "127.0.0.1:$port")
            .redirectErrorStream(true).redirectOutput(File(dir, "serve.log")).start()
        val batas = System.currentTimeMillis() + 20_000
        while (true) {
            val ok = runCatching { (URI("$url/healthz").toURL().openConnection() as HttpURLConnection).responseCode == 200 }.getOrDefault(false)
            if (ok) break
            check(proses.isAlive) { "jemput-hub serve berhenti: " + File(dir, "serve.log").readText() }
            check(System.currentTimeMillis() < batas) { "jemput-hub serve tidak siap" }
            Thread.sleep(50)
        }
    }

    /** Runs `jemput-hub --config … args` and gives its standard output. */
    fun perintah(vararg args: String): String {
        val p = ProcessBuilder(listOf(bin, "--config", config.path, "--public-url", url) + args).redirectError(File(dir, "cli.err")).start()
        val out = p.inputStream.readBytes().toString(Charsets.UTF_8)
        check(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) { "jemput-hub ${args.toList()}: " + File(dir, "cli.err").readText() }
        return out
    }

    /** Adds an officer for RW [rw] / RT [rt] and gives (hub address, one-time code, QR payload). */
    fun petugasBaru(nama: String, rw: Int, rt: Int): Triple<String, String, String> {
        val id = perintah("officer", "add", nama, "--rw", rw.toString(), "--rt", rt.toString()).trim()
        val out = perintah("enroll", id)
        val code = out.lines().first { it.startsWith("Kode pendaftaran: ") }.removePrefix("Kode pendaftaran: ").trim().split(" ")[0]
        val qr = out.lines().first { it.startsWith("QR: ") }.removePrefix("QR: ").trim()
        return Triple(url, code, qr)
    }

    /** A staff API call: [method] on [path] with an optional JSON [body]; the JSON answer. */
    fun staf(method: String, path: String, body: JSONObject? = null): JSONObject {
        val c = URI("$url$path").toURL().openConnection() as HttpURLConnection
        c.requestMethod = method
        c.setRequestProperty("Authorization", "Bearer $tokenStaf")
        if (body != null) {
            c.doOutput = true
            c.setRequestProperty("Content-Type", "application/json")
            c.outputStream.use { it.write(body.toString().toByteArray()) }
        }
        val code = c.responseCode
        val text = (if (code < 400) c.inputStream else c.errorStream).readBytes().toString(Charsets.UTF_8)
        check(code in 200..299) { "$method $path: HTTP $code $text" }
        return JSONObject(text)
    }

    override fun close() {
        proses.destroy()
        if (!proses.waitFor(10, TimeUnit.SECONDS)) proses.destroyForcibly()
        dir.deleteRecursively()
    }
}
