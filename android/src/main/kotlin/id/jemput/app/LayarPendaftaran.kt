//! Screen 1, enrolment: the officer scans the QR the kelurahan office printed with the app's own
//! scanner ([LayarPindaiQr]; a camera app that opens the `jemput://enroll?...` link works too),
//! or types the hub address and the one-time code. The officer's name and scope appear when the hub accepts the phone.

package id.jemput.app

import android.os.Build
import android.text.InputType
import android.view.View
import kotlinx.coroutines.runBlocking
import uniffi.jemput.EnrolmentInfo

/** Enrolment of this phone with the kelurahan hub. */
class LayarPendaftaran(a: MainActivity, private val qr: String?) : Layar(a) {
    override val judul = "Daftarkan HP"
    private lateinit var hub: Isian
    private lateinit var kode: Isian
    private lateinit var status: android.widget.TextView

    override fun tampil(): View {
        val k = a.kolom()
        k.addView(a.teks("Selamat datang di Jemput", 22f, bold = true))
        k.addView(a.teks("Minta kode QR pendaftaran ke kantor kelurahan, lalu pindai dengan kamera.", 18f))
        k.addView(a.tombol("Pindai kode QR", utama = true) { a.buka(LayarPindaiQr(a)) })
        k.addView(a.garis())
        k.addView(a.teks("Atau ketik kode pendaftaran:", 18f, bold = true))
        hub = Isian(a, "Alamat hub kelurahan", "https://hub.kelurahan.go.id", InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_VARIATION_URI)
        kode = Isian(a, "Kode pendaftaran", "contoh: 7KQ2-MX4P", InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_CAP_CHARACTERS)
        k.addView(hub.view)
        k.addView(kode.view)
        status = a.teks("", 18f, color = Warna.TEKS_PUDAR)
        k.addView(a.tombol("Daftarkan HP ini") { daftarDenganKode() })
        k.addView(status)
        if (qr != null) daftar { it.daftarQr(qr, namaHp()) }
        return a.gulir(k)
    }

    private fun daftarDenganKode() {
        var ok = true
        if (hub.nilai.isEmpty()) { hub.tampilkan("Isi alamat hub dari kantor kelurahan."); ok = false } else hub.tampilkan(null)
        if (kode.nilai.isEmpty()) { kode.tampilkan("Isi kode pendaftaran."); ok = false } else kode.tampilkan(null)
        if (!ok) return
        val h = hub.nilai
        val c = kode.nilai
        daftar { it.daftarKode(h, c, namaHp()) }
    }

    private fun daftar(f: suspend (Jemput) -> EnrolmentInfo) {
        status.text = "Menghubungi kantor kelurahan…"
        a.kerja({ j -> runBlocking { f(j) } }) { info ->
            status.text = ""
            a.ganti(LayarTerdaftar(a, info))
            Sinkron.kirimSegera(a)
        }
    }

    private fun namaHp(): String = "${Build.MANUFACTURER} ${Build.MODEL}".trim()
}

/** After enrolment: who this phone belongs to and where they serve. */
class LayarTerdaftar(a: MainActivity, private val info: EnrolmentInfo) : Layar(a) {
    override val judul = "HP terdaftar"

    override fun tampil(): View = a.kolom().apply {
        addView(a.teks("HP ini sudah terdaftar untuk", 18f))
        addView(a.teks(info.officerName, 26f, bold = true))
        addView(a.teks("Wilayah: " + Teks.rtRw(info.rt?.toInt(), info.rw.toInt()), 20f))
        addView(a.teks("Awalan tanda terima: ${info.receiptPrefix}", 18f, color = Warna.TEKS_PUDAR))
        addView(a.tombol("Mulai", utama = true) { a.ganti(LayarBeranda(a)) })
    }
}
