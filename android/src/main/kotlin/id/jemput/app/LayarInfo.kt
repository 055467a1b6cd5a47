//! Screen 7, kelurahan info (it arrives by sync): the office's profile and hours, contacts and
//! emergency numbers that call on a tap, and links.

package id.jemput.app

import android.content.Intent
import android.net.Uri
import android.widget.LinearLayout

/** The kelurahan profile. */
class LayarInfo(a: MainActivity) : LayarMuat<Kelurahan?>(a) {
    override val judul = "Info kelurahan"

    override fun muat(j: Jemput): Kelurahan? = j.kelurahan()

    override fun isi(k: LinearLayout, d: Kelurahan?) {
        if (d == null) {
            k.addView(a.teks("Info kelurahan akan muncul setelah HP ini tersambung ke kantor kelurahan sekali.", 18f))
            return
        }
        val kel: Kelurahan = d
        val nama = if (kel.name.startsWith("Kelurahan") || kel.name.startsWith("Desa")) kel.name else "Kelurahan ${kel.name}"
        k.addView(a.teks(nama, 23f, bold = true))
        k.addView(a.teks("Kecamatan ${kel.kecamatan}, ${kel.city}", 18f))
        k.addView(a.teks(kel.officeAddress, 18f))
        if (kel.officeHours.isNotBlank()) k.addView(a.teks("Jam layanan: ${kel.officeHours}", 18f))
        if (kel.emergencyNumbers.isNotEmpty()) {
            k.addView(a.teks("Nomor darurat", 19f, bold = true).apply { setPadding(0, a.dp(14), 0, 0) })
            for (c in kel.emergencyNumbers) k.addView(a.tombol("${c.label}: ${c.phone}", warna = Warna.GALAT) { telepon(c.phone) })
        }
        if (kel.contacts.isNotEmpty()) {
            k.addView(a.teks("Kontak kantor", 19f, bold = true).apply { setPadding(0, a.dp(14), 0, 0) })
            for (c in kel.contacts) k.addView(a.tombol("${c.label}: ${c.phone}") { telepon(c.phone) })
        }
        if (kel.links.isNotEmpty()) {
            k.addView(a.teks("Tautan", 19f, bold = true).apply { setPadding(0, a.dp(14), 0, 0) })
            for (l in kel.links) k.addView(a.tombol(l.label) { buka(l.url) })
        }
        if (kel.rws.isNotEmpty()) {
            k.addView(a.teks("Wilayah: ${kel.rws.size} RW, ${kel.rws.sumOf { it.rts.size }} RT", 17f, color = Warna.TEKS_PUDAR).apply { setPadding(0, a.dp(14), 0, 0) })
        }
        keamanan(k)
    }

    /** Replacing the key that seals this phone's data, when the office asks (a phone changing
     *  hands, a key that may have been copied): asked once more before it is done. */
    private fun keamanan(k: LinearLayout) {
        k.addView(a.teks("Keamanan data", 19f, bold = true).apply { setPadding(0, a.dp(14), 0, 0) })
        k.addView(a.teks("Data warga di HP ini dikunci dengan kunci pengaman yang tersimpan di HP. Ganti kunci hanya bila diminta kantor kelurahan, misalnya saat HP berpindah tangan.", 17f, color = Warna.TEKS_PUDAR))
        val hasil = a.teks("", 18f)
        val ya = a.tombol("Ya, ganti kunci sekarang", utama = true) {}
        ya.visibility = android.view.View.GONE
        ya.setOnClickListener {
            ya.visibility = android.view.View.GONE
            hasil.text = "Mengganti kunci… jangan matikan HP."
            Latar.kerjakan({ Jemput.buka(a).gantiKunci() }, { hasil.text = "Kunci belum diganti: " + pesanGalat(it) }) {
                hasil.text = "Kunci pengaman sudah diganti. Semua data tetap ada."
                hasil.gulirKeSini()
            }
        }
        k.addView(a.tombol("Ganti kunci pengaman") {
            hasil.text = "Semua data akan dikunci ulang dengan kunci baru. Data tidak hilang, tetapi jangan matikan HP selama proses."
            ya.visibility = android.view.View.VISIBLE
            hasil.gulirKeSini()
        })
        k.addView(hasil)
        k.addView(ya)
    }

    /** Opens the dialler with [nomor] (no call permission needed; the officer presses call). */
    private fun telepon(nomor: String) {
        runCatching { a.startActivity(Intent(Intent.ACTION_DIAL, Uri.parse("tel:" + nomor.filter { it.isDigit() || it == '+' }))) }
            .onFailure { a.galat("HP ini tidak dapat menelepon.") }
    }

    private fun buka(url: String) {
        runCatching { a.startActivity(Intent(Intent.ACTION_VIEW, Uri.parse(url))) }
            .onFailure { a.galat("Tautan tidak dapat dibuka di HP ini.") }
    }
}
