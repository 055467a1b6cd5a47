package id.jemput.bindings

import java.lang.management.ManagementFactory
import java.nio.file.Path
import java.security.SecureRandom
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import uniffi.jemput.JemputStore
import uniffi.jemput_core.Address
import uniffi.jemput_core.Applicant
import uniffi.jemput_core.RequestDraft
import uniffi.jemput_core.RequestFilter
import uniffi.jemput_core.Sex

/**
 * Measurements through the bindings, as the app sees them (not a test with a time limit: run
 * only by `run.sh bench`, i.e. `-Djemput.bench=true`, on the release library; jemput-bench
 * scenario 16 reports the `JEMPUT-BENCH` lines it prints). A store with 10,000 requests is
 * recorded through the bindings, closed, then opened again and its first page listed.
 */
class BenchTest {
    @TempDir
    lateinit var dir: Path

    private val first = listOf("Siti", "Budi", "Sri", "Ahmad", "Dewi", "Slamet", "Nur", "Eko", "Agus", "Rina", "Joko", "Wati")
    private val last = listOf("Aminah", "Santoso", "Wahyuni", "Fauzi", "Lestari", "Riyadi", "Hidayah", "Prasetyo", "Salim", "Kusuma")

    /** Resident [i]: a woman born 1990-05-04 in Kota Mojokerto (NIK serials 0001–9999). */
    private fun draft(i: Int) = RequestDraft(
        serviceCode = if (i % 2 == 0) "sktm" else "domisili",
        applicant = Applicant(
            name = "${first[i % first.size]} ${last[(i / first.size) % last.size]}",
            nik = "357602440590%04d".format(i % 9999 + 1),
            kk = "3576020101150003",
            birthPlace = "Mojokerto",
            birthDate = "1990-05-04",
            sex = Sex.PEREMPUAN,
            address = Address(street = "Jl. Balongsari Gg. ${i % 9 + 1} No. ${i % 40 + 1}", rt = (i % 6 + 1).toUShort(), rw = (i % 4 + 1).toUShort()),
            phone = null,
            usesWhatsapp = false,
        ),
        documentsSeen = if (i % 2 == 0) listOf("ktp", "kk", "surat_pernyataan_tidak_mampu") else listOf("ktp", "kk"),
        fields = mapOf("keperluan" to "Keringanan biaya berobat"),
        notes = "",
    )

    /** One figure, to the file run.sh prints (`jemput.bench.out`) and to standard output. */
    private fun report(key: String, value: String) {
        val line = "JEMPUT-BENCH $key=$value"
        println(line)
        System.getProperty("jemput.bench.out")?.takeIf { it.isNotEmpty() }?.let { java.io.File(it).appendText(line + "\n") }
    }

    @Test
    fun `open a store of 10000 requests and show its first page, and what a list call allocates`() {
        assumeTrue(System.getProperty("jemput.bench") == "true", "measurements run only with run.sh bench")
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val path = dir.resolve("jemput.db").toString()
        val n = 10_000
        JemputStore.openWithKey(path, key).use { store ->
            store.setEnrolment("petugas-rw001", "K7QM")
            for (i in 0 until n) store.recordRequest(draft(i), true)
        }

        // Open and first page, as the Requests screen does it on start.
        val t0 = System.nanoTime()
        val firstPage = JemputStore.openWithKey(path, key).use { store ->
            val page = store.listRequests(RequestFilter(), 0u, 50u)
            val t1 = System.nanoTime()
            report("open_and_first_page_ms", "%.2f".format((t1 - t0) / 1e6))
            assertEquals(n.toULong(), store.countRequests(RequestFilter()))

            // Steady state: JVM heap bytes allocated per list call of a 50-row page (the
            // generated lifting of the records), and the call's time.
            val mx = ManagementFactory.getThreadMXBean() as com.sun.management.ThreadMXBean
            val thread = Thread.currentThread().id
            repeat(200) { store.listRequests(RequestFilter(), 0u, 50u) }
            val calls = 1000
            val a0 = mx.getThreadAllocatedBytes(thread)
            val c0 = System.nanoTime()
            repeat(calls) { store.listRequests(RequestFilter(), 0u, 50u) }
            val c1 = System.nanoTime()
            val a1 = mx.getThreadAllocatedBytes(thread)
            report("list_page_alloc_bytes", "${(a1 - a0) / calls}")
            report("list_page_ms", "%.3f".format((c1 - c0) / 1e6 / calls))
            page
        }
        assertEquals(50, firstPage.size)
        report("requests", "$n")
    }
}
