package id.jemput.bindings

import id.jemput.transport.UrlConnectionTransport
import java.nio.file.Files
import java.nio.file.Path
import java.security.SecureRandom
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import uniffi.jemput.ApiException
import uniffi.jemput.JemputStore
import uniffi.jemput.KeyProvider
import uniffi.jemput.SyncListener
import uniffi.jemput.parseEnrolmentQr
import uniffi.jemput_core.Progress
import uniffi.jemput_core.Status

/** A key kept in memory, as the app's Keystore-wrapped key provider; records what it was asked. */
class MemoryKeys(var key: ByteArray? = null) : KeyProvider {
    val asked = CopyOnWriteArrayList<Boolean>()

    override fun databaseKey(create: Boolean): ByteArray? {
        asked.add(create)
        if (create && key == null) key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        return key?.copyOf()
    }
}

/** Progress reports, in order. */
class Recorder : SyncListener {
    val seen = CopyOnWriteArrayList<Progress>()

    override fun onProgress(progress: Progress) {
        seen.add(progress)
    }
}

/**
 * Enrolment, sync, the no-signal hand-off and cancellation through the real libjemput against a
 * real hub started from the built `jemput-hub` binary, every HTTP call made by the app's own
 * transport ([UrlConnectionTransport], the one the Android app uses).
 */
class SyncTest {
    @TempDir
    lateinit var dir: Path

    private fun phone(name: String, keys: KeyProvider = MemoryKeys()): JemputStore =
        JemputStore.open(dir.resolve("$name.db").toString(), keys).also { it.setTransport(UrlConnectionTransport()) }

    private fun total(listJson: String): Int = Regex("\"total\":(\\d+)").find(listJson)!!.groupValues[1].toInt()

    @Test
    fun `enrol from the QR, record, sync, a staff decision, sync again and hand the letter over`() {
        TestHub(dir).use { hub ->
            val officer = hub.addOfficer("Pak Darmo", rw = 5, rt = 3)
            val qr = hub.enrolmentQr(officer)
            assertEquals(hub.url, parseEnrolmentQr(qr).hubUrl)
            // Without the app's transport the library cannot reach the hub, and says so.
            JemputStore.open(dir.resolve("tanpa.db").toString(), MemoryKeys()).use { bare ->
                val noHttp = assertThrows<ApiException.Sync> { runBlocking { bare.enroll(qr, "HP") } }
                assertEquals("transport_belum_dipasang", noHttp.code)
            }
            phone("darmo").use { store ->
                assertNull(store.enrolment())
                val notYet = assertThrows<ApiException.Sync> { runBlocking { store.sync(null) } }
                assertEquals("belum_terdaftar", notYet.code)

                val info = runBlocking { store.enroll(qr, "HP Pak Darmo") }
                assertEquals("Pak Darmo", info.officerName)
                assertEquals(5.toUShort(), info.rw)
                assertEquals(3.toUShort(), info.rt)
                assertEquals(store.identity().receiptPrefix, info.receiptPrefix)
                assertEquals(info, store.enrolment())
                // The code works once.
                val reused = assertThrows<ApiException.Sync> { runBlocking { store.enroll(qr, "HP Pak Darmo") } }
                assertTrue(reused.code == "kode_terpakai" || reused.code == "perangkat_sudah_terdaftar", reused.code)

                val rec = store.recordRequest(sktmDraft(), false)
                assertTrue(rec.receipt.startsWith(info.receiptPrefix), rec.receipt)
                assertTrue(store.syncHealth().summary.startsWith("1 permohonan belum terkirim"), store.syncHealth().summary)

                val progress = Recorder()
                val first = runBlocking { store.sync(progress) }
                assertTrue(first.report.confirmed >= 1u, "$first")
                assertEquals(0u, store.syncHealth().unsentRequests)
                assertTrue(store.syncHealth().summary.startsWith("Semua data sudah terkirim"), store.syncHealth().summary)
                assertTrue(progress.seen.last().done, "${progress.seen}")
                assertTrue(progress.seen.first().bytesSent > 0u)
                assertNotNull(store.kelurahan(), "the kelurahan profile arrives by sync")
                assertEquals(Status.TERKIRIM, store.request(rec.id).status)

                val listed = hub.staffGet("/api/v1/staff/requests")
                assertEquals(1, total(listed))
                assertTrue(listed.contains(rec.receipt), listed)
                hub.staffPost("/api/v1/staff/requests/${rec.id}/status", """{"status":"diproses"}""")
                hub.staffPost("/api/v1/staff/requests/${rec.id}/status", """{"status":"selesai"}""")

                val second = runBlocking { store.sync(null) }
                val news = second.report.statusChanges.single { it.id == rec.id }
                assertEquals(Status.SELESAI, news.status)
                assertEquals(rec.receipt, news.receipt)
                val detail = store.request(rec.id)
                assertEquals(Status.SELESAI, detail.status)
                assertTrue(detail.request.history.any { it.status == Status.DIPROSES })
                assertEquals(1uL, store.statusCounts().single { it.status == Status.SELESAI }.count)

                assertEquals(Status.DISERAHKAN, store.markHandedOver(rec.id).status)
                assertEquals(1u, store.syncHealth().unsentRequests, "the hand-over waits to be sent")
                val third = runBlocking { store.sync(null) }
                assertEquals(emptyList<Any>(), third.report.refused, "$third")
                assertEquals(0u, store.syncHealth().unsentRequests, "$third")
                val atHub = hub.staffGet("/api/v1/staff/requests/${rec.id}")
                assertTrue(atHub.contains("\"status\":\"diserahkan\""), "$third\n$atHub")

                // A device the kelurahan revoked is told so; its data stays on the phone.
                hub.cli("device", "revoke", store.identity().deviceId)
                val revoked = assertThrows<ApiException.Sync> { runBlocking { store.sync(null) } }
                assertEquals("perangkat_dicabut", revoked.code)
                assertTrue(revoked.detail.isNotBlank())
            }
        }
    }

    @Test
    fun `a bundle handed to a colleague without signal reaches the hub at the colleague's sync, once`() {
        TestHub(dir).use { hub ->
            val a = phone("a")
            val b = phone("b")
            runBlocking {
                a.enroll(hub.enrolmentQr(hub.addOfficer("Bu Sri", rw = 5, rt = 3)), "HP Bu Sri")
                b.enroll(hub.enrolmentQr(hub.addOfficer("Pak Joko", rw = 5, rt = 1)), "HP Pak Joko")
            }
            val rec = a.recordRequest(sktmDraft(), false)
            val bundle = a.exportBundle()
            Files.write(dir.resolve("titipan.jemput"), bundle)

            val own = assertThrows<ApiException.Invalid> { a.importBundle(bundle) }
            assertEquals("bundel_sendiri", own.issues.single().code)
            val damaged = assertThrows<ApiException.Invalid> { b.importBundle(bundle.copyOf(bundle.size / 2)) }
            assertEquals("berkas_tidak_valid", damaged.issues.single().code)

            assertEquals(1u, b.importBundle(Files.readAllBytes(dir.resolve("titipan.jemput"))))
            assertEquals(1u, b.importBundle(bundle))
            assertEquals(1u, b.relayWaiting(), "the same file is kept once")
            assertEquals(0, total(hub.staffGet("/api/v1/staff/requests")))

            val relayed = runBlocking { b.sync(null) }
            assertEquals(1u, relayed.relayed)
            assertEquals(0u, b.relayWaiting())
            val listed = hub.staffGet("/api/v1/staff/requests")
            assertEquals(1, total(listed))
            assertTrue(listed.contains(rec.receipt), listed)

            // Carried again (a second colleague, or the same file twice): applied once.
            b.importBundle(bundle)
            assertEquals(1u, runBlocking { b.sync(null) }.relayed)
            assertEquals(1, total(hub.staffGet("/api/v1/staff/requests")))

            // The author syncs later: nothing is duplicated, and its request is marked sent.
            runBlocking { a.sync(null) }
            assertEquals(1, total(hub.staffGet("/api/v1/staff/requests")))
            assertEquals(0u, a.syncHealth().unsentRequests)
            a.close()
            b.close()
        }
    }

    @Test
    fun `a sync waiting on a silent hub is cancelled through its handle or its coroutine, and the next one completes`() {
        TestHub(dir).use { hub ->
            phone("darmo").use { store ->
                runBlocking { store.enroll(hub.enrolmentQr(hub.addOfficer("Pak Darmo", rw = 5, rt = 3)), "HP Pak Darmo") }
                store.recordRequest(sktmDraft(), false)
                hub.pause()
                try {
                    val task = store.startSync(null)
                    val busy = assertThrows<ApiException.Sync> { store.startSync(null) }
                    assertEquals("sinkron_sedang_berjalan", busy.code)
                    Thread.sleep(300)
                    assertTrue(!task.isFinished())
                    val started = System.nanoTime()
                    task.cancel()
                    val cancelled = assertThrows<ApiException.Cancelled> { runBlocking { task.await() } }
                    assertEquals("dibatalkan", cancelled.code)
                    assertTrue(System.nanoTime() - started < 5_000_000_000L, "cancel takes effect at once")
                    assertTrue(task.isFinished())

                    // Cancelling the coroutine cancels the sync too.
                    assertNull(runBlocking { withTimeoutOrNull(500) { store.sync(null) } })
                } finally {
                    hub.resume()
                }
                assertEquals(1u, store.syncHealth().unsentRequests, "nothing was lost")
                // Neither cancelled sync is left running: a new one starts and completes.
                runBlocking { store.sync(null) }
                assertEquals(0u, store.syncHealth().unsentRequests)
                assertEquals(1, total(hub.staffGet("/api/v1/staff/requests")))
            }
        }
    }

    @Test
    fun `the key comes from the app's provider and a wrong, lost or unavailable key never opens an empty store`() {
        val keys = MemoryKeys()
        val receipt = phone("hp", keys).use { it.recordRequest(sktmDraft(), false).receipt }
        assertEquals(listOf(true), keys.asked.toList(), "a new database asks for a new key")
        val file = dir.resolve("hp.db")
        val before = Files.readAllBytes(file)

        val lost = assertThrows<ApiException.WrongKey> {
            phone("hp", object : KeyProvider { override fun databaseKey(create: Boolean): ByteArray? = if (create) error("new key for an existing database") else null })
        }
        assertEquals("kunci_hilang", lost.code)
        val wrong = assertThrows<ApiException.WrongKey> { phone("hp", MemoryKeys(ByteArray(32) { 7 })) }
        assertEquals("kunci_salah", wrong.code)
        val broken = assertThrows<ApiException.WrongKey> {
            phone("hp", object : KeyProvider { override fun databaseKey(create: Boolean): ByteArray? = throw IllegalStateException("keystore rusak") })
        }
        assertEquals("kunci_tidak_tersedia", broken.code)
        val short = assertThrows<ApiException.WrongKey> { phone("hp", MemoryKeys(ByteArray(16))) }
        assertEquals("kunci_tidak_valid", short.code)
        assertArrayEquals(before, Files.readAllBytes(file), "the database is untouched")

        phone("hp", keys).use { store -> assertEquals("Siti Aminah", store.requestByReceipt(receipt).request.applicant.name) }
        assertEquals(listOf(true, false), keys.asked.toList(), "an existing database asks for the kept key")
    }
}
