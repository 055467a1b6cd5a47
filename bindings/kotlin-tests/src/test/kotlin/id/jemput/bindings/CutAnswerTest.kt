package id.jemput.bindings

import id.jemput.transport.UrlConnectionTransport
import java.io.ByteArrayOutputStream
import java.io.InputStream
import java.io.OutputStream
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import uniffi.jemput.JemputStore

/**
 * A TCP proxy on loopback between the phone and the hub that, once armed, cuts the next
 * successful HTTP answer that has a body half-way through it (the hub has acted on the request;
 * the phone got part of its answer). It keeps the text of what the phone sent.
 */
class CutProxy(private val hubPort: Int) : AutoCloseable {
    private val server = ServerSocket(0, 50, InetAddress.getLoopbackAddress())
    val url = "http://127.0.0.1:${server.localPort}"
    private val armed = AtomicBoolean(false)

    /** Body bytes of the answer that was cut that reached the phone (-1: none cut yet). */
    val cutAfter = AtomicInteger(-1)

    /** Everything the phone sent, as ISO-8859-1 text (request lines and headers are ASCII). */
    val sent = CopyOnWriteArrayList<String>()

    init {
        Thread {
            while (!server.isClosed) {
                val phone = runCatching { server.accept() }.getOrNull() ?: break
                val hub = Socket(InetAddress.getLoopbackAddress(), hubPort)
                Thread { pumpRequests(phone.getInputStream(), hub.getOutputStream()) }.apply { isDaemon = true }.start()
                Thread { pumpAnswers(hub.getInputStream(), phone.getOutputStream(), phone, hub) }.apply { isDaemon = true }.start()
            }
        }.apply { isDaemon = true }.start()
    }

    /** Cut the next answer. */
    fun arm() = armed.set(true)

    private fun pumpRequests(from: InputStream, to: OutputStream) {
        val buf = ByteArray(16 * 1024)
        runCatching {
            while (true) {
                val n = from.read(buf)
                if (n < 0) break
                sent.add(String(buf, 0, n, Charsets.ISO_8859_1))
                to.write(buf, 0, n)
                to.flush()
            }
        }
        runCatching { to.close() }
    }

    private fun pumpAnswers(from: InputStream, to: OutputStream, phone: Socket, hub: Socket) {
        val buf = ByteArray(16 * 1024)
        val pending = ByteArrayOutputStream()
        runCatching {
            while (true) {
                val n = from.read(buf)
                if (n < 0) break
                if (!armed.get()) {
                    to.write(buf, 0, n)
                    to.flush()
                    continue
                }
                // Armed: hold the answer until its head and the first half of its body are here.
                pending.write(buf, 0, n)
                val bytes = pending.toByteArray()
                val text = String(bytes, Charsets.ISO_8859_1)
                val headEnd = text.indexOf("\r\n\r\n")
                if (headEnd < 0) continue
                val length = Regex("(?im)^content-length:\\s*(\\d+)").find(text.substring(0, headEnd))?.groupValues?.get(1)?.toInt()
                val ok = text.startsWith("HTTP/1.1 2")
                if (!ok || length == null || length < 2) {
                    // Not one to cut: let it through.
                    to.write(bytes)
                    to.flush()
                    pending.reset()
                    continue
                }
                val keep = headEnd + 4 + length / 2
                if (bytes.size < keep) continue
                armed.set(false)
                to.write(bytes, 0, keep)
                to.flush()
                cutAfter.set(length / 2)
                runCatching { phone.close() }
                runCatching { hub.close() }
                return
            }
        }
        runCatching { to.close() }
    }

    override fun close() = server.close()
}

/** An answer cut part-way through the app's transport: the library asks for the rest only. */
class CutAnswerTest {
    @TempDir
    lateinit var dir: Path

    @Test
    fun `an answer cut half-way is continued from the byte that arrived, through the app's transport`() {
        TestHub(dir).use { hub ->
            CutProxy(hub.port).use { proxy ->
                val qr = hub.enrolmentQr(hub.addOfficer("Pak Darmo", rw = 5, rt = 3))
                val code = uniffi.jemput.parseEnrolmentQr(qr).code
                JemputStore.open(dir.resolve("hp.db").toString(), MemoryKeys()).use { store ->
                    store.setTransport(UrlConnectionTransport())
                    runBlocking { store.enrollWithCode(proxy.url, code, null, "HP Pak Darmo") }
                    store.recordRequest(sktmDraft(), false)
                    proxy.sent.clear()
                    proxy.arm()
                    runBlocking { store.sync(null) }

                    val cut = proxy.cutAfter.get()
                    assertTrue(cut > 0, "an answer was cut")
                    val asked = proxy.sent.joinToString("")
                    assertTrue(asked.contains("POST /api/v1/sync "), asked.take(200))
                    // The retry asked where the exchange stands, saying how much of the answer it holds.
                    val resume = Regex("(?i)jemput-received:\\s*(\\d+)").find(asked)
                    assertEquals(cut, resume?.groupValues?.get(1)?.toInt(), "the resume asks for the rest only")
                    assertTrue(asked.contains("GET /api/v1/sync/"), "asked for the exchange by its key")
                    assertEquals(0u, store.syncHealth().unsentRequests)
                    assertEquals(1, Regex("\"total\":(\\d+)").find(hub.staffGet("/api/v1/staff/requests"))!!.groupValues[1].toInt())
                }
            }
        }
    }
}
