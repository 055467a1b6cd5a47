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
