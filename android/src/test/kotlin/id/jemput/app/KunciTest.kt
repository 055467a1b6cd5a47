package id.jemput.app

import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode
import uniffi.jemput.ApiException
import uniffi.jemput.JemputStore

/** Replacing the store's key from the app (ADR 0015): from the info screen, and the two places
 *  a killed app can leave a replacement (before and after the library's commit), each finished
 *  by the next start with nothing lost and the old key refused. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], qualifiers = "w320dp-h533dp-hdpi")
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class KunciTest : UjiAplikasi() {
    private val app get() = RuntimeEnvironment.getApplication()
    private val berkas get() = File(app.noBackupFilesDir, "jemput.kunci")
    private val db get() = File(app.noBackupFilesDir, "jemput.db").path
    private fun kunciDi(f: File): ByteArray = Jemput.pembungkus(app).unwrap(f.readBytes())

    private fun dataUtuh(kode: String) {
        val j = Jemput.buka(app)
        assertEquals("Bu Sri Wahyuni", j.pendaftaran()!!.officerName)
        val f = RequestFilter(status = null, openOnly = false, rw = null, rt = null, serviceCode = null, name = null, receipt = kode)
        assertEquals(1L, j.hitung(f))
    }

    private fun kunciLamaDitolak(lama: ByteArray) {
        try {
            JemputStore.openWithKey(db, lama).destroy()
            fail("kunci lama masih membuka data")
        } catch (e: ApiException.WrongKey) {
            assertEquals("kunci_salah", e.code)
        }
    }

    @Test
    fun gantiKunciLaluHpMatiDiTengahJalan() {
        val p = bukaLewatQr()
        val kode = Jemput.buka(app).catat(
            RequestDraft(
                "domisili",
                Applicant("Budi Santoso", "3576021205850003", "3576020101150003", "Surabaya", "1985-05-12", Sex.LAKI_LAKI, Address("Jl. Balongsari Gg. 5 No. 2", 3u, 2u), null, false),
                listOf("ktp", "kk"), mapOf("keperluan" to "Melamar pekerjaan"), "",
            ),
            true,
        ).receipt
        val pertama = kunciDi(berkas)

        // From the info screen: asked once more, then done; everything still there.
        p.ketuk("Info kelurahan")
        p.tungguTeks("Keamanan data")
        p.ketuk("Ganti kunci pengaman")
        assertTrue(p.terlihat("jangan matikan HP"))
        p.foto("7b-ganti-kunci")
        p.ketuk("Ya, ganti kunci sekarang")
        p.tungguTeks("Kunci pengaman sudah diganti. Semua data tetap ada.")
        val kedua = kunciDi(berkas)
        assertFalse(pertama.contentEquals(kedua))
        val vault = KeyVault(berkas, Jemput.pembungkus(app))
        assertFalse(vault.tertunda.exists())
        ctl!!.pause().stop().destroy()
        ctl = null
        Jemput.tutup()
        kunciLamaDitolak(pertama)
        dataUtuh(kode)
        Jemput.tutup()

        // Killed after the library committed, before the pending key became current: the next
        // start opens with the pending key and makes it current.
        val ketiga = vault.buatTertunda()
        JemputStore.openWithKey(db, kedua).also { it.rotateKey(ketiga) }.destroy()
        dataUtuh(kode)
        assertFalse(vault.tertunda.exists())
        assertTrue(kunciDi(berkas).contentEquals(ketiga))
        Jemput.tutup()
        kunciLamaDitolak(kedua)

        // Killed after the pending key was written, before the library re-sealed anything: the
        // next start finishes the replacement.
        val keempat = vault.buatTertunda()
        dataUtuh(kode)
        assertFalse(vault.tertunda.exists())
        assertTrue(kunciDi(berkas).contentEquals(keempat))
        Jemput.tutup()
        kunciLamaDitolak(ketiga)
        dataUtuh(kode)
    }
}
