package id.jemput.bindings

import id.jemput.transport.UrlConnectionTransport
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import uniffi.jemput.ApiException
import uniffi.jemput.JemputStore
import uniffi.jemput.TransportException
import uniffi.jemput.parseEnrolmentQr
import uniffi.jemput_core.HttpCall
import uniffi.jemput_core.HttpMethod

/**
 * A kelurahan hub serving HTTPS with a self-signed certificate (the real `jemput-hub` binary,
 * see [TestHub]), reached through the app's transport ([UrlConnectionTransport]): the phone
 * trusts it only by the fingerprint in the enrolment QR code.
 */
class PinningTest {
    @TempDir
    lateinit var dir: Path

    private fun phone(name: String): JemputStore =
        JemputStore.open(dir.resolve("$name.db").toString(), MemoryKeys()).also { it.setTransport(UrlConnectionTransport()) }

    private fun total(listJson: String): Int = Regex("\"total\":(\\d+)").find(listJson)!!.groupValues[1].toInt()

    /** The hub's fingerprint with its last digit changed. */
    private fun otherPin(pin: String): String = pin.dropLast(1) + if (pin.last() == '0') '1' else '0'

    @Test
    fun `a self-signed hub is trusted through the QR's fingerprint only, and a wrong one is refused before anything is sent`() {
        TestHub(dir, tls = true).use { hub ->
            val pin = hub.certSha256!!
            val qr = parseEnrolmentQr(hub.enrolmentQr(hub.addOfficer("Pak Darmo", rw = 5, rt = 3)))
            assertEquals(hub.url, qr.hubUrl)
            assertEquals(pin, qr.certSha256, "the QR carries the certificate's fingerprint")
            phone("darmo").use { store ->
                // Without the pin, ordinary verification: a self-signed certificate is not trusted.
                val unpinned = assertThrows<ApiException.Sync> {
                    runBlocking { store.enrollWithCode(qr.hubUrl, qr.code, null, "HP Pak Darmo") }
                }
                assertEquals("tidak_ada_sinyal", unpinned.code)
                assertNull(store.enrolment())

                // Another fingerprint: refused as a mismatch, with the sentence the officer sees.
                val wrong = assertThrows<ApiException.Sync> {
                    runBlocking { store.enrollWithCode(qr.hubUrl, qr.code, otherPin(pin), "HP Pak Darmo") }
                }
                assertEquals("sertifikat_tidak_cocok", wrong.code)
                assertTrue(wrong.detail.startsWith("Sertifikat server tidak cocok"), wrong.detail)
                assertNull(store.enrolment())

                // The right one: enrolled (with the same one-time code, so neither refused attempt
                // reached the hub), then a request goes up over the pinned connection.
                val info = runBlocking { store.enrollWithCode(qr.hubUrl, qr.code, pin.uppercase(), "HP Pak Darmo") }
                assertEquals("Pak Darmo", info.officerName)
                assertEquals(hub.url, info.hubUrl)
                store.recordRequest(sktmDraft(), false)
                val summary = runBlocking { store.sync(null) }
                assertEquals(0, summary.report.refused.size)
                assertEquals(0u, store.syncHealth().unsentRequests)
                assertEquals(1, total(hub.staffGet("/api/v1/staff/requests")))
            }
        }
    }

    @Test
    fun `the transport accepts exactly the pinned certificate whatever its names, and keeps the status and body`() {
        TestHub(dir, tls = true).use { hub ->
            val t = UrlConnectionTransport()
            fun healthz(pin: String?) = t.call(HttpCall(HttpMethod.GET, "${hub.url}/healthz", emptyList(), ByteArray(0), 5000u, 1024u, pin))
            // The certificate names hub.kelurahan.invalid, not 127.0.0.1: the pin is what counts.
            val ok = healthz(hub.certSha256)
            assertEquals(200.toUShort(), ok.status)
            assertEquals("ok", ok.body.decodeToString())
            assertTrue(ok.complete)
            assertThrows<TransportException.CertificateMismatch> { healthz(otherPin(hub.certSha256!!)) }
            assertThrows<TransportException.CertificateMismatch> { healthz("bukan sidik jari") }
            assertThrows<TransportException.Network> { healthz(null) }
            // An answer longer than the call allows is refused, not read on.
            assertThrows<TransportException.TooLarge> {
                t.call(HttpCall(HttpMethod.GET, "${hub.url}/healthz", emptyList(), ByteArray(0), 5000u, 1u, hub.certSha256))
            }
            // An error status is an answer: the library reads the hub's code from its body.
            val refused = t.call(HttpCall(HttpMethod.GET, "${hub.url}/api/v1/sync/x", emptyList(), ByteArray(0), 5000u, 65536u, hub.certSha256))
            assertEquals(401.toUShort(), refused.status)
        }
    }
}
