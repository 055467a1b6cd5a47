package id.jemput.app

import android.app.job.JobInfo
import android.app.job.JobScheduler
import android.content.Context
import org.json.JSONObject
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * The app on Robolectric (SDK 34, a 480×800 hdpi screen) with the real native library through
 * JNA and a live jemput-hub: every screen is opened, photographed, and the main flows walked.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], qualifiers = "w320dp-h533dp-hdpi")
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class AlurUtamaTest : UjiAplikasi() {
    private fun daftarkan(p: Petugas) {
        val (url, kode, _) = hub.petugasBaru("Pak Darmo", 1, 1)
        p.tungguTeks("Daftarkan HP ini")
        p.foto("1-pendaftaran")
        p.ketik("Alamat hub kelurahan", url)
        p.ketik("Kode pendaftaran", kode)
        p.ketuk("Daftarkan HP ini")
        p.tungguTeks("Pak Darmo")
        assertTrue(p.terlihat("RT 001 / RW 001"))
        p.foto("1b-terdaftar")
        p.ketuk("Mulai")
        p.tunggu()
    }

    /** Records a standard SKTM request for Siti Aminah, with a mistyped NIK corrected on the way. */
    private fun catatSktm(p: Petugas): String {
        p.ketukan = 0
        p.ketuk("+ Permohonan surat baru")
        p.foto("4a-pilih-surat")
        p.ketuk("Surat Keterangan Tidak Mampu (SKTM)")
        p.foto("4b-syarat")
        p.ketuk("Semua sudah dilihat, lanjut")
        p.ketik("Nama lengkap", "Siti Aminah")
        // Typed in groups, with a wrong province code: the error shows while typing.
        p.ketik("NIK (16 angka)", "9976 0244 0590 0001")
        val salah = p.galatDi("NIK (16 angka)")
        assertNotNull("NIK dengan kode provinsi salah harus ditandai", salah)
        assertFalse("pesan tidak boleh memuat NIK", salah!!.contains("9976"))
        p.ketik("Nomor KK", "3576 0201 0115 0003")
        p.ketik("Tempat lahir", "Mojokerto")
        p.ketik("Alamat (jalan, gang, nomor)", "Jl. Balongsari Gg. 3 No. 12")
        p.foto("4c-pemohon-galat")
        p.ketik("NIK (16 angka)", "3576 0244 0590 0001")
        assertNull(p.galatDi("NIK (16 angka)"))
        // The NIK's date part fills the birth date and sex (day + 40: a woman).
        assertEquals("04-05-1990", p.isian("Tanggal lahir").text.toString())
        assertEquals("1", p.isian("RT").text.toString())
        p.foto("4d-pemohon")
        p.ketuk("Lanjut")
        p.tungguTeks("Keperluan")
        p.ketik("Keperluan", "Keringanan biaya berobat di RSUD")
        p.foto("4e-keterangan")
        p.ketuk("Lanjut")
        p.tungguTeks("Simpan permohonan")
        p.foto("4f-periksa")
        p.ketuk("Simpan permohonan")
        p.tungguTeks("Kode tanda terima")
        p.foto("4g-tanda-terima")
        assertTrue("SKTM perlu ${p.ketukan} ketukan, paling banyak 8", p.ketukan <= 8)
        println("Ketukan untuk SKTM standar: ${p.ketukan}")
        val kode = p.teks().first { it.matches(Regex("[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]")) }
        assertTrue(p.teks().any { it.contains(" — ") })
        p.ketuk("Selesai")
        return kode
    }

    private fun ubahStatus(id: String, status: String, alasan: String? = null) {
        hub.staf("POST", "/api/v1/staff/requests/$id/status", JSONObject().put("status", status).apply { if (alasan != null) put("reason", alasan) })
    }

    private fun kirim(p: Petugas) {
        p.tunggu()
        p.ketuk("Kirim sekarang")
        p.tunggu(60_000)
    }

    @Test
    fun alurUtamaDenganHubHidup() {
        val p = buka()
        daftarkan(p)
        p.tungguTeks("Kirim sekarang")
        p.foto("2-beranda-kosong")
        val kode = catatSktm(p)

        // Recording started a sync by itself; the hub has the request.
        p.tunggu(60_000)
        val diHub = hub.staf("GET", "/api/v1/staff/receipts/$kode")
        val id = diHub.getString("id")
        assertEquals("terkirim", diHub.getString("status"))
        kirim(p)
        assertTrue(p.terlihat("Semua"))

        // The same person asks for the same letter again: the duplicate warning, before saving.
        p.ketuk("+ Permohonan surat baru")
        p.ketuk("Surat Keterangan Tidak Mampu (SKTM)")
        p.ketuk("Semua sudah dilihat, lanjut")
        p.ketik("Nama lengkap", "Siti Aminah")
        p.ketik("NIK (16 angka)", "3576024405900001")
        p.ketik("Nomor KK", "3576020101150003")
        p.ketik("Tempat lahir", "Mojokerto")
        p.ketik("Alamat (jalan, gang, nomor)", "Jl. Balongsari Gg. 3 No. 12")
        p.ketuk("Lanjut")
        p.ketik("Keperluan", "Beasiswa sekolah")
        p.ketuk("Lanjut")
        p.tungguTeks("Periksa dulu:")
        p.foto("4h-peringatan-ganda")
        while (!p.terlihat("+ Permohonan surat baru")) p.ketuk("‹ Kembali")

        // The office asks for a missing document, with its reason.
        ubahStatus(id, "perlu_kelengkapan", "Surat pernyataan belum bermeterai")
        kirim(p)
        p.foto("2-beranda")
        p.ketuk("Daftar permohonan")
        p.tungguTeks("Siti Aminah")
        assertTrue(p.terlihat("Perlu kelengkapan"))
        p.foto("5a-daftar")
        p.ketuk("Siti Aminah")
        p.tungguTeks("Alasan dari kantor: Surat pernyataan belum bermeterai")
        p.foto("5b-rincian-alasan")
        p.ketuk("‹ Kembali")
        p.ketuk("‹ Kembali")

        // The office receives the document itself, processes and finishes the letter; the phone
        // learns it at the next sync and the officer hands the letter over.
        ubahStatus(id, "dilengkapi")
        ubahStatus(id, "diproses")
        ubahStatus(id, "selesai")
        kirim(p)
        p.tungguTeks("Surat siap diserahkan: 1")
        p.foto("2b-beranda-surat-siap")
        p.ketuk("Surat siap diserahkan: 1")
        p.ketuk("Siti Aminah")
        p.tungguTeks("Surat sudah diserahkan ke warga")
        p.foto("5c-rincian-siap")
        p.ketuk("Surat sudah diserahkan ke warga")
        p.tungguTeks("Diserahkan")
        p.tunggu(60_000)
        assertEquals(Status.DISERAHKAN, Jemput.buka(ctl!!.get()).permohonan(id).status)

        // Search by name and by receipt code.
        p.ketuk("‹ Kembali")
        p.ketuk("‹ Kembali")
        p.ketuk("Daftar permohonan")
        p.ketik("Cari nama atau kode tanda terima", "siti")
        assertTrue(p.terlihat("1 permohonan"))
        p.ketik("Cari nama atau kode tanda terima", kode.lowercase())
        assertTrue(p.terlihat("1 permohonan"))
        p.ketik("Cari nama atau kode tanda terima", "Budi")
        assertTrue(p.terlihat("0 permohonan"))

        // The sync job waits for any network and is persisted.
        val js = RuntimeEnvironment.getApplication().getSystemService(Context.JOB_SCHEDULER_SERVICE) as JobScheduler
        assertTrue(js.allPendingJobs.any { it.networkType == JobInfo.NETWORK_TYPE_ANY && it.isPersisted })
    }

    /**
     * The officer's own steps (document collected, letter handed over) reach the hub. (The hub
     * once refused them as `persyaratan_berubah`, comparing requirement codes in HashMap order;
     * it compares them as sets now.)
     */
    @Test
    fun langkahPetugasSampaiDiHub() {
        val p = buka()
        daftarkan(p)
        val kode = catatSktm(p)
        p.tunggu(60_000)
        val id = hub.staf("GET", "/api/v1/staff/receipts/$kode").getString("id")
        ubahStatus(id, "perlu_kelengkapan", "Surat pernyataan belum bermeterai")
        kirim(p)
        p.ketuk("Daftar permohonan")
        p.ketuk("Siti Aminah")
        p.ketuk("Dokumen kurang sudah dilengkapi")
        p.tungguTeks("Dilengkapi")
        p.tunggu(60_000)
        assertEquals("dilengkapi", hub.staf("GET", "/api/v1/staff/receipts/$kode").getString("status"))
        ubahStatus(id, "diproses")
        ubahStatus(id, "selesai")
        p.ketuk("‹ Kembali")
        p.ketuk("‹ Kembali")
        kirim(p)
        p.ketuk("Surat siap diserahkan: 1")
        p.ketuk("Siti Aminah")
        p.ketuk("Surat sudah diserahkan ke warga")
        p.tunggu(60_000)
        assertEquals("diserahkan", hub.staf("GET", "/api/v1/staff/receipts/$kode").getString("status"))
    }
}
