//! The app's HTTP client for the native library (ADR 0016): every call the library makes to the
//! kelurahan hub (enrolment, sync, relayed bundles) goes through here, on the platform's own
//! `HttpURLConnection` / `HttpsURLConnection`, so the phone's trust store, proxy settings and
//! TLS stack apply and the library links none of its own. Plain JDK / Android framework classes
//! only (no OkHttp, no AndroidX): the same file is compiled into the Android app and into the
//! JVM tests of the library (bindings/kotlin-tests), and works from Android API 21.
//!
//! When the enrolment QR code carried the hub certificate's SHA-256 fingerprint (a kelurahan
//! hub with a self-signed certificate), exactly that certificate is accepted, whatever its names
//! or issuer: the QR code the officer scanned at the kelurahan office is the trust anchor, as
//! the library's own Rust client does. Any other certificate is refused before anything is sent
//! and reported as `TransportException.CertificateMismatch`. Without a fingerprint the platform
//! verifies certificates the ordinary way.

package id.jemput.transport

import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.HttpURLConnection
import java.net.URL
import java.security.MessageDigest
import java.security.cert.CertificateException
import java.security.cert.X509Certificate
import java.util.concurrent.ConcurrentHashMap
import javax.net.ssl.HostnameVerifier
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLSocketFactory
import javax.net.ssl.X509TrustManager
import uniffi.jemput.HubTransport
import uniffi.jemput.TransportException
import uniffi.jemput_core.HttpCall
import uniffi.jemput_core.HttpHeader
import uniffi.jemput_core.HttpMethod
import uniffi.jemput_core.HttpReply

/** Most milliseconds to wait for a connection (the call's own limit when it is shorter). */
private const val CONNECT_TIMEOUT_MS = 20_000L

/**
 * The library's [HubTransport] on `HttpURLConnection`. Blocking: the library calls it on its own
 * worker threads. One instance serves every hub and pin; set it once on the store
 * (`JemputStore.setTransport`).
 */
class UrlConnectionTransport : HubTransport {
    /** One socket factory per pinned fingerprint, so connections to the hub can be reused. */
    private val pinned = ConcurrentHashMap<String, SSLSocketFactory>()

    override fun call(call: HttpCall): HttpReply {
        val pin = call.certSha256?.let { parsePin(it) ?: throw TransportException.CertificateMismatch() }
        val timeout = call.timeoutMs.toLong().coerceIn(1L, Int.MAX_VALUE.toLong())
        val conn = try {
            URL(call.url).openConnection() as HttpURLConnection
        } catch (e: IOException) {
            throw TransportException.Network("alamat: ${e.javaClass.simpleName}")
        } catch (e: IllegalArgumentException) {
            throw TransportException.Network("alamat: ${e.javaClass.simpleName}")
        }
        // A pin on plain HTTP cannot be checked; the library allows plain HTTP to this machine only.
        if (conn is HttpsURLConnection && pin != null) {
            conn.sslSocketFactory = pinned.getOrPut(call.certSha256!!.lowercase()) { pinnedFactory(pin) }
            conn.hostnameVerifier = PinnedNames(pin)
        }
        try {
            conn.connectTimeout = minOf(timeout, CONNECT_TIMEOUT_MS).toInt()
            conn.readTimeout = timeout.toInt()
            conn.useCaches = false
            // The hub's answers are compressed already, and a resumed answer counts the bytes as
            // sent: no transparent gzip (Android adds it unless told otherwise).
            conn.setRequestProperty("Accept-Encoding", "identity")
            conn.instanceFollowRedirects = false
            for (h in call.headers) conn.setRequestProperty(h.name, h.value)
            when (call.method) {
                HttpMethod.GET -> conn.requestMethod = "GET"
                HttpMethod.POST -> {
                    conn.requestMethod = "POST"
                    conn.doOutput = true
                    conn.setFixedLengthStreamingMode(call.body.size)
                    conn.outputStream.use { it.write(call.body) }
                }
            }
            val status = conn.responseCode
            val headers = conn.headerFields.orEmpty().mapNotNull { (name, values) ->
                name?.let { HttpHeader(it.lowercase(), values.orEmpty().joinToString(", ")) }
            }
            val stream: InputStream? = if (status >= 400) conn.errorStream else runCatching { conn.inputStream }.getOrNull()
            val (body, complete) = readBody(stream, call.maxReplyBytes.toLong())
            // A body shorter than announced was cut, even when the stream did not say so.
            val announced = conn.getHeaderField("Content-Length")?.toLongOrNull()
            val whole = complete && (announced == null || announced == body.size.toLong())
            return HttpReply(status.toUShort(), headers, body, whole)
        } catch (e: TransportException) {
            throw e
        } catch (e: IOException) {
            if (causedByPinMismatch(e)) throw TransportException.CertificateMismatch()
            // The exception's class only: messages may carry addresses, never personal data, but
            // they are technical and the library does not show them anyway.
            throw TransportException.Network(e.javaClass.simpleName)
        } finally {
            conn.disconnect()
        }
    }
}

/** Reads [stream] up to [max] bytes: (the bytes, whether the stream ended normally). */
private fun readBody(stream: InputStream?, max: Long): Pair<ByteArray, Boolean> {
    if (stream == null) return ByteArray(0) to true
    val out = ByteArrayOutputStream()
    val buf = ByteArray(16 * 1024)
    val complete = try {
        stream.use {
            while (true) {
                val n = it.read(buf)
                if (n < 0) break
                if (out.size().toLong() + n > max) throw TransportException.TooLarge()
                out.write(buf, 0, n)
            }
        }
        true
    } catch (e: IOException) {
        // The connection broke while the answer arrived: keep what did.
        false
    }
    return out.toByteArray() to complete
}

/** The 32 bytes of a fingerprint written as 64 hex digits (with or without `:`), or null. */
fun parsePin(text: String): ByteArray? {
    val hex = text.replace(":", "")
    if (hex.length != 64) return null
    return ByteArray(32) { i ->
        val hi = Character.digit(hex[2 * i], 16)
        val lo = Character.digit(hex[2 * i + 1], 16)
        if (hi < 0 || lo < 0) return null
        ((hi shl 4) or lo).toByte()
    }
}

/** SHA-256 of a certificate's DER bytes. */
fun fingerprint(cert: java.security.cert.Certificate): ByteArray = MessageDigest.getInstance("SHA-256").digest(cert.encoded)

/** Thrown by [PinnedTrust] when the hub presents another certificate than the pinned one. */
class PinMismatch : CertificateException("sertifikat server tidak cocok dengan yang didaftarkan")

/** Accepts exactly the server certificate whose DER SHA-256 is [pin]. */
private class PinnedTrust(private val pin: ByteArray) : X509TrustManager {
    override fun checkServerTrusted(chain: Array<out X509Certificate>?, authType: String?) {
        val leaf = chain?.firstOrNull() ?: throw PinMismatch()
        if (!MessageDigest.isEqual(fingerprint(leaf), pin)) throw PinMismatch()
    }

    override fun checkClientTrusted(chain: Array<out X509Certificate>?, authType: String?) = throw CertificateException("bukan server")

    override fun getAcceptedIssuers(): Array<X509Certificate> = emptyArray()
}

/**
 * The host name check of a pinned hub: its certificate is trusted by its fingerprint, not by the
 * names in it (a kelurahan hub is often reached by its IP address), so the session passes when
 * its certificate is the pinned one.
 */
private class PinnedNames(private val pin: ByteArray) : HostnameVerifier {
    override fun verify(hostname: String?, session: javax.net.ssl.SSLSession?): Boolean {
        val leaf = runCatching { session?.peerCertificates?.firstOrNull() }.getOrNull() ?: return false
        return MessageDigest.isEqual(fingerprint(leaf), pin)
    }
}

private fun pinnedFactory(pin: ByteArray): SSLSocketFactory =
    SSLContext.getInstance("TLS").apply { init(null, arrayOf(PinnedTrust(pin)), null) }.socketFactory

private fun causedByPinMismatch(e: Throwable): Boolean {
    var c: Throwable? = e
    repeat(8) {
        if (c is PinMismatch) return true
        c = c?.cause ?: return false
    }
    return false
}
