package id.jemput.app

import android.app.Activity
import android.content.Intent
import android.net.Uri
import id.jemput.transport.UrlConnectionTransport
import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode
import uniffi.jemput.JemputStore

/** The other screens against a live hub: enrolment by the QR link, services, kelurahan info,
 *  complaint with the office's answer, the no-signal hand-off both ways, and a lost key. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], qualifiers = "w320dp-h533dp-hdpi")
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class LayarLainTest : UjiAplikasi() {
    @Test
    fun layananDanInfoKelurahan() {
        val p = bukaLewatQr()
        p.ketuk("Layanan & syarat")
        p.tungguTeks("Surat Keterangan Tidak Mampu (SKTM)")
        assertTrue(p.terlihat("Surat pernyataan tidak mampu bermeterai"))
        p.foto("3-layanan")
        p.ketuk("‹ Kembali")
        p.ketuk("Info kelurahan")
        p.tungguTeks("Kelurahan ")
        p.foto("7-info-kelurahan")
        // An emergency number opens the dialler.
        val darurat = p.semua().first { it is android.widget.Button && it.isShown && (it as android.widget.Button).text.contains(": ") && it.isClickable }
        darurat.performClick()
        val dial = shadowOf(ctl!!.get()).nextStartedActivity
        assertEquals(Intent.ACTION_DIAL, dial.action)
        assertEquals("tel", dial.data!!.scheme)
    }

    @Test
    fun pengaduanDanJawabanKantor() {
        val p = bukaLewatQr()
        p.ketuk("Pengaduan & aspirasi")
        p.ketuk("+ Catat pengaduan atau aspirasi")
        p.ketuk("Pengaduan")
        p.ketik("Tentang apa", "Jalan rusak")
        p.ketik("Ceritakan singkat", "Pendek")
        p.ketik("Di mana", "Depan musala Al-Ikhlas")
        p.ketuk("Simpan")
        // Too short: shown under the field, nothing saved.
        assertTrue(p.galatDi("Ceritakan singkat") != null)
        p.ketik("Ceritakan singkat", "Jalan berlubang besar di depan musala, sudah dua motor jatuh minggu ini.")
        p.foto("6a-pengaduan-baru")
        p.ketuk("Simpan")
        p.tungguTeks("Kode tanda terima")
        val kode = p.teks().first { it.matches(Regex("[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]")) }
        p.tunggu(60_000)
        val id = hub.staf("GET", "/api/v1/staff/receipts/$kode").getString("id")
        hub.staf("POST", "/api/v1/staff/complaints/$id/response", JSONObject().put("status", "ditindaklanjuti").put("response", "Sudah dilaporkan ke Dinas PU, perbaikan dijadwalkan minggu depan."))
        p.ketuk("Selesai")
        p.ketuk("‹ Kembali")
        p.ketuk("Kirim sekarang")
        p.tunggu(60_000)
        p.ketuk("Pengaduan & aspirasi")
        p.tungguTeks("Jawaban kantor: Sudah dilaporkan ke Dinas PU")
        p.foto("6b-pengaduan-daftar")
        p.ketuk("Pengaduan: Jalan rusak")
        p.tungguTeks("Ditindaklanjuti")
        p.foto("6c-pengaduan-jawaban")
    }

    @Test
    fun kirimTanpaSinyalDuaArah() {
        val p = bukaLewatQr()
        // A colleague's phone (the real library, its own store), enrolled and recording offline.
        val (url, kode, _) = hub.petugasBaru("Pak Joko", 2, 4)
        val dir = Files.createTempDirectory("hp-rekan").toFile()
        val rekan = JemputStore.openWithKey(File(dir, "rekan.db").path, ByteArray(32) { 3 })
        rekan.setTransport(UrlConnectionTransport())
        runBlocking { rekan.enrollWithCode(url, kode, null, "HP Pak Joko") }
        val rec = rekan.recordRequest(
            RequestDraft(
                "domisili",
                Applicant("Budi Santoso", "3576021205850003", "3576020101150003", "Surabaya", "1985-05-12", Sex.LAKI_LAKI, Address("Jl. Balongsari Gg. 5 No. 2", 4u, 2u), null, false),
                listOf("ktp", "kk"), mapOf("keperluan" to "Melamar pekerjaan"), "",
            ),
            true,
        )
        val berkas = File(dir, "rekan.jemput").apply { writeBytes(rekan.exportBundle()) }
        rekan.destroy()

        p.ketuk("Kirim tanpa sinyal")
        p.ketuk("Bagikan berkas data")
        val serah = ctl!!.get().layar as LayarSerah
        assertTrue(serah.berkasTerakhir!!.length() > 0)
        val share = shadowOf(ctl!!.get()).nextStartedActivity
        assertEquals(Intent.ACTION_CHOOSER, share.action)
        // The colleague's file arrives through the document picker.
        p.ketuk("Terima berkas dari rekan")
        val pilih = shadowOf(ctl!!.get()).nextStartedActivityForResult
        shadowOf(ctl!!.get()).receiveResult(pilih.intent, Activity.RESULT_OK, Intent().setData(Uri.fromFile(berkas)))
        p.tungguTeks("Berkas rekan yang menunggu diteruskan: 1")
        p.foto("8-kirim-tanpa-sinyal")
        p.ketuk("‹ Kembali")
        p.ketuk("Kirim sekarang")
        p.tunggu(60_000)
        assertEquals("terkirim", hub.staf("GET", "/api/v1/staff/receipts/${rec.receipt}").getString("status"))
        dir.deleteRecursively()
    }

    @Test
    fun kunciHilangTidakMengosongkanData() {
        val p = bukaLewatQr()
        ctl!!.pause().stop().destroy()
        ctl = null
        Jemput.tutup()
        // The wrapped key file is gone (e.g. app data partly restored): a clear refusal, no new store.
        val app = RuntimeEnvironment.getApplication()
        assertTrue(File(app.noBackupFilesDir, "jemput.kunci").delete())
        val q = buka()
        q.tungguTeks("Data di HP ini tidak dapat dibuka.")
        q.foto("0-kunci-hilang")
        assertTrue(File(app.noBackupFilesDir, "jemput.db").length() > 0)
        p.tunggu()
    }
}
